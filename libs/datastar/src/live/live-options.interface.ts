import type { TemplateSource } from '../templates/datastar-templates.service';

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
  /** How long a session waits for its stream to open before `terminate('idle')` (default 30000). */
  idleTimeoutMs?: number;
  /**
   * The page around a live view (a template name or a function of its locals). It must write
   * `live.attributes` on one element and `live.content` inside it, e.g.
   * `<main {{live.attributes}}>{{live.content}}</main>`. Default: a minimal HTML document.
   */
  mountTemplate?: TemplateSource;
  /** How long a `ctx.flash()` message stays, in ms (default 4000). */
  flashMs?: number;
}
