import type { ServerResponse } from 'node:http';
import { WireEvent } from './datastar-event';
import { encodeComment, encodeEvent, type MessageEventLike } from './encoder';
import { DEFAULT_MAX_BUFFERED_BYTES, SSE_HEADERS } from './protocol.constants';
import { startCompression, type SseCompressionOptions, type SseCompressor } from './sse-compression';

export interface SseWriterOptions {
  /** Comment sent when the stream was idle this long, in ms; `false` for none (default). */
  heartbeat?: number | false;
  /**
   * Beat with an `event: datastar-heartbeat` (27 bytes) instead of a comment (3): the page can see it
   * (the client fires `datastar-fetch` for it), so `{{ds-connection}}` can tell a silent path from an idle stream.
   */
  heartbeatEvent?: boolean;
  /** Bytes a client may leave unread before the stream is closed as too slow (default 1 MiB). */
  maxBufferedBytes?: number;
  /** Extra response headers, e.g. CORS. */
  headers?: Record<string, string>;
  /**
   * gzip or Brotli, negotiated from the request's `Accept-Encoding` and flushed after every
   * event (default off). `true`, or options: `{ encodings: ['gzip'], level: 6, quality: 5 }`.
   */
  compression?: boolean | SseCompressionOptions;
  /**
   * How `close('shutdown')` ends the stream: with a window, the client gets a `retry:` hint (a
   * random delay in it, so tabs come back spread out) and then the connection is dropped, which
   * the Datastar client retries (it never retries a clean end). `false`: a clean end (default).
   */
  shutdownRetry?: Readonly<{ min: number; max: number }> | false;
}

export type SseCloseReason = 'ended' | 'client-closed' | 'slow-client' | 'shutdown' | 'replaced' | 'error';

/**
 * @internal Told when a writer closes. A long-lived owner (the stream registry, a topic's member)
 * is its own listener: no closure per open stream (bench: fanout).
 */
export interface SseCloseListener {
  writerClosed(writer: SseWriter, reason: SseCloseReason): void;
}

type CloseHook = ((reason: SseCloseReason) => void) | SseCloseListener;

// Encoded bytes per event object: a broadcast to 10,000 streams encodes once. Our helpers' events
// keep their own bytes. Other events are mostly written once (an event's answer), and a WeakMap
// entry per event cost more than encoding a small one (bench: encoding): they only pass through a
// ring of recent events, and an event met again (a broadcast) is remembered in the WeakMap for as
// long as it lives.
const encoded = new WeakMap<object, Buffer>();
const RECENT = 8;
const recentEvents: Array<object | undefined> = new Array(RECENT).fill(undefined);
const recentBytes: Array<Buffer | undefined> = new Array(RECENT).fill(undefined);
let recentNext = 0;
/** The ring holds its entries strongly: bigger events go straight to the WeakMap. */
const RECENT_MAX_BYTES = 64 * 1024;

/**
 * An event with an `id:` of ours (a pub/sub topic's position, which the client sends back as
 * `Last-Event-ID`): made once per publication and shared by every stream, it reads through to
 * the event and is encoded as the event's own bytes with our id last, so ours is the one kept.
 */
export class IdentifiedEvent implements MessageEventLike {
  #bytes: Buffer | undefined;

  constructor(
    readonly event: MessageEventLike,
    readonly id: string,
  ) {}

  get type(): string | undefined {
    return this.event.type;
  }

  get data(): string | object | undefined {
    return this.event.data;
  }

  get retry(): number | undefined {
    return this.event.retry;
  }

  get comment(): string | undefined {
    return this.event.comment;
  }

