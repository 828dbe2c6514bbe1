import type { TemplateSource } from './template-source.interface';

/** `DatastarModule.forRoot({ live: { ... } })`: live views' tokens, timeouts and page shell. */
export interface DatastarLiveOptions {
  /**
   * HMAC secret of live tokens (at least 32 characters). Required in production; otherwise a
   * random per-process secret is used, with a warning (tokens then die with the process).
   */
  secret?: string;
  /** Token lifetime in ms (default 1 hour); an open session stream gets fresh tokens before they expire. */
  tokenTtlMs?: number;
  /** How long a session survives a dropped stream before `terminate('disconnect')` (default 15000). */
  graceMs?: number;
  /**
   * How long a session waits for its stream to open before `terminate('idle')` (default 15000).
   * Until then it runs no timer, subscription or `handleInfo`, and counts against the caps below.
   */
  idleTimeoutMs?: number;
  /** Sessions waiting for their stream, in total; past it a page GET answers 429 (default 10000). */
  maxPendingSessions?: number;
  /** Sessions waiting for their stream per client (see `clientKey`); past it a page GET answers 429 (default 50). */
  maxPendingPerClient?: number;
  /**
   * The client a page GET counts against for `maxPendingPerClient` (default `req.ip`; behind a
   * proxy set Express's or Fastify's `trust proxy` so it is the browser's address).
   */
  clientKey?: (req: any) => string | undefined;
  /** Largest JSON size of a session's signals once an event's are taken; past it the event gets 413 (default 65536). */
  maxSignalBytes?: number;
  /**
   * The page around a live view (a template name or a function of its locals). It must write
   * `live.attributes` on one element and `live.content` inside it, e.g.
   * `<main {{live.attributes}}>{{live.content}}</main>`. Default: a minimal HTML document.
   */
  mountTemplate?: TemplateSource;
  /** How long a `ctx.flash()` message stays, in ms (default 4000). */
  flashMs?: number;
}
