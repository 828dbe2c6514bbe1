/** Every discovered live view, by route: lookup of the view a path shows. */
import { Injectable, type Type } from '@nestjs/common';
import type { InstanceWrapper } from '../core/nest-internals';
import { DUPLICATE_LIVE_ROUTE } from './live.messages';
import { matchRoute, type LiveRoute } from './live-path';
import type { LiveViewCallbacks, LiveViewOptions } from './live-view.interface';

/** One discovered `@LiveView()` class. */
export interface LiveViewDefinition {
  readonly route: LiveRoute;
  readonly options: LiveViewOptions;
  readonly group: string;
  readonly stateless: boolean;
  readonly instance: LiveViewCallbacks;
  readonly metatype: Type;
  /** @internal */ readonly wrapper: InstanceWrapper;
}

/** Every live view of the app by route; soft navigation looks targets up here. */
@Injectable()
export class LiveViewRegistry {
  private readonly views: LiveViewDefinition[] = [];

  /** @internal */
  add(view: LiveViewDefinition): void {
    const existing = this.views.find((v) => v.route.pattern === view.route.pattern);
    if (existing) throw new Error(DUPLICATE_LIVE_ROUTE(view.route.pattern, existing.metatype.name, view.metatype.name));
    this.views.push(view);
    // Literal segments win over params: "/live/new" before "/live/:id".
    this.views.sort((a, b) => params(a.route) - params(b.route));
  }

  /** The view serving `path` (percent-encoded, no query) and its decoded params. */
  match(path: string): { view: LiveViewDefinition; params: Record<string, string> } | undefined {
    for (const view of this.views) {
      const params = matchRoute(view.route, path);
      if (params) return { view, params };
    }
    return undefined;
  }

  /** The view declared with this route pattern, e.g. `/live/users/:id`. */
  byRoute(pattern: string): LiveViewDefinition | undefined {
    return this.views.find((v) => v.route.pattern === pattern);
  }

  /** Route patterns of every live view, e.g. `['/live/a', '/live/users/:id']`. */
  list(): string[] {
    return this.views.map((v) => v.route.pattern);
  }

  get size(): number {
    return this.views.length;
  }
}

function params(route: LiveRoute): number {
  return route.segments.filter((s) => s.startsWith(':')).length;
}
