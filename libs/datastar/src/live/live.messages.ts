/** Every live-view error text in one place; each says what to do. */
export const INVALID_LIVE_ROUTE = (route: string, where: string) =>
  `Invalid @LiveView() route "${route}" on ${where}: start with "/" and use literal segments or ` +
  `":param" segments, e.g. '/live/users/:id' (no wildcards, no "_event" segment).`;

export const DUPLICATE_LIVE_ROUTE = (route: string, first: string, second: string) =>
  `Live view route "${route}" is declared twice (${first} and ${second}): give one of them another path.`;

export const LIVE_VIEW_NEEDS_RENDER = (where: string) =>
  `${where} is a @LiveView() without render(): add render(assigns) returning HTML or a template name, ` +
  `or give the decorator a template: @LiveView('/path', { template: 'my-view' }).`;

export const LIVE_VIEW_SCOPE = (where: string) =>
  `${where} is a @LiveView() in request scope (or depends on a request-scoped provider): live views ` +
  `outlive requests, so keep them singletons and read per-request data from mount()'s session argument.`;

export const LIVE_VIEW_NOT_BOUND = (where: string) =>
  `${where} is a @LiveView() but DatastarModule did not discover it: import DatastarModule.forRoot() ` +
  `and list the view in a module's controllers.`;

export const LIVE_SECRET_REQUIRED =
  'Live views need a token secret in production: DatastarModule.forRoot({ live: { secret: process.env.LIVE_SECRET } }) ' +
  "with at least 32 random characters (node -e \"console.log(require('crypto').randomBytes(32).toString('base64url'))\").";

export const LIVE_SECRET_GENERATED =
  'No live.secret configured: live tokens are signed with a random per-process secret (pages from another ' +
  'process or an earlier run get 401 and reload). Set DatastarModule.forRoot({ live: { secret } }) before production.';

export const LIVE_SECRET_KEPT = (file: string) =>
  `No live.secret configured: live tokens are signed with a generated secret kept in ${file} (pages survive ` +
  'restarts on this machine only). Set DatastarModule.forRoot({ live: { secret } }) before production.';

export const LIVE_STORE_IN_USE = (dir: string, owner: string) =>
  `The live session folder ${dir} is in use by ${owner}: this app keeps its live sessions in memory only ` +
  '(they will not survive a restart). Give each process its own live.storeDir, or use Redis (pubsub.redis) for several.';

export const LIVE_STORE_MEMORY_ONLY = (dir: string, reason: string) =>
  `Cannot write live sessions to ${dir} (${reason}): they are kept in memory only and will not survive a restart. ` +
  'Make the folder writable or set live.storeDir.';

export const LIVE_STORE_FAILED = (what: string, count: number, reason: string) =>
  `The live session store failed to ${what} (${count} time(s) in the last 10 s; last: ${reason}): sessions go on ` +
  'in memory but cannot be resumed after a restart until it works again.';

/** Shown in the page after a reload because its live session was gone; `action` is the event that was not applied. */
export const LIVE_SESSION_LOST_NOTICE = 'Your live session could not be resumed, so the page was reloaded.';
export const LIVE_ACTION_LOST_NOTICE = (action: string) => `Your last action (${action}) was not applied: please do it again.`;

export const LIVE_TOKEN_REFUSED = (reason: string) =>
  `Live token refused (${reason}): reload the page to start a new live session.`;

export const LIVE_STALE_TOKEN =
  'This live token belongs to a view the session has navigated away from: the event was ignored.';

export const LIVE_SESSION_BUSY = 'This live session has too many pending events: slow down and retry.';

export const UNKNOWN_LIVE_EVENT = (route: string) =>
  `The live view ${route} has no handleEvent(): add handleEvent(event, signals, ctx) to take events.`;

export const INVALID_LIVE_EVENT = 'Invalid live event name: use 1-100 letters, digits, ".", ":", "_" or "-".';

export const NAV_TARGET_REFUSED =
  'Navigation refused: the target must be a same-origin path starting with a single "/" (no scheme, ' +
  'no "//" or "\\", no control characters).';

export const STATELESS_CANNOT = (method: string) =>
  `ctx.${method}() needs a live session, but this view is stateless (state is rebuilt by mount() on ` +
  `every event): drop { stateless: true } from @LiveView() to keep a session with a stream.`;

export const NO_LIVE_VIEW_FOR_HELPER = (helper: string) =>
  `{{${helper}}} works inside a @LiveView()'s render: it needs the view's path to build the event URL.`;

export const CALLBACK_FAILED = (route: string, callback: string, message: string) =>
  `live view ${route}: ${callback} failed: ${message}`;

/** `where`: what was given the target, e.g. `navigate()` or `{{ds-link}}`. */
export const INVALID_NAV_TARGET = (where: string, target: unknown) =>
  `${where} needs a same-origin path starting with "/", got ${JSON.stringify(String(target)).slice(0, 80)}.`;

export const INVALID_SIGNAL_PATH = (path: string) => `Invalid signal path "${path}": use names like "user.email".`;

export const INVALID_FLASH_KIND = (kind: string) =>
  `Invalid flash kind "${kind}": use a word like 'info', 'error' or 'success' (it becomes the class ds-flash-<kind>).`;

export const INVALID_INTERVAL = (ms: number) => `sendEvery needs a positive interval in ms, got ${ms}.`;

export const INVALID_LINK_ATTRIBUTE = (name: string) =>
  `{{ds-link}} cannot set the attribute "${name}": use a plain attribute name other than href and data-on:click.`;

export const TOKEN_SECRET_EMPTY = 'LiveTokens needs a non-empty secret.';

export const INVALID_TOKEN_TTL = (ttl: number) => `live.tokenTtlMs must be a positive number of ms, got ${ttl}.`;

export const LIVE_TOO_MANY_PENDING = (scope: 'server' | 'client', retryAfterS: number) =>
  `Too many live sessions are waiting for their stream ${scope === 'client' ? 'from this client' : 'on this server'}: ` +
  `retry in ${retryAfterS} s. A live page opens its stream on load (data-init); pages that never do are dropped after live.idleTimeoutMs.`;

export const LIVE_SIGNALS_TOO_LARGE = (bytes: number, limit: number) =>
  `This event would make the live session's signals ${bytes} bytes, over live.maxSignalBytes (${limit}): ` +
  'keep large data on the server (ctx.assign) and send only what the page edits, or raise the limit.';

export const LIVE_SESSION_UNREACHABLE = (seconds: number) =>
  `The process that holds this live session did not answer: retry in ${seconds} s. If it keeps failing, check that ` +
  'every process reaches the same Redis (pubsub.redis) and raise live.forwardTimeoutMs if events are slow.';

export const LIVE_FORWARD_FAILED = (op: string, message: string) =>
  `A live ${op} forwarded from another process failed here: ${message}`;
