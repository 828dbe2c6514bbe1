import { Controller, SetMetadata, UseInterceptors, applyDecorators, type Scope, type ScopeOptions } from '@nestjs/common';
import { SCOPE_OPTIONS_METADATA } from '../core/nest-internals';
import { DATASTAR_NAME, STAR_CONTROLLER_METADATA } from '../datastar.constants';
import { INVALID_NAME } from '../datastar.messages';
import { DatastarPageInterceptor } from '../tracker/datastar-page.interceptor';

export interface StarControllerOptions {
  /** Name in dispatch URLs (`/ds/<name>/<event>`); default from the class: `CounterController` -> `counter`. */
  name?: string;
  /** Route prefix of the controller's pages; default the name. */
  path?: string | string[];
  /** Injection scope, e.g. `Scope.REQUEST` for a fresh instance per page request and per event. */
  scope?: Scope;
  /** Durable request scope (with a `ContextIdStrategy`). */
  durable?: boolean;
}

export interface StarControllerMetadata {
  name: string;
}

/** `CounterController` -> `counter`, `UserProfileController` -> `user-profile`. */
export function controllerNameOf(className: string): string {
  return className
    .replace(/Controller$/, '')
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .replace(/([A-Z])([A-Z][a-z])/g, '$1-$2')
    .toLowerCase();
}

/**
 * A Nest controller for pages (`@Get()` + `@Render()`) whose `@OnEvent()` handlers are reachable at
 * `/<path>/<name>/<event>` with no registration anywhere.
 */
export function StarController(nameOrOptions?: string | StarControllerOptions): ClassDecorator {
  const options = typeof nameOrOptions === 'string' ? { name: nameOrOptions } : (nameOrOptions ?? {});
  return (target) => {
    const name = options.name ?? controllerNameOf(target.name);
    if (!DATASTAR_NAME.test(name)) throw new Error(INVALID_NAME('controller', name, target.name));
    // Controller() writes the scope metadata: keep what an @Injectable({ scope }) below this one set.
    const inherited: ScopeOptions | undefined = Reflect.getMetadata(SCOPE_OPTIONS_METADATA, target);
    applyDecorators(
      Controller({
        path: options.path ?? name,
        scope: options.scope ?? inherited?.scope,
        durable: options.durable ?? inherited?.durable,
      }),
      SetMetadata(STAR_CONTROLLER_METADATA, { name } satisfies StarControllerMetadata),
      UseInterceptors(DatastarPageInterceptor),
    )(target);
  };
}
