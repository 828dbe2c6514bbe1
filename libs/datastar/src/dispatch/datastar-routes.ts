import { Inject, Injectable, Logger, MethodNotAllowedException, type OnModuleInit } from '@nestjs/common';
import { ExternalContextCreator, HttpAdapterHost } from '@nestjs/core';
import { ExecutionContextHost } from '@nestjs/core/internal';
import { RouterExceptionFilters } from '@nestjs/core/router/router-exception-filters';
import { DEFAULT_DISPATCH_PATH } from '../datastar.constants';
import { DATASTAR_MODULE_OPTIONS } from '../datastar.module-definition';
import { INVALID_PATH } from '../datastar.messages';
import type { DatastarModuleOptions } from '../interfaces/datastar-module-options.interface';
import { DatastarTemplates } from '../templates/datastar-templates.service';
import { DatastarDispatcher } from './datastar-dispatcher.service';

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

/**
 * Registers `GET|POST|PUT|PATCH|DELETE /<prefix>/<path>/:controller/:event` on the HTTP adapter.
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
    private readonly templates: DatastarTemplates,
    private readonly adapterHost: HttpAdapterHost,
    private readonly contextCreator: ExternalContextCreator,
    @Inject(DATASTAR_MODULE_OPTIONS) private readonly options: DatastarModuleOptions,
  ) {}

  onModuleInit(): void {
    const container = (this.contextCreator as any).container;
    const config = container?.applicationConfig;
    const path = normalizePath(this.options.path ?? DEFAULT_DISPATCH_PATH);
    const prefix = normalizePath(config?.getGlobalPrefix?.() ?? '');
    this.basePath = `/${[prefix, path].filter(Boolean).join('/')}`;
    this.templates.dispatchPath = this.basePath;
    const adapter = this.adapterHost?.httpAdapter;
    if (!adapter) return; // an application context without HTTP
    // Errors outside any handler (404 for an unknown event) go through the global filters.
    const exceptions = new RouterExceptionFilters(container, config, adapter).create({}, () => undefined, undefined as any);
    const route = `${this.basePath === '/' ? '' : this.basePath}/:controller/:event`;
    for (const method of METHODS) {
      (adapter as any)[method](route, (req: any, res: any, next?: unknown) => {
        // Both platforms route HEAD to GET routes: it would run the handler, and a stream's response
        // would never end, wedging the keep-alive connection. No Datastar client sends HEAD.
        if (req.method === 'HEAD') {
          (res.raw ?? res).setHeader('Allow', 'GET, POST, PUT, PATCH, DELETE');
          return exceptions.next(new MethodNotAllowedException(), new ExecutionContextHost([req, res, next]));
        }
        const { controller, event } = req.params ?? {};
        this.dispatcher.dispatch(controller, event, req, res, next).catch((error) => {
          exceptions.next(error, new ExecutionContextHost([req, res, next]));
        });
      });
    }
    this.logger.log(`Mapped {${route}, GET|POST|PUT|PATCH|DELETE} Datastar dispatch`);
  }
}

function normalizePath(path: string): string {
  const trimmed = path.replace(/^\/+|\/+$/g, '');
  if (!/^[A-Za-z0-9_\-/.]*$/.test(trimmed)) throw new Error(INVALID_PATH(path));
  return trimmed;
}
