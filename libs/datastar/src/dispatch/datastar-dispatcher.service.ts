import { Inject, Injectable, Logger, NotFoundException } from '@nestjs/common';
import { ContextIdFactory, ExternalContextCreator, ModuleRef } from '@nestjs/core';
import {
  ExecutionContextHost, RouteParamsFactory, hostModuleKey,
} from '../core/nest-internals';
import { AdapterRoutes } from '../core/adapter-routes';
import { DATASTAR_SETTINGS, type DatastarSettings } from '../core/datastar-settings';
import { PAGE_ERROR_KEY } from '../datastar.constants';
import { EVENT_FAILED, EVENT_REJECTED, UNKNOWN_EVENT } from '../datastar.messages';
import { failureEvent, failureText, logFailure, rejectionOf } from '../datastar.errors';
import type { SignalsParamMetadata } from '../interfaces/signals-param-metadata.interface';
import { patchSignals, type Signals, type SseWriter } from '../protocol';
import { isEventLike, isEventSource, startEvents, type EventSource, type PipeHooks } from '../streams/pipe-events';
import { StreamRegistryService } from '../streams/stream-registry.service';
import { DatastarContext, datastarStorage } from '../core/request-context';
import { DatastarPageInterceptor } from '../tracker/datastar-page.interceptor';
import { SignalTracker } from '../tracker/signal-tracker.service';
import { DatastarHandlerRegistry, type DatastarHandler } from '../core/datastar-handler.registry';
import { createHandlerPipeline, isThenable, type HandlerPipeline } from '../core/handler-pipeline';
import { signalsOf } from '../core/request-signals';
import { isDtoType, validateSignalsNow, type SignalsValidation, type ValidationErrors } from './signals-validation';

interface Compiled {
  run: HandlerPipeline;
  exceptions: { next(error: unknown, host: ExecutionContextHost): void };
  /** The handler's method, on its instance: what `run` ends in. */
  call: (args: unknown[]) => void | Promise<void>;
}

/**
 * Runs one Datastar event: lookup (404) -> the handler's Nest pipeline (guards, interceptors,
 * pipes) -> signals read and validated -> SSE opened -> handler -> one flush -> end (or stream).
 * Nothing is written before the pipeline and validation passed, so they still answer plain 4xx.
 */
@Injectable()
export class DatastarDispatcher {
  private readonly logger = new Logger('Datastar');
  private readonly compiled = new WeakMap<DatastarHandler, Compiled>();
  private readonly paramsFactory = new RouteParamsFactory();

  constructor(
    private readonly registry: DatastarHandlerRegistry,
    private readonly tracker: SignalTracker,
    private readonly streams: StreamRegistryService,
    private readonly contextCreator: ExternalContextCreator,
    private readonly routes: AdapterRoutes,
    private readonly moduleRef: ModuleRef,
    @Inject(DATASTAR_SETTINGS) private readonly settings: DatastarSettings,
  ) {}

  /**
   * Most events complete without an async hop (no guard, interceptor or pipe, signals parsed
   * already, a compiled DTO, a handler that returns at once): then nothing is returned. Each
   * promise costs a turn, and on Node 20 AsyncLocalStorage's promise hooks (bench: dispatch profile).
   */
  dispatch(controller: string, event: string, req: any, res: any, next?: unknown): void | Promise<void> {
    const handler = this.registry.get(controller, event);
    if (!handler) throw new NotFoundException(UNKNOWN_EVENT(controller, event));
    return this.dispatchTo(handler, req, res, next);
  }

  /** `dispatch` for a handler its route knows already. */
  dispatchTo(handler: DatastarHandler, req: any, res: any, next?: unknown): void | Promise<void> {
    const ctx = new DatastarContext('dispatch', req, res, handler.controller);
    ctx.readSignals = this.settings.readSignals;
    return datastarStorage.run(ctx, () => {
      if (handler.wrapper.isDependencyTreeStatic()) return this.run(ctx, handler, this.compileStatic(handler), next);
      return this.compileForRequest(handler, req).then((compiled) => this.run(ctx, handler, compiled, next));
    });
  }

  private run(ctx: DatastarContext, handler: DatastarHandler, compiled: Compiled, next: unknown): void | Promise<void> {
    const { req, res } = ctx;
    const failed = (error: unknown) => {
      if (ctx.writer) this.fail(ctx, handler, error);
      else compiled.exceptions.next(error, new ExecutionContextHost([req, res, next]));
    };
    try {
      const direct = compiled.run.direct;
      let done: unknown;
      if (!direct) {
        done = compiled.run(req, res, next);
      } else {
        const args = direct([req, res, next]);
        done = args instanceof Promise ? args.then(compiled.call) : compiled.call(args);
      }
      if (done instanceof Promise) return done.then(undefined, failed);
    } catch (error) {
      failed(error);
    }
  }

  private compileStatic(handler: DatastarHandler): Compiled {
    let compiled = this.compiled.get(handler);
    if (!compiled) {
      compiled = this.compile(handler, handler.wrapper.instance);
      this.compiled.set(handler, compiled);
    }
    return compiled;
  }

