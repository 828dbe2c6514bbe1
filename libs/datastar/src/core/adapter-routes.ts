import { Injectable, MethodNotAllowedException } from '@nestjs/common';
import { ExternalContextCreator, HttpAdapterHost } from '@nestjs/core';
import { DATASTAR_EVENT_METHODS } from '../datastar.constants';
import { METHOD_NOT_ALLOWED } from '../datastar.messages';
import type { DatastarEventMethod } from '../interfaces/on-event-options.interface';
import { DatastarRequestPolicy } from './datastar-request.policy';
import { createWithExpressPrototypes } from './express-shapes';
import { ExecutionContextHost, createRouterExceptionFilters, type RouterExceptionFilters } from './nest-internals';

/** A route's work: a promise only when it did not complete at once. */
type Run = (req: any, res: any, next?: unknown) => void | Promise<void>;

/**
 * The methods a route answers: fixed, or read from the request (the dispatch route: its event's
 * own method; undefined when there is no such event, which the route then answers with 404).
 */
export type RouteMethods = readonly DatastarEventMethod[] | ((req: any) => readonly DatastarEventMethod[] | undefined);

/**
 * Routes registered straight on the HTTP adapter (dispatch, live views): not Nest controllers, so
 * global enhancers do not run twice; errors outside any handler still go through the global filters.
 * Every one is a Datastar endpoint: the request policy (403) and the method (405) are checked here,
 * before the route runs anything, for all of them at once.
 */
@Injectable()
export class AdapterRoutes {
  private filters?: RouterExceptionFilters;
  private globalExceptions?: { next(error: unknown, host: ExecutionContextHost): void };

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly contextCreator: ExternalContextCreator,
    private readonly policy: DatastarRequestPolicy,
  ) {}

  /** False in an application context without HTTP. */
  get available(): boolean {
    return this.adapterHost.httpAdapter !== undefined;
  }

  /**
   * Whether the platform matches fixed paths only as written (Fastify's default; Express with
   * `case sensitive routing`): then a fixed path answers what a pattern with the same values would.
   */
  get caseSensitive(): boolean {
    const instance = this.adapterHost.httpAdapter?.getInstance?.();
    // Express: its router's own setting (read from `case sensitive routing` when it was made).
    if (typeof instance?.enabled === 'function') return instance.router?.caseSensitive === true;
    const config = instance?.initialConfig;
    return config !== undefined && config.caseSensitive !== false && config.routerOptions?.caseSensitive !== false;
  }

  /**
   * On Express: requests and responses created with the app's prototypes (see
   * `createWithExpressPrototypes`). False when the platform or its server is something else.
   */
  useExpressPrototypes(): boolean {
    const adapter = this.adapterHost.httpAdapter;
    return createWithExpressPrototypes(adapter?.getHttpServer?.(), adapter?.getInstance?.());
  }

  /** The app's exception filters, for a handler's own (`create(instance, callback, module)`) or the global ones. */
  get exceptionFilters(): RouterExceptionFilters {
    return (this.filters ??= createRouterExceptionFilters(this.contextCreator, this.adapterHost.httpAdapter));
  }

  /**
   * Registered for every method (or the ones in `registerFor`, when another route answers the
   * others), so that a wrong one gets 405 with `Allow` rather than 404. Both
   * platforms also route HEAD to GET routes: no route declares HEAD, so it gets 405 too (run, it
   * would start the handler, and a stream's response would never end, wedging the connection).
   */
  add(methods: RouteMethods, route: string, run: Run, registerFor: readonly DatastarEventMethod[] = DATASTAR_EVENT_METHODS): void {
    const adapter: any = this.adapterHost.httpAdapter;
    for (const method of registerFor) {
      adapter[method.toLowerCase()](route, (req: any, res: any, next?: unknown) => {
        let done: void | Promise<void>;
        try {
          this.policy.check(req);
          const allowed = typeof methods === 'function' ? methods(req) : methods;
          if (allowed && !allowed.includes(req.method as DatastarEventMethod)) {
            const allow = allowed.join(', ');
            (res.raw ?? res).setHeader('Allow', allow);
            throw new MethodNotAllowedException(METHOD_NOT_ALLOWED(String(req.method), allow));
          }
          done = run(req, res, next);
        } catch (error) {
          return this.fail(error, req, res, next);
        }
        done?.catch((error) => this.fail(error, req, res, next));
      });
    }
  }

  private fail(error: unknown, req: any, res: any, next?: unknown): void {
    this.globalExceptions ??= this.exceptionFilters.create({}, () => undefined, undefined as never);
    this.globalExceptions.next(error, new ExecutionContextHost([req, res, next]));
  }
}
