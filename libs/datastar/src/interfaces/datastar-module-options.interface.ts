import type { HelperDelegate } from 'handlebars';
import type { ValidatorOptions } from 'class-validator';
import type { SseCompressionOptions } from '../protocol/sse-compression';
import type { SignalsLimits } from '../protocol/read-signals';
import type { DatastarLiveOptions } from './datastar-live-options.interface';
import type { RedisConnectionOptions } from '../redis/redis-connection';
import type { TopicBacklogOptions } from '../pubsub/topic-backlog';

export interface DatastarCsrfOptions {
  /** Header the token travels in (default `x-csrf-token`). */
  header?: string;
  /** Signal that may carry the token instead (default `csrf`). */
  signal?: string;
  /** Reads the token for a page, e.g. `(req) => req.csrfToken()`; it is put into the page's signals. */
  token?: (req: any) => string | undefined;
}

export interface DatastarStreamsOptions {
  /**
   * Cookie holding the random per-browser id that tab claims are bound to (default `ds_bid`;
   * HttpOnly, SameSite=Lax, Path=/, set by the first stream that has none), so a tab id alone can
   * never end another browser's stream. `false`: bind claims to `owner` alone.
   */
  browserCookie?: string | false;
  /**
   * Who a stream belongs to, e.g. `(req) => req.user?.id` (default: nobody): a claim only replaces
   * a stream of the same owner (and the same browser, unless `browserCookie` is false). When
   * neither gives an id, streams are not deduplicated.
   */
  owner?: (req: any) => string | undefined;
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
  /**
   * Bounds on the shape of signals, for every body kind and the `datastar` query; past one: 413
   * naming it. Defaults: `keys` 10000 (object keys and array items in total), `depth` 32,
   * `stringLength` 262144 (characters of one key or text).
   */
  signalsLimits?: SignalsLimits;
  /**
   * Datastar endpoints (events, live events, `_nav`, `_stream`) refuse requests that a browser marks
   * `Sec-Fetch-Site: cross-site` with 403 (default false). `true` allows every site; a list of
   * origins (`['https://app.example.com']`) allows those. Your CORS setup must also let them in.
   */
  allowCrossSite?: boolean | readonly string[];
  /** CSRF token transport (off by default: use your CSRF middleware or guard to check it). */
  csrf?: DatastarCsrfOptions | false;
  /** class-validator options for `@Signals()` DTOs; `errorsSignal` names the signal that carries errors. */
  validation?: ValidatorOptions & { errorsSignal?: string };
  /**
   * Send a failed handler's error message to the browser console (default false: the browser gets
   * a generic message with an error id, and only the server log, under the same id, has details).
   * Turn it on while developing; never where error messages could carry secrets.
   */
  exposeErrors?: boolean;
  /**
   * Compile each template and partial once (default: true when `NODE_ENV` is `production`, else
   * false: templates and partials are re-read when their file changed, so edits show without a restart).
   */
  cacheTemplates?: boolean;
  /**
   * On Express, have Node create each request and response with the app's prototypes (default
   * true). Express otherwise swaps them on every request, which in V8 gives each one a hidden
   * class of its own and costs about half of an Express request's CPU, in every route of the app
   * (README: Express). Nothing changes once Express's own init has run; set false to leave the
   * HTTP server exactly as Nest made it.
   */
  fastExpressRequests?: boolean;
  /** Extra Handlebars helpers for pages and fragments. */
  helpers?: Record<string, HelperDelegate>;
  /** Idle-stream heartbeat comment interval in ms (default 15000), or false. */
  heartbeat?: number | false;
  /**
   * Beat with a tiny `datastar-heartbeat` event (27 bytes) instead of a comment (3 bytes), which the
   * page can see (default true), so `{{ds-connection}}` (and the live shell) reopen a stream that
   * stayed silent for more than two heartbeats: a dead path (bytes dropped, sockets open) is noticed.
   * `false`: comment beats, no watchdog.
   */
  heartbeatEvent?: boolean;
  /** Unread bytes a stream may buffer before it is closed as too slow (default 1 MiB). */
  maxBufferedBytes?: number;
  /**
   * gzip/Brotli for Datastar responses, negotiated from `Accept-Encoding` and flushed after every
   * event (default off): `true`, or `{ encodings: ['br', 'gzip'], level: 6, quality: 5 }`.
   */
  compression?: boolean | SseCompressionOptions;
  /**
   * At shutdown (`app.close()`, SIGTERM with shutdown hooks) every open stream gets a `retry:` hint,
   * a random delay in ms between `min` and `max` (default 500 and 3000, so pages come back spread
   * out, not all at once), then its connection is dropped: the Datastar client retries a dropped
   * stream, never a cleanly ended one, and sends `Last-Event-ID` to resume. `false`: end streams
   * cleanly (open pages then stop updating until reloaded).
   */
  shutdownRetry?: { min?: number; max?: number } | false;
  /**
   * Fan-out and tab takeover across processes. Default: in memory (one process, nothing to
   * install). `{ redis: { url: 'redis://127.0.0.1:6379', secret: process.env.DATASTAR_REDIS_SECRET } }`
   * spans processes through Redis; `secret` (required, at least 32 characters, the same in every
   * process) signs every message, and messages that fail the check are dropped and counted.
   * `backlog`: what each topic keeps so a stream that reconnects with `Last-Event-ID` gets what it
   * missed (see `TopicBacklogOptions` for the bounds and their defaults; `false`: no replay, no ids).
   */
  pubsub?: { redis?: RedisConnectionOptions; backlog?: TopicBacklogOptions | false };
  /** How stream dedup (`streamScope`, `startStream()`) tells browsers and users apart. */
  streams?: DatastarStreamsOptions;
  /** Live views: token secret (required in production), lifetimes, page shell. See "Live views" in the README. */
  live?: DatastarLiveOptions;
}