  /** @internal */
  bytes(): Buffer {
    if (this.#bytes) return this.#bytes;
    const own = encodeOnce(this.event);
    // An event ends with its blank line; a lone comment has none, and the id then makes one.
    const body = own.length > 1 && own[own.length - 1] === 0x0a && own[own.length - 2] === 0x0a ? own.subarray(0, -1) : own;
    return (this.#bytes = Buffer.concat([body, Buffer.from(`id: ${this.id}\n\n`)]));
  }
}

/** The event's bytes, encoded once per event object. */
export function encodeOnce(event: MessageEventLike): Buffer {
  if (event instanceof WireEvent) return event.bytes() ?? event.keepBytes(Buffer.from(encodeEvent(event)));
  if (event instanceof IdentifiedEvent) return event.bytes();
  let bytes = encoded.get(event);
  if (bytes) return bytes;
  for (let i = 0; i < RECENT; i++) {
    if (recentEvents[i] === event) {
      bytes = recentBytes[i]!;
      encoded.set(event, bytes);
      return bytes;
    }
  }
  bytes = Buffer.from(encodeEvent(event));
  if (bytes.length > RECENT_MAX_BYTES) {
    encoded.set(event, bytes);
  } else {
    recentEvents[recentNext] = event;
    recentBytes[recentNext] = bytes;
    recentNext = (recentNext + 1) % RECENT;
  }
  return bytes;
}

/**
 * Writes a Datastar SSE response on a raw Node response (Express' `res`, Fastify's `reply.raw`):
 * headers flushed at once, one write per event, bounded memory for clients that stop reading.
 */
export class SseWriter {
  /** Made on demand (most writers, an event answered at once, never need one). */
  private abortController?: AbortController;
  // Two slots, then an array: an open stream usually has one or two hooks (the registry, a topic),
  // and an array is ~64 B more per stream (bench: fanout).
  private closeHook?: CloseHook;
  private secondCloseHook?: CloseHook;
  private moreCloseHooks?: CloseHook[];
  private compressor?: SseCompressor;
  /**
   * Heartbeat ticks since the last write, not a time: a small integer, where `Date.now()` was a
   * boxed number per open stream and a clock read per write (bench: fanout).
   */
  private idleTicks = 0;
  private reason?: SseCloseReason;
  /** Bytes written before the headers went out (same turn of the event loop), sent with them. */
  private held?: (Buffer | string)[];
  /** The SSE headers, until they leave (see `sendHead`); undefined when they were set with setHeader. */
  private head?: Readonly<Record<string, string>>;
  private heldBytes = 0;
  /** @internal Where the stream registry counts this writer (kept here, not in a map: bench: fanout). */
  scope?: string;

  constructor(
    readonly res: ServerResponse,
    private readonly options: SseWriterOptions = {},
  ) {}

  /** Aborted when the stream ends for any reason: hand it to fetches and timers. */
  get signal(): AbortSignal {
    if (!this.abortController) {
      this.abortController = new AbortController();
      if (this.reason) this.abortController.abort(this.reason);
    }
    return this.abortController.signal;
  }

  get closed(): boolean {
    return this.reason !== undefined;
  }

  get closeReason(): SseCloseReason | undefined {
    return this.reason;
  }

  /** The negotiated `Content-Encoding` (`br`, `gzip`), or undefined when the stream is not compressed. */
  get encoding(): string | undefined {
    return this.compressor?.encoding;
  }

  /** Sends status 200 and the SSE headers, and starts watching the client. */
  open(): this {
    const res = this.res;
    // The client left before the stream opened (during a guard or a slow handler): its 'close'
    // event has fired already and never comes again, so the stream would never end.
    if (res.destroyed) {
      this.finish('client-closed');
      return this;
    }
    if (!res.headersSent) {
      res.statusCode = 200;
      // HTTP/1.1 only: forbidden on HTTP/2, and an HTTP/1.0 client (or one that asked to close)
      // reads until the connection closes.
      const connection = res.req?.headers.connection;
      const head = res.req?.httpVersion === '1.1' && !(connection && CLOSE.test(String(connection))) ? SSE_HEAD_KEEP_ALIVE : SSE_HEAD;
      const { compression, headers } = this.options;
      if (!compression && !headers) {
        // Given to writeHead when they leave: setHeader's copy (a header table and a [name, value]
        // array each) stays with the response for its life (bench: fanout, ~0.6 KiB per stream).
        this.head = head;
      } else {
        for (const name in head) res.setHeader(name, head[name]);
        for (const name in headers) res.setHeader(name, headers[name]);
      }
      if (compression) {
        // A zlib failure leaves nothing decodable to send: drop the connection.
        this.compressor = startCompression(res, this.options.compression, () => {
          res.destroy();
          this.finish('error');
        });
      }
      // Headers and events are held until this turn of the event loop is over: an answer that
      // completes at once (most do) then leaves as ONE write with a Content-Length, not chunked
      // (bench: dispatch profile, writev was a third of the CPU), and a stream still has its
      // headers and first events before any I/O wait.
      if (!this.compressor) this.held = [];
      // The client and the heartbeat are watched from there too: an answer that ends in this
      // turn never needs them (bench: dispatch profile).
      flushAtEndOfTurn(this);
    } else {
      this.watch();
    }
    return this;
  }

  /** Writes one event (or several as one write). Returns false once the stream is closed. */
  send(events: MessageEventLike | readonly MessageEventLike[]): boolean {
    if (!Array.isArray(events)) return this.writeBytes(this.encoded(events as MessageEventLike));
    if (events.length === 1) return this.writeBytes(this.encoded(events[0]));
    if (events.length === 0) return !this.closed;
    if (!this.held) return this.writeBytes(Buffer.concat(events.map(encodeOnce)));
    for (const event of events) if (!this.writeBytes(this.encoded(event))) return false;
    return true;
  }

  /**
   * An event as bytes; while held (the turn the stream opened: a handler's answer), one of ours not
   * encoded yet stays text, so an answer of fresh events leaves as one string with the headers, no
   * Buffer made (bench: dispatch profile).
   */
  private encoded(event: MessageEventLike): Buffer | string {
    return this.held && event instanceof WireEvent && !event.bytes() ? encodeEvent(event) : encodeOnce(event);
  }

  /** @internal A heartbeat tick: sends the heartbeat after `ticks` of them with nothing written. */
  beatIfIdle(ticks: number): void {
    if (++this.idleTicks > ticks) this.writeBytes(this.options.heartbeatEvent ? HEARTBEAT_EVENT : HEARTBEAT);
  }

  /** Writes already encoded bytes; the fan-out path. */
  writeBytes(bytes: Buffer | string): boolean {
    if (this.closed) return false;
    const compressor = this.compressor;
    const buffered = compressor ? compressor.buffered : this.res.writableLength + this.heldBytes;
    if (buffered > (this.options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES)) {
      this.close('slow-client');
      return false;
    }
    this.idleTicks = 0;
    if (compressor) compressor.write(bytes);
    else if (this.held) this.hold(bytes);
    else this.res.write(bytes);
    return true;
  }

  /** Resolves when the client has read what was written (or the stream closed): backpressure for producers. */
  drained(): Promise<void> {
    // Held bytes go out with the headers at the end of this turn: nothing to wait for yet.
    // Compressed: the zlib stream drains only as fast as the response does.
    const out = this.compressor?.stream ?? this.res;
    if (this.closed || !out.writableNeedDrain) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        out.off('drain', done);
        this.signal.removeEventListener('abort', done);
        resolve();
      };
      out.on('drain', done);
      this.signal.addEventListener('abort', done);
    });
  }

  /** Resolves once the response is complete or gone (a compressed one completes after zlib's trailer). */
  finished(): Promise<void> {
    const res = this.res;
    if (res.writableFinished || res.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        res.off('finish', done);
        res.off('close', done);
        resolve();
      };
      res.on('finish', done);
      res.on('close', done);
    });
  }

  /** Runs `hook` once when the stream ends, whatever the reason (runs at once if it already has). */
  onClose(hook: (reason: SseCloseReason) => void): void {
    this.addCloseHook(hook);
  }

  /** @internal `onClose` for an object told with `writerClosed(writer, reason)`. */
  addCloseListener(listener: SseCloseListener): void {
    this.addCloseHook(listener);
  }

  /**
   * Ends the response. A slow client's socket is destroyed instead: its unread bytes are dropped.
   * `'shutdown'` with a `shutdownRetry` window tells the client to come back (see the option).
   */
  close(reason: SseCloseReason = 'ended'): void {
    if (this.closed) return;
    const res = this.res;
    const retry = reason === 'shutdown' ? this.options.shutdownRetry : undefined;
    if (retry) {
      this.dropForRetry(retry);
    } else if (reason === 'slow-client') {
      this.compressor?.destroy();
      res.destroy();
    } else if (this.compressor) {
      this.compressor.end(); // the coding's trailer, then the response ends
    } else if (this.held && !res.headersSent) {
      // Everything is known: one write, with a length instead of chunked encoding.
      const body = this.takeHeld();
      const length = typeof body === 'string' ? Buffer.byteLength(body) : body.length;
      if (this.head) this.sendHead(length);
      else res.setHeader('Content-Length', length);
      res.end(body);
    } else if (!res.writableEnded) {
      res.end();
    }
    this.finish(reason);
  }

  /** @internal Sends the headers, with what was written so far; later writes go straight out. */
  flushHeld(): void {
    const res = this.res;
    if (this.closed || res.writableEnded) return;
    // Gone before the end of the turn: its 'close' came before anyone listened.
    if (res.destroyed) return this.responseClosed();
    const body = this.held ? this.takeHeld() : undefined;
    const sent = res.headersSent; // writeHead only stores them: they still have to leave
    if (this.head) this.sendHead();
    if (body?.length) res.write(body);
    else if (!sent) res.flushHeaders();
    flattenHeader(res);
    this.watch();
  }

  /** Starts what an open stream needs: the client watched, and the heartbeat. */
  private watch(): void {
    this.watchClient();
    const beat = this.options.heartbeat;
    if (beat) heartbeats.watch(this, beat);
  }

  /**
   * Ends the writer when the response closes. Not a bound function or once() per stream (objects
   * kept for its life, bench: fanout): one shared listener that finds the writer on the response.
   */
  private watchClient(): void {
    const res: WatchedResponse = this.res;
    if (res[WRITER] === this) return;
    // A second writer on one response (rare) gets a listener of its own.
    if (res[WRITER]) return void res.on('close', () => this.responseClosed());
    res[WRITER] = this;
    res.on('close', responseClosed);
  }

  /**
   * Our headers, held since `open()`, given to writeHead. Headers the app set meanwhile (a cookie,
   * Express's X-Powered-By) are kept, and win over ours, as when ours were set first.
   */
  private sendHead(contentLength?: number): void {
    const res = this.res;
    const head = this.head!;
    this.head = undefined;
    if (res.headersSent) return;
    let headers: Record<string, string | number> = head;
    if (res.getHeaderNames().length) {
      headers = {};
      for (const name in head) if (!res.hasHeader(name)) headers[name] = head[name];
    } else if (contentLength !== undefined) {
      headers = { ...head };
    }
    if (contentLength !== undefined) headers['Content-Length'] = contentLength;
    res.writeHead(res.statusCode, headers);
  }

  /**
   * A `retry:` hint, then the connection dropped once the hint left (bounded wait): a network
   * error mid-stream, which the client retries after the hinted delay with its `Last-Event-ID`.
   */
  private dropForRetry({ min, max }: Readonly<{ min: number; max: number }>): void {
    const res = this.res;
    const drop = () => {
      clearTimeout(timer);
      res.destroy();
    };
    const timer = setTimeout(drop, SHUTDOWN_DROP_MS);
    timer.unref();
    if (res.destroyed || res.writableEnded) return drop();
    const hint = Buffer.from(encodeRetry(min + Math.floor(Math.random() * (max - min + 1))));
    const flushed = () => setImmediate(dropWhenSent, res, drop);
    if (this.compressor) return this.compressor.write(hint, flushed);
    if (this.held) this.hold(hint);
    else res.write(hint);
    this.flushHeld();
    flushed();
  }

  private addCloseHook(hook: CloseHook): void {
    if (this.reason) return this.runCloseHook(hook, this.reason);
    if (!this.closeHook) this.closeHook = hook;
    else if (!this.secondCloseHook) this.secondCloseHook = hook;
    else (this.moreCloseHooks ??= []).push(hook);
  }

  private runCloseHook(hook: CloseHook, reason: SseCloseReason): void {
    if (typeof hook === 'function') hook(reason);
    else hook.writerClosed(this, reason);
  }

  /** @internal The response closed (see `watchClient`). */
  responseClosed(): void {
    this.compressor?.destroy();
    this.finish(this.res.writableFinished ? 'ended' : 'client-closed');
  }

  private hold(bytes: Buffer | string): void {
    this.held!.push(bytes);
    this.heldBytes += bytes.length; // a string's length: its bytes within 3x, enough for the buffer cap
  }

  /** What was held, as one string when it was all text (Node then sends it with the headers in one write). */
  private takeHeld(): Buffer | string {
    const held = this.held!;
    this.held = undefined;
    this.heldBytes = 0;
    if (held.length === 1) return held[0];
    let text = '';
    for (const part of held) {
      if (typeof part !== 'string') return Buffer.concat(held.map((p) => (typeof p === 'string' ? Buffer.from(p) : p)));
      text += part;
    }
    return text;
  }

  private finish(reason: SseCloseReason): void {
    if (this.reason) return;
    this.reason = reason;
    if (this.options.heartbeat) heartbeats.unwatch(this, this.options.heartbeat);
    this.abortController?.abort(reason);
    const { closeHook, secondCloseHook, moreCloseHooks } = this;
    this.closeHook = this.secondCloseHook = this.moreCloseHooks = undefined;
    if (closeHook) this.runCloseHook(closeHook, reason);
    if (secondCloseHook) this.runCloseHook(secondCloseHook, reason);
    if (moreCloseHooks) for (const hook of moreCloseHooks) this.runCloseHook(hook, reason);
  }
}

