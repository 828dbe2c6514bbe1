import type { TemplateSource } from './template-source.interface';

/** `DatastarModule.forRoot({ live: { ... } })`: live views' tokens, timeouts and page shell. */
export interface DatastarLiveOptions {
  /**
   * HMAC secret of live tokens (at least 32 characters). Required in production; otherwise a
   * random secret is generated, with a warning, and kept in `<storeDir>/secret` (mode 0600) so
   * tokens survive restarts on this machine (per process when that folder cannot be written).
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
  /**
   * Where live sessions are kept so a page resumes its session after a restart, a crash or a drop
   * longer than `graceMs` (same state, no reload). Default: Redis when `pubsub.redis` is set,
   * else in memory plus a journal file in `storeDir` (survives a restart or a crash of the process
   * on this machine). `'memory'`: no file (sessions outlive long drops, not the process). Or your
   * own `LiveSessionStore`.
   */
  store?: 'memory' | LiveSessionStore;
  /**
   * Folder of the embedded store's journal (and of the generated secret), relative to the working
   * directory (default `.datastar/sessions`). When it cannot be written, sessions are kept in
   * memory only, with a warning at boot. One process per folder: use Redis for several.
   */
  storeDir?: string;
  /**
   * fsync the journal after each write (default false). Without it a session's state reaches the
   * OS at the end of every event that changed it, which a crash of the process (SIGKILL, OOM)
   * does not lose; a power loss or a kernel crash may lose the last seconds.
   */
  storeFsync?: boolean;
  /**
   * Most session records the embedded store (journal or `'memory'`) keeps (default 10000): past
   * it the least recently saved or resumed one is forgotten, like an expired one (its page gets
   * 401 and reloads, with the notice). Set it above the sessions you expect to resume at once.
   * Not applied to Redis (each record expires `sessionTtlMs` after its last save, and Redis's own
   * `maxmemory` bounds it) nor to a store of your own.
   */
  maxStoredSessions?: number;
  /** How long a session not seen is kept in the store, in ms (default `tokenTtlMs`: its token expires by then anyway). */
  sessionTtlMs?: number;
  /** How a session record becomes the string the store keeps, and back (default JSON). */
  serializer?: LiveSessionSerializer;
  /**
   * With `pubsub.redis`: how long a request that landed on another process waits for the answer
   * of the process that holds the session, in ms, before it is refused with 503 (default 5000).
   * An owner that is gone is noticed at once; this only bounds a slow or stuck one.
   */
  forwardTimeoutMs?: number;
  /**
   * With `pubsub.redis`: lifetime of a process's claim on a session (its Redis lease), in ms,
   * renewed every third of it while the process keeps the session (default 30000). A process that
   * stops renewing (hung, cut off from Redis) loses its sessions to others after this.
   */
  ownerLeaseMs?: number;
}

/** A timer or subscription a live view started: part of its state, started again on resume. */
export type LiveSessionTaskRecord =
  | { readonly kind: 'every'; readonly ms: number; readonly message: unknown }
  | { readonly kind: 'after'; readonly at: number; readonly message: unknown }
  | { readonly kind: 'subscribe'; readonly topic: string; readonly forward: boolean };

/** A live session as its store keeps it: enough to take the view back without running mount() again. */
export interface LiveSessionRecord {
  /** Format version. */
  readonly v: 1;
  readonly id: string;
  /** The view's route pattern (`/live/users/:id`): which class takes the session back. */
  readonly route: string;
  readonly path: string;
  readonly search: string;
  readonly params: Readonly<Record<string, string>>;
  readonly assigns: Readonly<Record<string, unknown>>;
  readonly signals: Readonly<Record<string, unknown>>;
  readonly tasks: readonly LiveSessionTaskRecord[];
  /** The page's stream connected once (a page that never connected is not kept when it goes idle). */
  readonly connected: boolean;
  /**
   * Ids of the latest requests forwarded from other processes that this session ran: one retried
   * after its owner died (and answered nobody) is not applied twice.
   */
  readonly requests?: readonly string[];
}

/** Turns session records into the strings a `LiveSessionStore` keeps, and back. */
export interface LiveSessionSerializer {
  serialize(record: LiveSessionRecord): string;
  deserialize(text: string): LiveSessionRecord;
}

/**
 * Where live sessions are kept between processes and restarts: strings by session id, each with
 * a time to live. Any key-value store with expiry will do (Redis, Memcached, a database table).
 */
export interface LiveSessionStore {
  get(id: string): Promise<string | undefined> | string | undefined;
  /** Replaces the session's value; it expires `ttlMs` from now unless set again. */
  set(id: string, value: string, ttlMs: number): Promise<void> | void;
  delete(id: string): Promise<void> | void;
  /** The application is closing. */
  close?(): Promise<void> | void;
}
