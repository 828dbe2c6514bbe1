import type { HelperDelegate } from 'handlebars';
import type { ValidatorOptions } from 'class-validator';
import type { SseCompressionOptions } from '../protocol/sse-compression';
import type { DatastarLiveOptions } from '../live/live-options.interface';
import type { RedisConnectionOptions } from '../pubsub/redis-pubsub';

export interface DatastarCsrfOptions {
  /** Header the token travels in (default `x-csrf-token`). */
  header?: string;
  /** Signal that may carry the token instead (default `csrf`). */
  signal?: string;
  /** Reads the token for a page, e.g. `(req) => req.csrfToken()`; it is put into the page's signals. */
  token?: (req: any) => string | undefined;
}

export interface DatastarModuleOptions {
  /** URL prefix of the dispatch route: `/<path>/:controller/:event` (default `ds`). */
  path?: string;
  /** Directory of Handlebars views and `partials/` (absolute, or relative to the working directory). */
  views?: string;
  /** Datastar client script URL (default: the v1.0.2 CDN build). */
  clientUrl?: string;
  /** Subresource Integrity of `clientUrl` (default: the v1.0.2 hash); `false` for none. */
  clientIntegrity?: string | false;
  /** Largest accepted signals body or query, in bytes (default 1 MiB). */
  signalsLimit?: number;
  /** Give up on a request body that stops arriving after this many ms: 408 (default 30000). */
  signalsTimeout?: number;
  /** CSRF token transport (off by default: use your CSRF middleware or guard to check it). */
  csrf?: DatastarCsrfOptions | false;
  /** class-validator options for `@Signals()` DTOs; `errorsSignal` names the signal that carries errors. */
  validation?: ValidatorOptions & { errorsSignal?: string };
  /** Hide error details from the browser console (default: NODE_ENV === 'production'). */
  production?: boolean;
  /** Cache compiled templates (default true; set false to pick up edits while developing). */
  cacheTemplates?: boolean;
  /** Extra Handlebars helpers for pages and fragments. */
  helpers?: Record<string, HelperDelegate>;
  /** Idle-stream heartbeat comment interval in ms (default 15000), or false. */
  heartbeat?: number | false;
  /** Unread bytes a stream may buffer before it is closed as too slow (default 1 MiB). */
  maxBufferedBytes?: number;
  /**
   * gzip/Brotli for Datastar responses, negotiated from `Accept-Encoding` and flushed after every
   * event (default off): `true`, or `{ encodings: ['br', 'gzip'], level: 6, quality: 5 }`.
   */
  compression?: boolean | SseCompressionOptions;
  /**
   * Fan-out and tab takeover across processes. Default: in memory (one process, nothing to
   * install). `{ redis: { url: 'redis://127.0.0.1:6379' } }` spans processes through Redis.
   */
  pubsub?: { redis?: RedisConnectionOptions };
  /** Live views: token secret (required in production), lifetimes, page shell. See "Live views" in the README. */
  live?: DatastarLiveOptions;
}
