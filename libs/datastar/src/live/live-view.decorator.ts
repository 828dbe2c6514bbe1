/** `@LiveView()`: a controller class becomes a live view with a page GET and an event POST route. */
import { Controller, Get, Post, Req, Res, SetMetadata, applyDecorators } from '@nestjs/common';
import { LIVE_EVENT_METHOD, LIVE_PAGE_METHOD, LIVE_VIEW_METADATA } from './live.constants';
import { INVALID_LIVE_ROUTE, LIVE_VIEW_NOT_BOUND } from './live.messages';
import { compileRoute } from './live-path';
import type { LiveViewOptions } from './live-view.interface';

export interface LiveViewMetadata {
  route: string;
  options: LiveViewOptions;
}

/** What the generated routes of a view call: the live endpoints, bound per app at discovery. */
export interface LiveViewRoutes {
  page(req: unknown, res: unknown): Promise<void>;
  event(req: unknown, res: unknown): Promise<void>;
}

const bound = new WeakMap<object, LiveViewRoutes>();

/** @internal Connects a discovered view instance to its app's runtime. */
export function bindLiveView(instance: object, routes: LiveViewRoutes): void {
  bound.set(instance, routes);
}

function routesOf(instance: object): LiveViewRoutes {
  const routes = bound.get(instance);
  if (!routes) throw new Error(LIVE_VIEW_NOT_BOUND(instance?.constructor?.name ?? 'This class'));
  return routes;
}

/**
 * A live view (LiveView-style): `GET <route>` mounts and renders the page, `POST <route>/_event/:event`
 * takes its events. The class is a Nest controller (list it in `controllers`; guards and
 * interceptors on it apply) with the callbacks of `LiveViewCallbacks`.
 * @example @LiveView('/live/counter', { template: 'live/counter' }) export class CounterLive { mount(p, s, ctx) { ctx.signal('count', 0) } }
 */
export function LiveView(route: string, options: LiveViewOptions = {}): ClassDecorator {
  return (target) => {
    const compiled = compileRoute(route);
    if (!compiled) throw new Error(INVALID_LIVE_ROUTE(String(route), target.name));
    const proto = target.prototype;
    defineRoute(proto, LIVE_PAGE_METHOD, function (this: object, req: unknown, res: unknown) {
      return routesOf(this).page(req, res);
    }, Get());
    defineRoute(proto, LIVE_EVENT_METHOD, function (this: object, req: unknown, res: unknown) {
      return routesOf(this).event(req, res);
    }, Post('_event/:event'));
    applyDecorators(
      Controller(compiled.pattern),
      SetMetadata(LIVE_VIEW_METADATA, { route: compiled.pattern, options } satisfies LiveViewMetadata),
    )(target);
  };
}

function defineRoute(proto: object, name: string, handler: Function, method: MethodDecorator): void {
  Object.defineProperty(handler, 'name', { value: name });
  Object.defineProperty(proto, name, { value: handler, writable: true, configurable: true, enumerable: false });
  const descriptor = Object.getOwnPropertyDescriptor(proto, name)!;
  method(proto, name, descriptor);
  Req()(proto, name, 0);
  Res()(proto, name, 1);
}
