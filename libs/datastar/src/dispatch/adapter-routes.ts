import { MethodNotAllowedException } from '@nestjs/common';
import type { ExternalContextCreator } from '@nestjs/core';
import { HttpAdapterHost } from '@nestjs/core';
import { ExecutionContextHost, createRouterExceptionFilters, globalPrefixOf } from '../core/nest-internals';
import { INVALID_PATH, METHOD_NOT_ALLOWED } from '../datastar.messages';
import type { DatastarEventMethod } from '../decorators/on-event.decorator';
import type { DatastarModuleOptions } from '../interfaces/datastar-module-options.interface';
import { DatastarRequestPolicy } from './datastar-request.policy';

type Run = (req: any, res: any, next?: unknown) => Promise<void>;

/**
 * The methods a route answers: fixed, or read from the request (the dispatch route: its event's
 * own method; undefined when there is no such event, which the route then answers with 404).
 */
export type RouteMethods = readonly DatastarEventMethod[] | ((req: any) => readonly DatastarEventMethod[] | undefined);

const ADAPTER_METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

/**
 * Routes registered straight on the HTTP adapter (dispatch, live views): not Nest controllers, so
 * global enhancers do not run twice; errors outside any handler still go through the global filters.
 * Every one is a Datastar endpoint: the request policy (403) and the method (405) are checked here,
 * before the route runs anything, for all of them at once.
 */
export class AdapterRoutes {
  /** The app's global prefix, without slashes ('' when none). */
  readonly globalPrefix: string;
  private readonly adapter?: any;
  private readonly exceptions?: { next(error: unknown, host: ExecutionContextHost): void };
  private readonly policy: DatastarRequestPolicy;

  constructor(
    adapterHost: HttpAdapterHost | undefined,
    contextCreator: ExternalContextCreator,
    options: Pick<DatastarModuleOptions, 'allowCrossSite'>,
  ) {
    this.policy = new DatastarRequestPolicy(options);
    this.globalPrefix = normalizePath(globalPrefixOf(contextCreator));
    this.adapter = adapterHost?.httpAdapter;
    if (this.adapter) {
      this.exceptions = createRouterExceptionFilters(contextCreator, this.adapter).create({}, () => undefined, undefined);
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

  /**
   * Registered for every method, so that a wrong one gets 405 with `Allow` rather than 404. Both
   * platforms also route HEAD to GET routes: no route declares HEAD, so it gets 405 too (run, it
   * would start the handler, and a stream's response would never end, wedging the connection).
   */
  add(methods: RouteMethods, route: string, run: Run): void {
    for (const method of ADAPTER_METHODS) {
      this.adapter[method](route, (req: any, res: any, next?: unknown) => {
        try {
          this.policy.check(req);
          const allowed = typeof methods === 'function' ? methods(req) : methods;
          if (allowed && !allowed.includes(req.method as DatastarEventMethod)) {
            const allow = allowed.join(', ');
            (res.raw ?? res).setHeader('Allow', allow);
            throw new MethodNotAllowedException(METHOD_NOT_ALLOWED(String(req.method), allow));
          }
        } catch (error) {
          return this.fail(error, req, res, next);
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
