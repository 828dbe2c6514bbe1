/**
 * Texts of the module, its options, dispatch, templates and Redis; each says what to do. Live views'
 * are in live/live.messages.ts, the wire layer's in protocol/read-signals.messages.ts.
 */
export const DUPLICATE_EVENT = (controller: string, event: string, first: string, second: string) =>
  `Datastar event "${controller}/${event}" is declared twice (${first} and ${second}): ` +
  `rename one @OnEvent() or give one controller another name with @StarController('name').`;

export const INVALID_NAME = (kind: 'controller' | 'event', name: string, where: string) =>
  `Invalid Datastar ${kind} name "${name}" on ${where}: use letters, digits, "-" and "_" (it becomes a URL segment).`;

export const UNKNOWN_EVENT = (controller: string, event: string) =>
  `No Datastar handler for "${controller}/${event}": check the @StarController() name and the @OnEvent() name.`;

export const OUTSIDE_REQUEST = (method: string) =>
  `SignalTracker.${method}() was called outside a Datastar request: call it from a @StarController() ` +
  `page handler or an @OnEvent() handler (or code they await).`;

export const PAGE_CANNOT = (method: string) =>
  `SignalTracker.${method}() sends a patch, but a page GET renders HTML: use signal()/assign() for the ` +
  `page's initial state, or call it from an @OnEvent() handler.`;

export const NO_VIEWS = (name: string) =>
  `Template "${name}" cannot be rendered: set DatastarModule.forRoot({ views: 'path/to/views' }) ` +
  `or pass a function (assigns) => string.`;

export const TEMPLATE_NOT_FOUND = (name: string, dir: string) =>
  `Template "${name}" was not found in ${dir} (looked for ${name}.hbs and partials/${name}.hbs).`;

export const VIEWS_MISSING = (dir: string, cwd: string) =>
  `The Datastar views folder ${dir} does not exist: @Render() pages and template fragments will fail at their ` +
  `first request ("Failed to lookup view"). A relative views option is resolved against the working directory ` +
  `(${cwd}): create the folder, start the app where it is, or give an absolute path, e.g. ` +
  "views: join(import.meta.dirname, '..', 'views') (ESM) or join(__dirname, '..', 'views') (CommonJS).";

export const VIEWS_NEED_EXPRESS =
  'useDatastarViews() needs the Express adapter. On Fastify, register @fastify/view with ' +
  '{ engine: { handlebars: app.get(DatastarTemplates).handlebars } }, or render with DatastarTemplates.render().';

export const VIEWS_NEED_DIRECTORY =
  "useDatastarViews() needs a views directory: DatastarModule.forRoot({ views: 'views' }).";

export const NO_CONTROLLER_FOR_ACTION = (helper: string) =>
  `{{${helper}}} needs to know the controller: render the template from a @StarController(), ` +
  `or name it, e.g. {{${helper} 'counter/increment'}}.`;

export const INVALID_SCRIPT_OPTION = (key: string, value: unknown) =>
  `{{ds-script}} has no option ${key}=${JSON.stringify(value)}: use notice=false (no failure notice) or ` +
  'reloadOn401=false (a 401 shows the notice instead of reloading the page).';

export const INVALID_CONNECTION_OPTION = (key: string, value: unknown) =>
  `{{ds-connection}} has no option ${key}=${JSON.stringify(value)}: use reconnecting='...', lost='...' and ` +
  "reload='...' for its texts, or style=false to style #ds-connection yourself.";

export const INVALID_PATH = (path: string) =>
  `Invalid Datastar path "${path}": use URL path characters only, e.g. 'ds' or 'api/ds'.`;

export const INVALID_EVENT_METHOD = (method: string, event: string, where: string) =>
  `Invalid method "${method}" in @OnEvent('${event}') on ${where}: use 'GET', 'POST', 'PUT', 'PATCH' or 'DELETE' ` +
  `(default 'POST'), e.g. @OnEvent('${event}', { method: 'GET' }).`;

export const DATASTAR_REQUEST_REQUIRED =
  'Datastar endpoints answer only requests with the header "Datastar-Request: true", which every Datastar ' +
  'action (@get, @post, ...) sends: call this URL from a Datastar action, or add the header (tests, other clients). ' +
  'Browsers cannot add it to cross-site links and forms, which is what keeps these endpoints safe from CSRF.';

