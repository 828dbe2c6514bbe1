import { MethodNotAllowedException } from '@nestjs/common';
import type { ExternalContextCreator } from '@nestjs/core';
import { HttpAdapterHost } from '@nestjs/core';
import { ExecutionContextHost } from '@nestjs/core/internal';
import { RouterExceptionFilters } from '@nestjs/core/router/router-exception-filters';
import { INVALID_PATH } from '../datastar.messages';

export type RouteMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';
type Run = (req: any, res: any, next?: unknown) => Promise<void>;

/**
 * Routes registered straight on the HTTP adapter (dispatch, live views): not Nest controllers, so
 * global enhancers do not run twice; errors outside any handler still go through the global filters.
 */
export class AdapterRoutes {
  /** The app's global prefix, without slashes ('' when none). */
  readonly globalPrefix: string;
  private readonly adapter?: any;
  private readonly exceptions?: { next(error: unknown, host: ExecutionContextHost): void };

  constructor(adapterHost: HttpAdapterHost | undefined, contextCreator: ExternalContextCreator) {
    const container = (contextCreator as any).container;
    const config = container?.applicationConfig;
    this.globalPrefix = normalizePath(config?.getGlobalPrefix?.() ?? '');
    this.adapter = adapterHost?.httpAdapter;
    if (this.adapter) {
      this.exceptions = new RouterExceptionFilters(container, config, this.adapter).create({}, () => undefined, undefined as any);
    }
  }

  /** False in an application context without HTTP. */
  get available(): boolean {
    return this.adapter !== undefined;
  }

  /** `/<global prefix>/<path>`. */
  path(...segments: string[]): string {
    return `/${[this.globalPrefix, ...segments.map(normalizePath)].filter(Boolean).join('/')}`;
  }

  add(methods: readonly RouteMethod[], route: string, run: Run): void {
    const allow = methods.map((m) => m.toUpperCase()).join(', ');
    for (const method of methods) {
      this.adapter[method](route, (req: any, res: any, next?: unknown) => {
        // Both platforms route HEAD to GET routes: it would run the handler, and a stream's response
        // would never end, wedging the keep-alive connection. No Datastar client sends HEAD.
        if (req.method === 'HEAD') {
          (res.raw ?? res).setHeader('Allow', allow);
          return this.fail(new MethodNotAllowedException(), req, res, next);
        }
        run(req, res, next).catch((error) => this.fail(error, req, res, next));
      });
    }
  }

  private fail(error: unknown, req: any, res: any, next?: unknown): void {
    this.exceptions!.next(error, new ExecutionContextHost([req, res, next]));
  }
}

export function normalizePath(path: string): string {
  const trimmed = path.replace(/^\/+|\/+$/g, '');
  if (!/^[A-Za-z0-9_\-/.]*$/.test(trimmed)) throw new Error(INVALID_PATH(path));
  return trimmed;
}