  /** Request-scoped controllers (or ones depending on request-scoped providers): resolved per request. */
  private async compileForRequest(handler: DatastarHandler, req: any): Promise<Compiled> {
    const contextId = ContextIdFactory.getByRequest(req);
    this.moduleRef.registerRequestByContextId(req, contextId);
    const instance = await this.moduleRef.resolve(handler.metatype, contextId, { strict: false });
    return this.compile(handler, instance, contextId);
  }

  private compile(handler: DatastarHandler, instance: any, contextId?: ReturnType<typeof ContextIdFactory.create>): Compiled {
    const original: Function = instance[handler.methodName];
    const dtos = handler.signalsParams.filter((param) => isDtoType(handler.paramTypes[param.index]));
    const scope = handler.streamScope ?? `${handler.controller}/${handler.event}`;
    const call = (args: unknown[]) => this.invoke(handler, scope, dtos, instance, original, handler.hasRouteArgs ? args : []);
    // Nest reads guards, interceptors and filters from the callback: give ours the method's metadata.
    const callback = async function (this: unknown, ...args: unknown[]) {
      return call(args);
    };
    for (const key of Reflect.getMetadataKeys(original)) {
      Reflect.defineMetadata(key, Reflect.getMetadata(key, original), callback);
    }
    Object.defineProperty(callback, 'name', { value: handler.methodName });
    const moduleKey = hostModuleKey(handler.wrapper);
    const run = createHandlerPipeline(
      this.contextCreator, instance, callback, handler.methodName, moduleKey, this.paramsFactory, contextId, undefined,
      // @StarController() puts the page interceptor on the class; it steps aside for events anyway.
      (interceptor) => interceptor instanceof DatastarPageInterceptor,
    );
    const exceptions = this.routes.exceptionFilters.create(instance, callback as any, moduleKey, contextId);
    return { run, exceptions, call };
  }

  /**
   * Inside the pipeline, one step each: read the signals, validate the `@Signals()` DTOs, open the
   * stream (invalid signals: answer their errors), clear the errors the page shows, run the handler,
   * answer. `scope`: where the stream is counted; `dtos`: the handler's `@Signals()` parameters
   * typed with a DTO class. Each step awaits only what is a promise.
   */
  private invoke(
    handler: DatastarHandler, scope: string, dtos: SignalsParamMetadata[], instance: unknown, method: Function, args: unknown[],
  ): void | Promise<void> {
    const ctx = datastarStorage.getStore()!;
    const signals = signalsOf(ctx.req) as Signals | Promise<Signals>;
    if (signals instanceof Promise) return signals.then((read) => this.validateAndRun(ctx, handler, scope, dtos, instance, method, args, read));
    return this.validateAndRun(ctx, handler, scope, dtos, instance, method, args, signals);
  }

  private validateAndRun(
    ctx: DatastarContext, handler: DatastarHandler, scope: string, dtos: SignalsParamMetadata[],
    instance: unknown, method: Function, args: unknown[], signals: Signals,
  ): void | Promise<void> {
    ctx.requestSignals = signals;
    if (!dtos.length) return this.runHandler(ctx, handler, scope, instance, method, args, signals, false);
    const errors = this.validate(handler, dtos, signals, args);
    if (errors instanceof Promise) return errors.then((found) => this.runHandler(ctx, handler, scope, instance, method, args, signals, true, found));
    return this.runHandler(ctx, handler, scope, instance, method, args, signals, true, errors);
  }

  private runHandler(
    ctx: DatastarContext, handler: DatastarHandler, scope: string, instance: unknown, method: Function, args: unknown[],
    signals: Signals, validated: boolean, errors?: ValidationErrors,
  ): void | Promise<void> {
    const writer = this.open(ctx, scope);
    if (errors) return this.answerInvalid(writer, errors);
    this.clearShownErrors(ctx, signals, validated);
    if (handler.streamScope !== undefined) this.streams.startStream(handler.streamScope);
    let result: unknown;
    try {
      result = method.apply(instance, args);
    } catch (error) {
      return this.fail(ctx, handler, error);
    }
    if (!isThenable(result)) return this.answer(ctx, handler, result);
    return Promise.resolve(result).then(
      (value) => this.answer(ctx, handler, value),
      (error) => this.fail(ctx, handler, error),
    );
  }

  /** Puts each valid DTO into `args`; the errors of the invalid ones, shaped like the signals. */
  private validate(
    handler: DatastarHandler, dtos: SignalsParamMetadata[], signals: Signals, args: unknown[], from = 0, found?: ValidationErrors,
  ): ValidationErrors | undefined | Promise<ValidationErrors | undefined> {
    let errors = found;
    for (let i = from; i < dtos.length; i++) {
      const { index, key } = dtos[i];
      const type = handler.paramTypes[index] as new () => object;
      const result = validateSignalsNow(type, key === undefined ? signals : signals[key], this.settings.validation);
      const take = (checked: SignalsValidation) => {
        if (checked.errors) errors = { ...errors, ...(key === undefined ? checked.errors : { [key]: checked.errors }) };
        else args[index] = checked.value;
      };
      // A DTO the compiler does not know goes through class-validator, asynchronously.
      if (result instanceof Promise) return result.then((checked) => (take(checked), this.validate(handler, dtos, signals, args, i + 1, errors)));
      take(result);
    }
    return errors;
  }