export const CROSS_SITE_REFUSED =
  'Cross-site Datastar request refused (Sec-Fetch-Site: cross-site): serve the page from this site, or allow its ' +
  "origin with DatastarModule.forRoot({ allowCrossSite: ['https://app.example.com'] }) (true allows every site).";

export const METHOD_NOT_ALLOWED = (method: string, allowed: string) =>
  `${method} is not allowed here: this Datastar endpoint answers ${allowed}. For an @OnEvent(), ` +
  `{{ds-action 'event'}} emits the method it declares; choose one with @OnEvent('event', { method: 'GET' }).`;

export const WRONG_ACTION_METHOD = (helper: string, target: string, declared: string) =>
  `{{${helper} '${target}'}}: that event answers ${declared} only: use {{ds-${declared.toLowerCase()} '${target}'}} ` +
  `or {{ds-action '${target}'}}, or declare another method with @OnEvent(name, { method }).`;

export const UNKNOWN_ACTION_EVENT = (helper: string, target: string) =>
  `{{${helper} '${target}'}} names no @OnEvent() handler, so its method is unknown: check the controller and ` +
  `event names, or use {{ds-post '${target}'}} (or ds-get, ...) to pick the method yourself.`;

export const INVALID_ALLOW_CROSS_SITE = (value: unknown) =>
  `Invalid allowCrossSite ${JSON.stringify(value)}: use false (default), true, or a list of origins like ` +
  `['https://app.example.com'] (scheme, host and port only).`;

export const ERROR_HIDDEN = (id: string) =>
  `The server could not complete this request (error ${id}: the server log has the details under this id).`;

export const ERROR_LOGGED = (details: string, id: string) => `${details} [error ${id}]`;

export const EVENT_FAILED = (event: string, message: string) => `${event} failed: ${message}`;

export const EVENT_REJECTED = (event: string, status: number, message: string) => `${event} answered ${status}: ${message}`;

export const REDIS_SECRET_REQUIRED =
  'Redis pub/sub needs a secret to sign its messages: DatastarModule.forRoot({ pubsub: { redis: { url, ' +
  'secret: process.env.DATASTAR_REDIS_SECRET } } }), at least 32 random characters (openssl rand -hex 32), ' +
  'the same in every process of the app. Without it anyone who can PUBLISH to Redis reaches every stream.';

export const REDIS_SECRET_TOO_SHORT = (length: number) =>
  `pubsub.redis.secret is ${length} characters long: use at least 32 random characters ` +
  '(openssl rand -hex 32), the same in every process of the app.';

export const REDIS_MESSAGES_REJECTED = (count: number, channel: string) =>
  `Dropped ${count} Redis message(s) with a missing, wrong or expired signature (last on "${channel}"): another ` +
  'program publishes on this app\'s channels, a process runs with another pubsub.redis.secret, or clocks ' +
  'differ by over a minute. Restrict the channels with Redis ACLs (see "Redis" in the README).';

export const LIVE_SECRET_TOO_SHORT = (length: number) =>
  `The live token secret has ${length} characters: use at least 32 random characters ` +
  "(node -e \"console.log(require('crypto').randomBytes(32).toString('base64url'))\").";

export const INVALID_LIVE_STORE = (store: unknown) =>
  `live.store must be 'memory' or an object with get(id), set(id, value, ttlMs) and delete(id), got ${typeof store}: ` +
  'leave it out for the default (Redis when pubsub.redis is set, else memory plus a journal in live.storeDir).';

export const INVALID_OPTION = (name: string, value: unknown, expected: string) =>
  `DatastarModule option ${name} must be ${expected}, got ${typeof value === 'number' ? value : JSON.stringify(value)}: fix it or leave it out for the default.`;

export const INVALID_BROWSER_COOKIE = (name: string) =>
  `Invalid streams.browserCookie ${JSON.stringify(name)}: use a cookie name of letters, digits, ` +
  "'-' or '_' (default 'ds_bid'), or false to bind tab claims to streams.owner alone.";
