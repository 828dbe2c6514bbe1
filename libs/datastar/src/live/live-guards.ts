/** Soft navigation into a live view passes the guards its page GET would: the view's guards and the request they see. */
import type { ExternalContextCreator } from '@nestjs/core';
import { createGuardsCheck, type GuardsCheck } from '../core/handler-pipeline';
import { hostModuleKey } from '../core/nest-internals';
import { LIVE_PAGE_METHOD } from './live.constants';
import type { LiveViewDefinition } from './live-view.registry';

/** A navigation's way into a view: the request it came with (the `_nav` POST, or the event that called `ctx.navigate()`). */
export interface LiveRequest {
  req: any;
  res: any;
}

/**
 * A live view's effective guards (global `APP_GUARD`s and `useGlobalGuards()`, class and method
 * `@UseGuards()`), as Nest runs them for `GET <route>`, for soft navigation into it: the same
 * guards check as a dispatch handler's (`createGuardsCheck`), with the view's page method as the
 * handler, so `Reflector`-based guards read the view's own metadata.
 * Live views are singletons (the explorer refuses request scope, which a request-scoped global
 * guard would give them too), so the static context holds every guard.
 */
export class LiveGuards {
  /** Each view's check; null when no guard applies. */
  private readonly views = new WeakMap<LiveViewDefinition, GuardsCheck | null>();

  constructor(private readonly contextCreator: ExternalContextCreator) {}

  /** True when at least one guard runs for the view's page. */
  has(view: LiveViewDefinition): boolean {
    return this.of(view) !== null;
  }

  /**
   * Whether every guard lets the navigation in. The request they see is the target's page GET
   * (see `targetRequest`); `false` or a throw is a refusal (the full page load then lets the
   * guard answer as usual).
   */
  async allow(view: LiveViewDefinition, req: unknown, res: unknown): Promise<boolean> {
    const check = this.of(view);
    if (!check) return true;
    try {
      await check([req, res, undefined]);
      return true;
    } catch {
      return false;
    }
  }

  private of(view: LiveViewDefinition): GuardsCheck | null {
    let check = this.views.get(view);
    if (check === undefined) {
      const page = (view.instance as unknown as Record<string, (...args: unknown[]) => unknown>)[LIVE_PAGE_METHOD];
      check = createGuardsCheck(this.contextCreator, view.instance, page, hostModuleKey(view.wrapper));
      this.views.set(view, check);
    }
    return check;
  }
}

/**
 * The request as a guard of the target page would see it: the same headers, cookies, session and
 * user (prototype of the original, so what a guard sets, e.g. `req.user`, stays on this copy),
 * but the target's URL, path, query, route params and route (with the global prefix), and GET.
 * On Fastify `raw` is derived too.
 */
export function targetRequest(req: any, target: { path: string; search: string; params: Record<string, string>; route: string }): any {
  const url = target.path + target.search;
  const query = Object.fromEntries(new URLSearchParams(target.search));
  const own = (value: unknown) => ({ value, writable: true, configurable: true, enumerable: true });
  const fields: PropertyDescriptorMap = {
    url: own(url),
    originalUrl: own(url),
    path: own(target.path),
    method: own('GET'),
    query: own(query),
    params: own({ ...target.params }),
    body: own(undefined),
    routerPath: own(target.route),
  };
  // Fastify's and Express's descriptions of the matched route: the target's page route.
  if (req?.routeOptions) fields.routeOptions = own({ ...req.routeOptions, url: target.route, method: 'GET' });
  if (req?.route) fields.route = own({ ...req.route, path: target.route, methods: { get: true } });
  if (req?.raw && req.raw !== req) {
    fields.raw = own(Object.create(req.raw, { url: own(url), originalUrl: own(url), method: own('GET') }));
  }
  return Object.create(req, fields);
}
