import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { DATASTAR_SETTINGS, type DatastarSettings } from '../core/datastar-settings';
import { AdapterRoutes } from '../core/adapter-routes';
import { DatastarPaths } from '../core/datastar-paths';
import { DatastarDispatcher } from './datastar-dispatcher.service';
import { DatastarHandlerRegistry } from '../core/datastar-handler.registry';

/** A path segment that means itself on both platforms: no pattern syntax, nothing to decode. */
const PLAIN_SEGMENT = /^[A-Za-z0-9_-]+$/;

/**
 * Registers `/<prefix>/<path>/:controller/:event` on the HTTP adapter (where the platform matches
 * paths case-sensitively, each event's own path comes first, see onModuleInit): each event answers the one
 * method its `@OnEvent()` declares (405 with `Allow` for the others, 404 for unknown events), and
 * only to Datastar requests (403, see `DatastarRequestPolicy`).
 * Not a Nest controller on purpose: global guards and interceptors would then run twice per
 * event (once for a dispatch route they know nothing about, once for the real handler), and a
 * global guard reading `@Public()` from the handler would see ours. The dispatcher runs the
 * handler's full pipeline, globals included, with the handler's own ExecutionContext.
 * Module middleware (`forRoutes('*')`) still applies. Registered in onModuleInit: after Nest's
 * routes, before its 404 handler.
 */
@Injectable()
export class DatastarRoutes implements OnModuleInit {
  private readonly logger = new Logger('Datastar');
  constructor(
    private readonly dispatcher: DatastarDispatcher,
    private readonly registry: DatastarHandlerRegistry,
    private readonly routes: AdapterRoutes,
    private readonly paths: DatastarPaths,
    @Inject(DATASTAR_SETTINGS) private readonly settings: DatastarSettings,
  ) {}

  onModuleInit(): void {
    if (!this.routes.available) return; // an application context without HTTP
    if (this.settings.fastExpressRequests) this.routes.useExpressPrototypes();
    const base = this.paths.dispatch === '/' ? '' : this.paths.dispatch;
    // Each event at its own path, for its own method, first: a fixed path is found faster than a
    // pattern and leaves no params on the request (bench: dispatch, fanout heap). The pattern
    // answers the rest: another method (405), an unknown event (404), a name a path cannot spell,
    // and every event where the platform matches paths in any case (Express's default).
    for (const handler of this.routes.caseSensitive ? this.registry.all() : []) {
      if (!PLAIN_SEGMENT.test(handler.controller) || !PLAIN_SEGMENT.test(handler.event)) continue;
      const methods = [handler.method] as const;
      this.routes.add(methods, `${base}/${handler.controller}/${handler.event}`, (req, res, next) =>
        this.dispatcher.dispatchTo(handler, req, res, next), methods);
    }
    const route = `${base}/:controller/:event`;
    const methodOf = (req: any) => {
      const handler = this.registry.get(req.params?.controller, req.params?.event);
      return handler && [handler.method];
    };
    this.routes.add(methodOf, route, (req, res, next) => {
      const { controller, event } = req.params ?? {};
      return this.dispatcher.dispatch(controller, event, req, res, next);
    });
    this.logger.log(`Mapped {${route}, ${this.methodsInUse()}} Datastar dispatch`);
  }

  /** The methods the discovered events declare, for the log line: `GET|POST`. */
  private methodsInUse(): string {
    const methods = new Set(this.registry.all().map((handler) => handler.method));
    return [...methods].sort().join('|') || 'POST';
  }
}
