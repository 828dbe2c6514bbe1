import type { ServerResponse } from 'node:http';
import { encodeComment, encodeEvent, type MessageEventLike } from './encoder';
import { SSE_HEADERS } from './protocol.constants';

export interface SseWriterOptions {
  /** Comment sent when the stream was idle this long, in ms; `false` for none (default). */
  heartbeat?: number | false;
  /** Bytes a client may leave unread before the stream is closed as too slow (default 1 MiB). */
  maxBufferedBytes?: number;
  /** Extra response headers, e.g. CORS. */
  headers?: Record<string, string>;
}

export type SseCloseReason = 'ended' | 'client-closed' | 'slow-client' | 'shutdown' | 'replaced' | 'error';

const DEFAULT_MAX_BUFFERED = 1024 * 1024;
// Encoded bytes per event object: a broadcast to 10,000 streams encodes once.
const encoded = new WeakMap<object, Buffer>();

/** The event's bytes, encoded once per event object. */
export function encodeOnce(event: MessageEventLike): Buffer {
  let bytes = encoded.get(event);
  if (!bytes) {
    bytes = Buffer.from(encodeEvent(event));
    encoded.set(event, bytes);
  }
  return bytes;
}

/**
 * Writes a Datastar SSE response on a raw Node response (Express' `res`, Fastify's `reply.raw`):
 * headers flushed at once, one write per event, bounded memory for clients that stop reading.
 */
export class SseWriter {
  private readonly abort = new AbortController();
  private readonly closeHooks: Array<(reason: SseCloseReason) => void> = [];
  private heartbeatTimer?: NodeJS.Timeout;
  private lastWrite = Date.now();
  private reason?: SseCloseReason;

  constructor(
    readonly res: ServerResponse,
    private readonly options: SseWriterOptions = {},
  ) {}

  /** Aborted when the stream ends for any reason: hand it to fetches and timers. */
  get signal(): AbortSignal {
    return this.abort.signal;
  }

  get closed(): boolean {
    return this.reason !== undefined;
  }

  get closeReason(): SseCloseReason | undefined {
    return this.reason;
  }

  /** Sends status 200 and the SSE headers, and starts watching the client. */
  open(): this {
    const res = this.res;
    if (!res.headersSent) {
      res.statusCode = 200;
      for (const [name, value] of Object.entries(SSE_HEADERS)) res.setHeader(name, value);
      // Connection is forbidden on HTTP/2.
      if ((res.req?.httpVersionMajor ?? 1) < 2) res.setHeader('Connection', 'keep-alive');
      for (const [name, value] of Object.entries(this.options.headers ?? {})) res.setHeader(name, value);
      res.flushHeaders();
    }
    res.once('close', () => this.finish(res.writableFinished ? 'ended' : 'client-closed'));
    const beat = this.options.heartbeat;
    if (beat) {
      this.heartbeatTimer = setInterval(() => {
        if (Date.now() - this.lastWrite >= beat) this.writeBytes(HEARTBEAT);
      }, Math.max(10, Math.floor(beat / 2)));
      this.heartbeatTimer.unref();
    }
    return this;
  }

  /** Writes one event (or several as one write). Returns false once the stream is closed. */
  send(events: MessageEventLike | readonly MessageEventLike[]): boolean {
    if (!Array.isArray(events)) return this.writeBytes(encodeOnce(events as MessageEventLike));
    if (events.length === 1) return this.writeBytes(encodeOnce(events[0]));
    if (events.length === 0) return !this.closed;
    return this.writeBytes(Buffer.concat(events.map(encodeOnce)));
  }

  /** Writes already encoded bytes; the fan-out path. */
  writeBytes(bytes: Buffer | string): boolean {
    if (this.closed) return false;
    const res = this.res;
    if (res.writableLength > (this.options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED)) {
      this.close('slow-client');
      return false;
    }
    this.lastWrite = Date.now();
    res.write(bytes);
    return true;
  }

  /** Resolves when the client has read what was written (or the stream closed): backpressure for producers. */
  drained(): Promise<void> {
    const res = this.res;
    if (this.closed || !res.writableNeedDrain) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        res.off('drain', done);
        this.abort.signal.removeEventListener('abort', done);
        resolve();
      };
      res.on('drain', done);
      this.abort.signal.addEventListener('abort', done);
    });
  }

  /** Runs `hook` once when the stream ends, whatever the reason (runs at once if it already has). */
  onClose(hook: (reason: SseCloseReason) => void): void {
    if (this.reason) hook(this.reason);
    else this.closeHooks.push(hook);
  }

  /** Ends the response. A slow client's socket is destroyed instead: its unread bytes are dropped. */
  close(reason: SseCloseReason = 'ended'): void {
    if (this.closed) return;
    const res = this.res;
    if (reason === 'slow-client') res.destroy();
    else if (!res.writableEnded) res.end();
    this.finish(reason);
  }

  private finish(reason: SseCloseReason): void {
    if (this.reason) return;
    this.reason = reason;
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.abort.abort(reason);
    const hooks = this.closeHooks.splice(0);
    for (const hook of hooks) hook(reason);
  }
}

const HEARTBEAT = Buffer.from(encodeComment() + '\n');