const CLOSE = /\bclose\b/i;
const SSE_HEAD: Readonly<Record<string, string>> = SSE_HEADERS;
const SSE_HEAD_KEEP_ALIVE: Readonly<Record<string, string>> = Object.freeze({ ...SSE_HEADERS, Connection: 'keep-alive' });
const HEARTBEAT = Buffer.from(encodeComment() + '\n');
/** No data and no watcher in the client: it only fires `datastar-fetch` (type `datastar-heartbeat`). */
const HEARTBEAT_EVENT = Buffer.from('event: datastar-heartbeat\n\n');
/** Longest wait for a shutdown `retry:` hint to leave before the connection is dropped anyway. */
const SHUTDOWN_DROP_MS = 1000;

/** A field-only event that sets the client's reconnect delay (the client dispatches nothing for it). */
export function encodeRetry(ms: number): string {
  return `retry: ${ms}\n\n`;
}

/**
 * Node keeps the header block it sent (`_header`) for the response's life, as the string it built
 * with `+=`: a tree of ~20 pieces. A flat copy in its place holds ~0.5 KiB less per open stream
 * (bench: fanout heap). Not flattened in place (`indexOf`): V8 keeps the tree of a string already
 * in the old generation. Latin-1 both ways, as Node sends it: header values cannot hold more.
 */
