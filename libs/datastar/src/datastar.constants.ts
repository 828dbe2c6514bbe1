export const STAR_CONTROLLER_METADATA = 'datastar:star-controller';
export const ON_EVENT_METADATA = 'datastar:on-event';
export const SIGNALS_PARAM_METADATA = 'datastar:signals-param';

/** Key of the Datastar view data in template locals (read by the Handlebars helpers). */
export const DATASTAR_LOCALS = '_datastar';

/** What a StarController or event name may be: it is a segment of the dispatch URL. */
export const DATASTAR_NAME = /^[A-Za-z0-9_-]+$/;

/** ASCII control characters, refused in pub/sub topics and stream scopes (log lines, Redis keys). */
export const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;

/** Every method an `@OnEvent()` may declare (checked at boot), and every method a Datastar route listens to. */
export const DATASTAR_EVENT_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

export const DEFAULT_DISPATCH_PATH = 'ds';
export const DEFAULT_CSRF_HEADER = 'x-csrf-token';
export const DEFAULT_CSRF_SIGNAL = 'csrf';
export const DEFAULT_ERRORS_SIGNAL = 'errors';
/**
 * The key, in the errors signal, of a message for the whole page: a failed or refused event's
 * (`{ page: 'Todo 7 not found' }`, `$errors.page`). Not `_`: the client never sends `_` paths back, so
 * the next request could not clear it.
 */
export const PAGE_ERROR_KEY = 'page';
export const DEFAULT_HEARTBEAT_MS = 15_000;
export const DEFAULT_BROWSER_COOKIE = 'ds_bid';
/** The window of the random `retry:` hint streams get at shutdown, in ms (`shutdownRetry`). */
export const DEFAULT_SHUTDOWN_RETRY = Object.freeze({ min: 500, max: 3000 });
/** Pub/sub replay: what each topic keeps for streams that come back with `Last-Event-ID` (`pubsub.backlog`). */
export const DEFAULT_BACKLOG = Object.freeze({ maxEvents: 100, maxBytes: 64 * 1024, maxTopics: 1000, maxAgeMs: 60 * 60 * 1000 });
/** Longest `Last-Event-ID` read; a longer one is not ours (resync). */
export const MAX_LAST_EVENT_ID_LENGTH = 128;
/** Shortest accepted HMAC secret (live tokens, Redis messages). */
export const MIN_SECRET_LENGTH = 32;

// Live views
export const DEFAULT_TOKEN_TTL_MS = 60 * 60 * 1000;
export const DEFAULT_GRACE_MS = 15_000;
export const DEFAULT_IDLE_TIMEOUT_MS = 15_000;
export const DEFAULT_MAX_PENDING_SESSIONS = 10_000;
export const DEFAULT_MAX_PENDING_PER_CLIENT = 50;
export const DEFAULT_MAX_SIGNAL_BYTES = 64 * 1024;
export const DEFAULT_FLASH_MS = 4_000;
/** The embedded live session store's folder, under the working directory. */
export const DEFAULT_LIVE_STORE_DIR = '.datastar/sessions';
/** Session records the embedded store keeps at most (the least recently used go first). */
export const DEFAULT_MAX_STORED_SESSIONS = 10_000;
/** Several processes (`pubsub.redis`): how long a forwarded live request waits, and a session owner's lease. */
export const DEFAULT_FORWARD_TIMEOUT_MS = 5_000;
export const DEFAULT_OWNER_LEASE_MS = 30_000;
