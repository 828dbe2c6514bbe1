import { Inject, Injectable, Optional, type BeforeApplicationShutdown } from '@nestjs/common';
import { DATASTAR_MODULE_OPTIONS } from '../datastar.module-definition';
import type { DatastarModuleOptions } from '../interfaces/datastar-module-options.interface';
import { SseWriter, type SseCloseReason, type SseWriterOptions } from '../protocol';
import { DatastarContext, datastarStorage } from '../tracker/datastar-context';
import { pipeEvents, type EventSource } from './pipe-events';
import { TabClaims, validTabId } from './tab-claims';

/** What a handler gets back from `startStream()`. */
export interface StreamHandle {
  readonly scope: string;
  /** The tab this stream is deduplicated for, or undefined for a plain stream. */
  readonly tabId?: string;
  /** Aborted when the stream ends: client gone, replaced by a newer tab stream, or shutdown. */
  readonly signal: AbortSignal;
  /** Runs `hook` once when the stream ends. */
  onClose(hook: (reason: SseCloseReason) => void): void;
}

const SHUTDOWN_GRACE_MS = 2000;

function settleWithin(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
  return Promise.race([promise.then(() => undefined), timeout]).finally(() => clearTimeout(timer));
}

const NO_STREAM = 'startStream() needs an open Datastar stream: call it from an @OnEvent() handler.';

/**
 * Every open Datastar stream of this process, by scope: per-tab dedup (`startStream`), a gauge
 * (`count`), and an orderly end at shutdown, so `app.close()` never hangs on open streams.
 */
@Injectable()
export class StreamRegistryService implements BeforeApplicationShutdown {
  private readonly streams = new Map<string, Set<SseWriter>>();
  private readonly scopeOf = new WeakMap<SseWriter, string>();

  constructor(
    private readonly claims: TabClaims,
    @Optional() @Inject(DATASTAR_MODULE_OPTIONS) private readonly moduleOptions: DatastarModuleOptions = {},
  ) {}

  /**
   * Puts the current Datastar stream under `scope` and, when the request carries a valid `tabId`
   * signal, ends any other stream of the same (scope, tabId), here or in another process.
   * Without a (valid) tabId it is a plain stream, counted but not deduplicated.
   */
  startStream(scope: string): StreamHandle {
    const ctx = datastarStorage.getStore();
    if (!ctx?.writer) throw new Error(NO_STREAM);
    return this.claim(ctx, scope);
  }

  /**
   * Streams `source` on a response of your own route (`@Res() res`), with the same writer,
   * registry and dedup as dispatch: `return streams.send(res, events$, { scope: 'clock' })`.
   * Compression follows the module's `compression` option unless `options.compression` says otherwise.
   */
  async send(res: any, source: EventSource, options: SseWriterOptions & { scope?: string; tabId?: unknown } = {}): Promise<void> {
    if (typeof res.hijack === 'function') res.hijack();
    const { scope = 'default', tabId, ...writerOptions } = options;
    writerOptions.compression ??= this.moduleOptions.compression;
    const writer = new SseWriter(res.raw ?? res, writerOptions).open();
    const ctx = new DatastarContext('dispatch', res.req ?? res.request, res, undefined);
    ctx.writer = writer;
    ctx.live = true;
    ctx.requestSignals = tabId === undefined ? {} : { tabId };
    await datastarStorage.run(ctx, () => {
      this.claim(ctx, scope);
      return pipeEvents(writer, source, { end: (error) => writer.close(error ? 'error' : 'ended') });
    });
  }

  /** Open streams in `scope`, or in all scopes. */
  count(scope?: string): number {
    if (scope !== undefined) return this.streams.get(scope)?.size ?? 0;
    let total = 0;
    for (const set of this.streams.values()) total += set.size;
    return total;
  }

  /** Open streams per scope, e.g. for a metrics gauge: `{ 'chat': 12, 'counter/increment': 0 }`. */
  counts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [scope, set] of this.streams) out[scope] = set.size;
    return out;
  }

  /** Ends every open stream (of one scope, or all). */
  closeAll(scope?: string, reason: SseCloseReason = 'shutdown'): void {
    const sets = scope === undefined ? [...this.streams.values()] : [this.streams.get(scope) ?? new Set()];
    for (const set of sets) for (const writer of [...set]) writer.close(reason);
  }

  async beforeApplicationShutdown(): Promise<void> {
    const compressed = [...this.streams.values()].flatMap((set) => [...set].filter((w) => w.encoding));
    this.closeAll(undefined, 'shutdown');
    // A compressed stream ends once zlib has written its trailer: wait for that (briefly), or
    // its keep-alive connection would hold the server's close() open.
    if (compressed.length) await settleWithin(Promise.all(compressed.map((w) => w.finished())), SHUTDOWN_GRACE_MS);
  }

  /** @internal Counts a dispatch stream under its default scope (`controller/event`). */
  track(writer: SseWriter, scope: string): void {
    // Already ended (client gone while the handler awaited): its onClose hook would run before
    // the add below, leaving a dead stream counted for ever.
    if (writer.closed) return;
    const previous = this.scopeOf.get(writer);
    if (previous === scope) return;
    if (previous !== undefined) this.remove(writer, previous);
    else writer.onClose(() => this.remove(writer, this.scopeOf.get(writer)!));
    this.scopeOf.set(writer, scope);
    let set = this.streams.get(scope);
    if (!set) this.streams.set(scope, (set = new Set()));
    set.add(writer);
  }

  private claim(ctx: DatastarContext, scope: string): StreamHandle {
    const writer = ctx.writer!;
    this.track(writer, scope);
    const tabId = validTabId(ctx.requestSignals?.tabId);
    // A stream that already ended must not take its tab over from a live one.
    if (tabId !== undefined && !writer.closed) {
      const claim = this.claims.claim(scope, tabId, () => writer.close('replaced'));
      writer.onClose(() => claim.release());
    }
    return { scope, tabId, signal: writer.signal, onClose: (hook) => writer.onClose(hook) };
  }

  private remove(writer: SseWriter, scope: string): void {
    const set = this.streams.get(scope);
    if (!set) return;
    set.delete(writer);
    if (set.size === 0) this.streams.delete(scope);
  }
}