  private open(ctx: DatastarContext, scope: string): SseWriter {
    const writer = (ctx.writer = this.streams.openWriter(ctx));
    this.streams.track(writer, scope);
    return writer;
  }

  /** The page shows the errors: a non-200 answer would be dropped by the client. */
  private answerInvalid(writer: SseWriter, errors: ValidationErrors): void {
    writer.send(patchSignals({ [this.settings.errorsSignal]: errors }));
    writer.close();
  }

  /**
   * Clear the errors the page still shows: every one once the handler's DTOs are valid (`all`),
   * else an earlier failure's message (`page`). An empty `errors: {}` needs nothing.
   */
  private clearShownErrors(ctx: DatastarContext, signals: Signals, all: boolean): void {
    const errorsSignal = this.settings.errorsSignal;
    const previous = signals[errorsSignal] as Record<string, unknown> | undefined;
    const shown = !previous || typeof previous !== 'object' ? [] : all ? Object.keys(previous) : previous[PAGE_ERROR_KEY] ? [PAGE_ERROR_KEY] : [];
    if (shown.length) ctx.signals[errorsSignal] = Object.fromEntries(shown.map((k) => [k, '']));
  }

  /** One flush, then the events the handler returned and the end; or, for a source, the stream. */
  private answer(ctx: DatastarContext, handler: DatastarHandler, result: unknown): void {
    this.tracker.flushContext(ctx);
    const writer = ctx.writer!;
    if (isEventSource(result)) {
      ctx.live = true;
      // Not awaited: the pipe lives on the writer's and the source's own listeners. Awaiting it
      // kept every suspended frame of the request (Nest's router, the pipeline, dispatch) alive
      // for the stream's lifetime, about 11 KiB per open stream (bench: fanout). Interceptors
      // now see the handler complete when its stream starts, as with Nest's own @Sse().
      this.stream(ctx, handler, result).catch((error) => this.fail(ctx, handler, error));
      return;
    }
    if (isEventLike(result)) writer.send(result);
    else if (Array.isArray(result) && result.every(isEventLike)) writer.send(result);
    writer.close();
  }

  /** Keeps the response open for an Observable or async iterable of events. */
  private async stream(ctx: DatastarContext, handler: DatastarHandler, source: EventSource): Promise<void> {
    startEvents(ctx.writer!, source, new StreamEnd(this, ctx, handler));
  }

  /** @internal A stream's source ended (`error`: it failed): what was tracked, then the end. */
  sourceEnded(ctx: DatastarContext, handler: DatastarHandler, error?: unknown): void {
    if (error) return this.fail(ctx, handler, error);
    this.tracker.flushContext(ctx);
    ctx.writer!.close();
  }

  /** @internal Before each event of a stream: what tracker calls queued goes first. */
  flushTracked(ctx: DatastarContext): void {
    this.tracker.flushContext(ctx);
  }

  /**
   * After the stream started, the page is told in the errors signal under `page`. A 4xx HttpException
   * is an answer (a missing record, a forbidden action): a warning, and its message. Anything else
   * is a failure: logged with its stack under an error id, and the page and the console get a
   * generic text with the id (the details only with exposeErrors). The response ends cleanly.
   */
  private fail(ctx: DatastarContext, handler: DatastarHandler, error: unknown): void {
    const what = `${handler.controller}/${handler.event}`;
    const rejection = rejectionOf(error);
    if (rejection) this.logger.warn(EVENT_REJECTED(what, rejection.status, rejection.message));
    const text = rejection?.message
      ?? failureText(logFailure(this.logger, error, (message) => EVENT_FAILED(what, message)), this.settings.exposeErrors);
    const writer = ctx.writer!;
    if (writer.closed) return;
    // Its own patch, after any pending one: the same message again (cleared first) is a change the page sees.
    this.tracker.flushContext(ctx);
    const shown = patchSignals({ [this.settings.errorsSignal]: { [PAGE_ERROR_KEY]: text } });
    writer.send(rejection ? [shown] : [failureEvent(text), shown]);
    writer.close(rejection ? 'ended' : 'error');
  }
}

/** A dispatch stream's hooks as one object: no closures kept per open stream (bench: fanout). */
class StreamEnd implements PipeHooks {
  constructor(
    private readonly dispatcher: DatastarDispatcher,
    private readonly ctx: DatastarContext,
    private readonly handler: DatastarHandler,
  ) {}

  beforeEach(): void {
    this.dispatcher.flushTracked(this.ctx);
  }

  end(error?: unknown): void {
    this.dispatcher.sourceEnded(this.ctx, this.handler, error);
  }
}
