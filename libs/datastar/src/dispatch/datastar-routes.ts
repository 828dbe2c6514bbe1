import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { ExternalContextCreator, HttpAdapterHost } from '@nestjs/core';
import { DEFAULT_DISPATCH_PATH } from '../datastar.constants';
import { DATASTAR_MODULE_OPTIONS } from '../datastar.module-definition';
import type { DatastarModuleOptions } from '../interfaces/datastar-module-options.interface';
import { DatastarTemplates } from '../templates/datastar-templates.service';
import { AdapterRoutes } from './adapter-routes';
import { DatastarDispatcher } from './datastar-dispatcher.service';
import { DatastarHandlerRegistry } from './datastar-handler.registry';

/**
 * Registers `/<prefix>/<path>/:controller/:event` on the HTTP adapter: each event answers the one
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
  /** The dispatch URL prefix with the app's global prefix, e.g. `/v1/ds`. */
  basePath = `/${DEFAULT_DISPATCH_PATH}`;

  constructor(
    private readonly dispatcher: DatastarDispatcher,
    private readonly registry: DatastarHandlerRegistry,
    private readonly templates: DatastarTemplates,
    private readonly adapterHost: HttpAdapterHost,
    private readonly contextCreator: ExternalContextCreator,
    @Inject(DATASTAR_MODULE_OPTIONS) private readonly options: DatastarModuleOptions,
  ) {}

  onModuleInit(): void {
    const routes = new AdapterRoutes(this.adapterHost, this.contextCreator, this.options);
    this.basePath = routes.path(this.options.path ?? DEFAULT_DISPATCH_PATH);
    this.templates.dispatchPath = this.basePath;
    if (!routes.available) return; // an application context without HTTP
    const route = `${this.basePath === '/' ? '' : this.basePath}/:controller/:event`;
    const methodOf = (req: any) => {
      const handler = this.registry.get(req.params?.controller, req.params?.event);
      return handler && [handler.method];
    };
    routes.add(methodOf, route, (req, res, next) => {
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