function flattenHeader(res: ServerResponse): void {
  const header: unknown = (res as { _header?: unknown })._header;
  if (typeof header === 'string') (res as { _header?: string })._header = Buffer.from(header, 'latin1').toString('latin1');
}

/** The writer on a response, for the shared 'close' listener. */
const WRITER = Symbol('SseWriter');

type WatchedResponse = ServerResponse & { [WRITER]?: SseWriter };

function responseClosed(this: WatchedResponse): void {
  this[WRITER]?.responseClosed();
}

/** Drops the connection once the socket has handed every byte written so far to the OS. */
function dropWhenSent(res: ServerResponse, drop: () => void): void {
  const socket = res.socket;
  if (socket && !socket.destroyed && socket.writableLength > 0) socket.once('drain', drop);
  else drop();
}

/**
 * One timer per heartbeat interval for all streams, not one per stream: 10,000 streams would
 * otherwise hold 10,000 timers (about 0.3 KiB each, bench: fanout).
 */
const heartbeats = {
  groups: new Map<number, Set<SseWriter>>(),
  watch(writer: SseWriter, beat: number): void {
    let writers = this.groups.get(beat);
    if (!writers) {
      const group = new Set<SseWriter>();
      // Stopped by its own tick once no writer is left, not by the last unwatch: answers that
      // open and close a writer in one turn would start and clear a timer each (bench: dispatch profile).
      // Every half beat: a writer idle for more than `ticks` of them was idle for a whole beat.
      const every = Math.max(10, Math.floor(beat / 2));
      const ticks = Math.ceil(beat / every);
      const timer = setInterval(() => {
        if (group.size === 0) {
          clearInterval(timer);
          this.groups.delete(beat);
          return;
        }
        for (const w of group) w.beatIfIdle(ticks);
      }, every);
      timer.unref();
      this.groups.set(beat, (writers = group));
    }
    writers.add(writer);
  },
  unwatch(writer: SseWriter, beat: number): void {
    this.groups.get(beat)?.delete(writer);
  },
};

/**
 * The writers opened in this turn, flushed by ONE immediate after it: under load a turn opens
 * many, and each immediate is an object and, with AsyncLocalStorage on, an async hook call.
 */
let toFlush: SseWriter[] = [];

function flushAtEndOfTurn(writer: SseWriter): void {
  if (toFlush.push(writer) === 1) setImmediate(flushOpened);
}

function flushOpened(): void {
  const writers = toFlush;
  toFlush = [];
  for (const writer of writers) writer.flushHeld();
}
