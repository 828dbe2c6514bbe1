/** Live views: names and defaults, spelled once. */
export const LIVE_VIEW_METADATA = 'datastar:live-view';

/** Local signal (never sent by the client) that holds the session's signed token. */
export const LIVE_TOKEN_SIGNAL = '_lv';
/** Header that carries the token on stream, event and navigation requests (never the URL: access logs keep URLs). */
export const LIVE_TOKEN_HEADER = 'x-live-token';

/** The element that wraps a live page: signals, the session stream, the 401 and popstate handlers. */
export const LIVE_WRAPPER_ID = 'ds-live';
/** The element whose children are the view's render; patched (inner, morphed) after changes and on navigation. */
export const LIVE_ROOT_ID = 'ds-live-root';
/** Where `ctx.flash()` messages appear. */
export const LIVE_FLASH_ID = 'ds-flash';
/** sessionStorage key that carries, across the reload, the action a gone session did not apply. */
export const LIVE_LOST_KEY = 'dsLiveLost';
/** Marks `{{ds-link}}` anchors, so a 401 on their navigation reloads the page too. */
export const LIVE_LINK_ATTRIBUTE = 'data-live-link';

/** Key of the live data in render locals (`{{ds-event}}` reads it). */
export const LIVE_LOCALS = '_live';

/** Generated route handlers on a @LiveView class (strings: Nest scans own string-named methods). */
export const LIVE_PAGE_METHOD = '__dsLivePage';
export const LIVE_EVENT_METHOD = '__dsLiveEvent';

export const DEFAULT_LIVE_GROUP = 'default';

/** Tasks (events, infos) waiting per session before new infos are dropped and events get 429. */
export const MAX_SESSION_QUEUE = 1_000;
/** Patches kept for a session whose stream is not open; past that the next connect resends the whole state. */
export const MAX_OUTBOX = 256;
/** Forwarded request ids a session remembers (and its store keeps), so none runs twice. */
export const MAX_REMEMBERED_REQUESTS = 64;
/** Hops a live request may take between processes (the session moving meanwhile) before it gets 503. */
export const MAX_FORWARD_HOPS = 4;
/** Scope of live session streams in the StreamRegistryService. */
export const LIVE_STREAM_SCOPE = 'live';
