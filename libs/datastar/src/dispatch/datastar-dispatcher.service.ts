import { Inject, Injectable, Logger, NotFoundException } from '@nestjs/common';
import { ContextIdFactory, ExternalContextCreator, ModuleRef } from '@nestjs/core';
import {
  ExecutionContextHost, RouteParamsFactory, hostModuleKey,
} from '../core/nest-internals';
import { AdapterRoutes } from '../core/adapter-routes';
import { DATASTAR_SETTINGS, type DatastarSettings } from '../core/datastar-settings';
import { ERROR_LOGGED, UNKNOWN_EVENT } from '../datastar.messages';
import { errorForBrowser, errorId } from '../datastar.errors';
import { patchSignals, type SseWriter } from '../protocol';
import { isEventLike, isEventSource, pipeEvents, type EventSource } from '../streams/pipe-events';
import { StreamRegistryService } from '../streams/stream-registry.service';
import { DatastarContext, datastarStorage } from '../core/request-context';
import { DatastarPageInterceptor } from '../tracker/datastar-page.interceptor';
import { SignalTracker } from '../tracker/signal-tracker.service';
import { DatastarHandlerRegistry, type DatastarHandler } from '../core/datastar-handler.registry';
import { createHandlerPipeline } from '../core/handler-pipeline';
import { signalsOf } from '../core/request-signals';
import { isDtoType, validateSignals, type ValidationErrors } from './signals-validation';

interface Compiled {
  run: (...args: unknown[]) => Promise<unknown>;
  exceptions: { next(error: unknown, host: ExecutionContextHost): void };
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

  async dispatch(controller: string, event: string, req: any, res: any, next?: unknown): Promise<void> {
    const handler = this.registry.get(controller, event);
    if (!handler) throw new NotFoundException(UNKNOWN_EVENT(controller, event));
    const ctx = new DatastarContext('dispatch', req, res, controller);
    ctx.readSignals = this.settings.readSignals;
    await datastarStorage.run(ctx, async () => {
      const compiled = handler.wrapper.isDependencyTreeStatic()
        ? this.compileStatic(handler)
        : await this.compileForRequest(handler, req);
      try {
        await compiled.run(req, res, next);
      } catch (error) {
        if (ctx.writer) this.fail(ctx, handler, error);
        else compiled.exceptions.next(error, new ExecutionContextHost([req, res, next]));
      }
    });
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
    const dispatcher = this;
    // Nest reads guards, interceptors and filters from the callback: give ours the method's metadata.
    const callback = async function (this: unknown, ...args: unknown[]) {
      return dispatcher.invoke(handler, instance, original, handler.hasRouteArgs ? args : []);
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
    return { run, exceptions };
  }

  /** Inside the pipeline: signals, validation, SSE, the handler, the flush. */
  private async invoke(handler: DatastarHandler, instance: unknown, method: Function, args: unknown[]): Promise<void> {
    const ctx = datastarStorage.getStore()!;
    const signals = (await signalsOf(ctx.req)) as Record<string, unknown>;
    ctx.requestSignals = signals;
    const errorsSignal = this.settings.errorsSignal;
    let errors: ValidationErrors | undefined;
    let validated = false;
    for (const param of handler.signalsParams) {
      const type = handler.paramTypes[param.index];
      if (!isDtoType(type)) continue;
      validated = true;
      const result = await validateSignals(type, param.key === undefined ? signals : signals[param.key], this.settings.validation);
      if (result.errors) errors = { ...errors, ...(param.key === undefined ? result.errors : { [param.key]: result.errors }) };
      else args[param.index] = result.value;
    }

    const writer = this.open(ctx);
    this.streams.track(writer, handler.streamScope ?? `${handler.controller}/${handler.event}`);
    if (errors) {
      // The page shows them: a non-200 answer would be dropped by the client.
      writer.send(patchSignals({ [errorsSignal]: errors }));
      writer.close();
      return;
    }
    // Clear the errors the page still shows (an empty `errors: {}` needs nothing).
    const previous = signals[errorsSignal];
    const shown = validated && previous && typeof previous === 'object' ? Object.keys(previous) : [];
    if (shown.length) ctx.signals[errorsSignal] = Object.fromEntries(shown.map((k) => [k, '']));
    if (handler.streamScope !== undefined) this.streams.startStream(handler.streamScope);
    let result: unknown;
    try {
      result = await method.apply(instance, args);
    } catch (error) {
      this.fail(ctx, handler, error);
      return;
    }
    this.tracker.flushContext(ctx);
    if (isEventSource(result)) {
      ctx.live = true;
      // Not awaited: the pipe lives on the writer's and the source's own listeners. Awaiting it
      // kept every suspended frame of the request (Nest's router, the pipeline, dispatch) alive
      // for the stream's lifetime, about 11 KiB per open stream (bench: fanout). Interceptors
      // now see the handler complete when its stream starts, as with Nest's own @Sse().
      this.stream(ctx, handler, result).catch((error) => this.fail(ctx, handler, error));
    } else {
      if (isEventLike(result)) writer.send(result);
      else if (Array.isArray(result) && result.every(isEventLike)) writer.send(result);
      writer.close();
    }
  }

  /** Keeps the response open for an Observable or async iterable of events. */
  private stream(ctx: DatastarContext, handler: DatastarHandler, source: EventSource): Promise<void> {
    const writer = ctx.writer!;
    return pipeEvents(writer, source, {
      beforeEach: () => this.tracker.flushContext(ctx),
      end: (error) => {
        if (error) return this.fail(ctx, handler, error);
        this.tracker.flushContext(ctx);
        writer.close();
      },
    });
  }

  private open(ctx: DatastarContext): SseWriter {
    ctx.writer = this.streams.openWriter(ctx);
    return ctx.writer;
  }

  /** After the stream started: log with an error id, tell the browser (details only with exposeErrors), end cleanly. */
  private fail(ctx: DatastarContext, handler: DatastarHandler, error: unknown): void {
    const err = error instanceof Error ? error : new Error(String(error));
    const id = errorId();
    this.logger.error(ERROR_LOGGED(`${handler.controller}/${handler.event}`, id, err.message), err.stack);
    const writer = ctx.writer!;
    if (!writer.closed) {
      this.tracker.flushContext(ctx);
      writer.send(errorForBrowser(`${handler.controller}/${handler.event} failed: ${err.message}`, id, this.settings.exposeErrors));
      writer.close('error');
    }
  }
}
