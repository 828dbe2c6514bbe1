import type { PipeTransform } from '@nestjs/common';
import type { ContextId, ExternalContextCreator } from '@nestjs/core';
import {
  ROUTE_ARGS_METADATA, RouteParamtypes, STATIC_CONTEXT, contextCreatorInternals,
  type ContextCreatorInternals, type RouteParamsFactory,
} from './nest-internals';

/** A controller method's Nest pipeline around a callback; call it with `[req, res, next]`. */
export interface HandlerPipeline {
  (...args: unknown[]): Promise<unknown>;
  /**
   * Only when nothing of Nest's runs around the callback (no guard, interceptor or pipe): the
   * callback's arguments for a call, resolved as the pipeline resolves them, without an async hop
   * unless a parameter's value is a promise. The caller then calls the callback itself.
   */
  readonly direct?: (args: unknown[]) => unknown[] | Promise<unknown[]>;
}

/**
 * The Nest pipeline a controller method declares (global, class and method guards, interceptors
 * and pipes), around `callback`. This is `ExternalContextCreator.create()` with the host module
 * given explicitly: its own lookup searches providers only, and a controller is not one, so the
 * controller's guards would silently be skipped. Exception filters are applied by the caller.
 */
export function createHandlerPipeline(
  creator: ExternalContextCreator,
  instance: object,
  callback: (...args: unknown[]) => unknown,
  methodName: string,
  moduleKey: string,
  paramsFactory: RouteParamsFactory,
  contextId: ContextId = STATIC_CONTEXT,
  inquirerId?: string,
  skipInterceptor: (interceptor: unknown) => boolean = () => false,
): HandlerPipeline {
  const c = contextCreatorInternals(creator);
  // ExternalContextCreator hands a params factory the call's arguments as an array ([req, res, next]),
  // RouteParamsFactory reads `{ req, res, next }`: without this, @Req(), @Headers(), @Body()... get nothing.
  const httpParams = {
    exchangeKeyForValue: (key: number, data: any, [req, res, next]: any[]) =>
      paramsFactory.exchangeKeyForValue(key, data, { req, res, next }),
  };
  const { argsLength, paramtypes, getParamsMetadata } = c.getMetadata(instance, methodName, ROUTE_ARGS_METADATA, httpParams, 'http');
  const pipes = c.pipesContextCreator.create(instance, callback, moduleKey, contextId, inquirerId);
  // Any interceptor at all makes Nest build an RxJS chain per call (bench: dispatch profile), so
  // the caller may drop those that would only step aside.
  const interceptors = c.interceptorsContextCreator
    .create(instance, callback, moduleKey, contextId, inquirerId)
    .filter((interceptor: unknown) => !skipInterceptor(interceptor));
  const paramsMetadata = getParamsMetadata(moduleKey, contextId, inquirerId);
  const paramsOptions = paramsMetadata ? c.contextUtils.mergeParamsMetatypes(paramsMetadata, paramtypes) : [];
  const canActivate = createGuardsCheck(creator, instance, callback, moduleKey, contextId, inquirerId);
  const applyPipes = createPipesFn(c, pipes, paramsOptions);

  const handler = (resolved: unknown[], ...args: unknown[]) => async () => {
    if (!applyPipes) return callback.apply(instance, args);
    await applyPipes(resolved, ...args);
    return callback.apply(instance, resolved);
  };
  const run = async (...args: unknown[]) => {
    const resolved = c.contextUtils.createNullArray(argsLength);
    if (canActivate) await canActivate(args);
    const next = handler(resolved, ...args);
    // Without interceptors Nest's consumer only calls next(): skip its extra async hop.
    const result = interceptors.length
      ? await c.interceptorsConsumer.intercept(interceptors, args, instance, callback, next, 'http')
      : await next();
    return c.transformToResult(result);
  };
  const bare = !canActivate && !interceptors.length && !pipes.length && paramsOptions.every((param: any) => !param.pipes?.length);
  if (!bare) return run;
  return Object.assign(run, { direct: createDirectParams(c, argsLength, paramsOptions) });
}

/**
 * What `createPipesFn` resolves when there are no pipes, as a plain loop: each parameter's value,
 * pipeable ones awaited (only when they are promises).
 */
function createDirectParams(c: ContextCreatorInternals, argsLength: number, paramsOptions: any[]) {
  if (!paramsOptions.length) return (args: unknown[]) => args;
  const params = paramsOptions.map(({ index, extractValue, type }) => ({ index, extractValue, pipeable: PIPEABLE.has(type) || typeof type === 'string' }));
  return (args: unknown[]): unknown[] | Promise<unknown[]> => {
    const resolved = c.contextUtils.createNullArray(argsLength);
    let pending: Array<Promise<unknown>> | undefined;
    for (const { index, extractValue, pipeable } of params) {
      const value = extractValue(...args);
      if (pipeable && isThenable(value)) (pending ??= []).push(Promise.resolve(value).then((settled) => (resolved[index] = settled)));
      else resolved[index] = value;
    }
    return pending ? Promise.all(pending).then(() => resolved) : resolved;
  };
}

/** What `await` would wait for: a promise or any object with a `then` method. */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && (typeof value === 'object' || typeof value === 'function') && typeof (value as any).then === 'function';
}

/** Runs a method's guards on the call's arguments (`[req, res, next]`); throws when one refuses. */
export type GuardsCheck = (args: unknown[]) => Promise<void>;

/**
 * The guards Nest runs for a controller method (global, class and method ones), as one check that
 * throws `ForbiddenException` when a guard says no (or what the guard threw); null when no guard
 * applies. Dispatch handlers and soft navigation into live views both use it.
 */
export function createGuardsCheck(
  creator: ExternalContextCreator,
  instance: object,
  callback: (...args: unknown[]) => unknown,
  moduleKey: string,
  contextId: ContextId = STATIC_CONTEXT,
  inquirerId?: string,
): GuardsCheck | null {
  const c = contextCreatorInternals(creator);
  const guards = c.guardsContextCreator.create(instance, callback, moduleKey, contextId, inquirerId);
  return c.createGuardsFn(guards, instance, callback, 'http') as GuardsCheck | null;
}

/** Route param types Nest runs pipes on (RouterExecutionContext.isPipeable); custom ones are strings. */
const PIPEABLE = new Set<unknown>([
  RouteParamtypes.BODY, RouteParamtypes.RAW_BODY, RouteParamtypes.QUERY, RouteParamtypes.PARAM,
  RouteParamtypes.FILE, RouteParamtypes.FILES, RouteParamtypes.COOKIES, RouteParamtypes.SIGNED_COOKIES,
]);

/**
 * Resolves parameters as Nest's router does: pipes (and awaiting) only for pipeable ones.
 * ExternalContextCreator awaits every value, and Fastify's reply is a thenable that settles when
 * the response is sent, so `@Res()` would wait for itself for ever.
 */
function createPipesFn(c: ContextCreatorInternals, pipes: PipeTransform[], paramsOptions: any[]) {
  if (!paramsOptions.length) return null;
  const params = paramsOptions.map(({ index, extractValue, type, data, metatype, pipes: own, schema }) => {
    const pipeable = PIPEABLE.has(type) || typeof type === 'string';
    return { index, extractValue, pipeable, metadata: { metatype, type, data, schema }, pipes: pipeable ? pipes.concat(own) : [] };
  });
  return async (resolved: unknown[], ...args: unknown[]) => {
    await Promise.all(params.map(async (param) => {
      const value = param.extractValue(...args);
      resolved[param.index] = param.pipeable ? await c.getParamValue(value, param.metadata, param.pipes) : value;
    }));
  };
}
