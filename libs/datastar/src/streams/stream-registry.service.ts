import { Inject, Injectable, Optional, type BeforeApplicationShutdown } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { DATASTAR_SETTINGS, resolveDatastarSettings, type DatastarSettings } from '../core/datastar-settings';
import type { SseCloseReason, SseWriter, SseWriterOptions } from '../protocol';
import type { SseCloseListener } from '../protocol/sse-writer';
import { DatastarPubSub } from '../pubsub/datastar-pubsub';
import { DatastarContext, datastarStorage } from '../core/request-context';
import { browserIdOf } from './browser-id';
import { openSseWriter } from './open-writer';
import { pipeEvents, type EventSource } from './pipe-events';
import { TabClaims, validTabId } from './tab-claims';

/** What a handler gets back from `startStream()`. */
export interface StreamHandle {
  readonly scope: string;
  /** The tab this stream is deduplicated for, or undefined for a plain stream. */
  readonly tabId?: string;
  /** Aborted when the stream ends: client gone, replaced by a newer stream of the same tab, or shutdown. */
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

/** Gauges for metrics: see `StreamRegistryService.stats()`. */
export interface StreamStats {
  /** Open streams in this process. */
  streams: number;
  /** Live tab claims held in this process. */
  tabClaims: number;
  /**
   * Messages from other processes dropped for a missing, wrong or expired signature (pub/sub and
   * tab takeover): anything above 0 means someone else publishes on this app's Redis channels.
   */
  rejectedMessages: number;
}

/**
 * Every open Datastar stream of this process, by scope: per-tab dedup (`startStream`), a gauge
 * (`count`), and an orderly end at shutdown, so `app.close()` never hangs on open streams.
 */
@Injectable()
export class StreamRegistryService implements BeforeApplicationShutdown, SseCloseListener {
  private readonly streams = new Map<string, Set<SseWriter>>();
  /** Per raw request: the browser id it came with, or the one issued to it. */
  private readonly browserIds = new WeakMap<object, string>();
  private readonly browserCookie: string | false;

  constructor(
    private readonly claims: TabClaims,
    @Optional() @Inject(DATASTAR_SETTINGS) private readonly settings: DatastarSettings = resolveDatastarSettings(),
    @Optional() private readonly pubsub?: DatastarPubSub,
  ) {
    this.browserCookie = settings.streams.browserCookie;
  }

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
   * Heartbeat, buffer cap and compression follow the module's options unless `options` say otherwise.
   */
  async send(res: any, source: EventSource, options: SseWriterOptions & { scope?: string; tabId?: unknown } = {}): Promise<void> {
    const { scope = 'default', tabId, ...writerOptions } = options;
    const ctx = new DatastarContext('dispatch', res.req ?? res.request, res, undefined);
    ctx.requestSignals = tabId === undefined ? {} : { tabId };
    const writer = this.openWriter(ctx, writerOptions);
    ctx.live = true;
    await datastarStorage.run(ctx, () => {
      this.claim(ctx, scope);
      return pipeEvents(writer, source, { end: (error) => writer.close(error ? 'error' : 'ended') });
    });
  }

  /**
   * @internal Opens the SSE response of a Datastar request (the module's writer options, see
   * `openSseWriter`). A request that carries a tab id and no browser cookie gets one now, before
   * the first byte, so the browser's next stream (a reload) can take over this one.
   */
  openWriter(ctx: DatastarContext, overrides?: SseWriterOptions): SseWriter {
    const writer = openSseWriter(ctx.res, this.settings.writer, overrides);
    ctx.writer = writer;
    if (validTabId(ctx.requestSignals?.tabId) !== undefined) this.browserOf(ctx);
    return writer;
  }

  /** Gauges for metrics: open streams, tab claims, and Redis messages refused for a bad signature. */
  stats(): StreamStats {
    return {
      streams: this.count(),
      tabClaims: this.claims.count(),
      rejectedMessages: this.claims.rejectedCount + (this.pubsub?.rejectedCount ?? 0),
    };
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

  /**
   * Ends every stream so its client comes back (`shutdownRetry`: a `retry:` hint, then the
   * connection dropped once the hint left) and waits, briefly, until they are gone: a connection
   * still open would hold the server's close() open.
   */
  async beforeApplicationShutdown(): Promise<void> {
    const writers = [...this.streams.values()].flatMap((set) => [...set]);
    this.closeAll(undefined, 'shutdown');
    if (writers.length) await settleWithin(Promise.all(writers.map((w) => w.finished())), SHUTDOWN_GRACE_MS);
  }

  /** @internal Counts a dispatch stream under its default scope (`controller/event`). */
  track(writer: SseWriter, scope: string): void {
    // Already ended (client gone while the handler awaited): its onClose hook would run before
    // the add below, leaving a dead stream counted for ever.
    if (writer.closed) return;
    // The scope is kept on the writer: no map entry per stream (bench: fanout).
    const previous = writer.scope;
    if (previous === scope) return;
    if (previous !== undefined) this.remove(writer, previous);
    else writer.addCloseListener(this); // the registry itself: no closure per stream
    writer.scope = scope;
    let set = this.streams.get(scope);
    if (!set) this.streams.set(scope, (set = new Set()));
    set.add(writer);
  }

  /** @internal A tracked stream ended: it leaves its scope. */
  writerClosed(writer: SseWriter): void {
    this.remove(writer, writer.scope!);
  }

  private claim(ctx: DatastarContext, scope: string): StreamHandle {
    const writer = ctx.writer!;
    this.track(writer, scope);
    let tabId = validTabId(ctx.requestSignals?.tabId);
    const owner = tabId === undefined ? undefined : this.ownerOf(ctx);
    // Nobody to bind the tab to (no cookie and no owner resolver): a plain stream.
    if (owner === undefined) tabId = undefined;
    // A stream that already ended must not take its tab over from a live one.
    if (tabId !== undefined && !writer.closed) {
      const claim = this.claims.claim(scope, tabId, () => writer.close('replaced'), owner);
      writer.onClose(() => claim.release());
    }
    return { scope, tabId, signal: writer.signal, onClose: (hook) => writer.onClose(hook) };
  }

  /**
   * Whose tab a stream is: a hash (fixed length, nothing readable in Redis) of the browser id and
   * the `streams.owner` user, or undefined when neither is configured.
   */
  private ownerOf(ctx: DatastarContext): string | undefined {
    const browser = this.browserCookie === false ? undefined : this.browserOf(ctx);
    const user = this.settings.streams.owner?.(ctx.req);
    const userId = typeof user === 'string' && user !== '' ? user : undefined;
    if (browser === undefined && userId === undefined) return undefined;
    return createHash('sha256').update(JSON.stringify([browser ?? null, userId ?? null])).digest('base64url');
  }

  private browserOf(ctx: DatastarContext): string | undefined {
    if (this.browserCookie === false) return undefined;
    const req = ctx.req?.raw ?? ctx.req;
    const res = ctx.res?.raw ?? ctx.res;
    if (!req || !res) return undefined;
    let id = this.browserIds.get(req);
    if (id === undefined) {
      id = browserIdOf(req, res, this.browserCookie);
      this.browserIds.set(req, id);
    }
    return id;
  }

  private remove(writer: SseWriter, scope: string): void {
    const set = this.streams.get(scope);
    if (!set) return;
    set.delete(writer);
    if (set.size === 0) this.streams.delete(scope);
  }
}
