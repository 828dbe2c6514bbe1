/**
 * Every use of Nest's internals in this library, and nowhere else: imports from paths that are not
 * `@nestjs/common` or `@nestjs/core` themselves, and members Nest declares private. The library
 * runs Nest's own pipeline (guards, interceptors, pipes, exception filters) around handlers it
 * routes itself, and Nest has no public API for that. A Nest upgrade that moves or renames one of
 * these fails `nest-internals.spec.ts`, which names the internal that moved; fix it here.
 */
import { RENDER_METADATA, ROUTE_ARGS_METADATA, RouteParamtypes, SCOPE_OPTIONS_METADATA } from '@nestjs/common/internal';
import type { ExternalContextCreator, HttpAdapterHost } from '@nestjs/core';
import type { NestContainer } from '@nestjs/core/injector/container';
import {
  ExecutionContextHost, STATIC_CONTEXT,
  type ContextUtils, type GuardsContextCreator, type InstanceWrapper,
  type InterceptorsConsumer, type InterceptorsContextCreator, type PipesContextCreator,
} from '@nestjs/core/internal';
import { RouteParamsFactory } from '@nestjs/core/router/route-params-factory';
import { RouterExceptionFilters } from '@nestjs/core/router/router-exception-filters';

/** Metadata keys Nest's decorators write (`@Render()`, route parameter decorators, `@Controller({ scope })`). */
export { RENDER_METADATA, ROUTE_ARGS_METADATA, SCOPE_OPTIONS_METADATA };
/** Route parameter kinds (`@Body()`, `@Query()`...), as Nest's router tells pipeable ones apart. */
export { RouteParamtypes };
/** The context id of singletons (the default scope). */
export { STATIC_CONTEXT };
/** The `ExecutionContext` Nest's exception filters are given: `new ExecutionContextHost([req, res, next])`. */
export { ExecutionContextHost };
/** Reads `@Req()`, `@Body()`, `@Headers()`... from `{ req, res, next }`, as Nest's router does. */
export { RouteParamsFactory };
/** Nest's router exception filters (global, class and method `@UseFilters()`) for an HTTP adapter. */
export { RouterExceptionFilters };
/** What `DiscoveryService` hands out for a provider or controller. */
export type { InstanceWrapper };

/**
 * The members of `ExternalContextCreator` the handler pipeline and live guards use. The first
 * six are private in Nest; the four methods are public but undocumented.
 */
export interface ContextCreatorInternals {
  readonly container: NestContainer;
  readonly guardsContextCreator: GuardsContextCreator;
  readonly interceptorsContextCreator: InterceptorsContextCreator;
  readonly interceptorsConsumer: InterceptorsConsumer;
  readonly pipesContextCreator: PipesContextCreator;
  readonly contextUtils: ContextUtils;
  getMetadata: ExternalContextCreator['getMetadata'];
  createGuardsFn: ExternalContextCreator['createGuardsFn'];
  getParamValue: ExternalContextCreator['getParamValue'];
  transformToResult: ExternalContextCreator['transformToResult'];
}

/**
 * Each internal the library relies on, with what it must be: the spec checks every entry against
 * a real application, so keep this in step with what the code below and its callers use.
 */
export const CONTEXT_CREATOR_INTERNALS = {
  container: 'object',
  guardsContextCreator: 'object',
  interceptorsContextCreator: 'object',
  interceptorsConsumer: 'object',
  pipesContextCreator: 'object',
  contextUtils: 'object',
  getMetadata: 'function',
  createGuardsFn: 'function',
  getParamValue: 'function',
  transformToResult: 'function',
} as const satisfies Record<keyof ContextCreatorInternals, 'object' | 'function'>;

/** The methods called on the private members above. */
export const CONTEXT_CREATOR_INTERNAL_METHODS = {
  guardsContextCreator: ['create'],
  interceptorsContextCreator: ['create'],
  interceptorsConsumer: ['intercept'],
  pipesContextCreator: ['create'],
  contextUtils: ['mergeParamsMetatypes', 'createNullArray'],
} as const satisfies Partial<Record<keyof ContextCreatorInternals, readonly string[]>>;

/** `creator`, seen with the internals listed in `ContextCreatorInternals`. */
export function contextCreatorInternals(creator: ExternalContextCreator): ContextCreatorInternals {
  return creator as unknown as ContextCreatorInternals;
}

/** The app's global prefix as set (`app.setGlobalPrefix()`), untrimmed; '' when none. */
export function globalPrefixOf(creator: ExternalContextCreator): string {
  return contextCreatorInternals(creator).container?.applicationConfig?.getGlobalPrefix?.() ?? '';
}

/** Nest's router exception filters for the app `creator` belongs to, answering through `httpAdapter`. */
export function createRouterExceptionFilters(
  creator: ExternalContextCreator,
  httpAdapter: HttpAdapterHost['httpAdapter'],
): RouterExceptionFilters {
  const container = contextCreatorInternals(creator).container;
  return new RouterExceptionFilters(container, container?.applicationConfig as never, httpAdapter);
}

/** The key of the module that declares the provider or controller (what Nest's context creators take). */
export function hostModuleKey(wrapper: InstanceWrapper): string {
  return wrapper.host?.token as string;
}
