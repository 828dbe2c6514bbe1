/** The Datastar actions and scripts live pages use: events, navigation, the session stream, history. */
import { normalizePath } from '../core/datastar-settings';
import { DEFAULT_DISPATCH_PATH } from '../datastar.constants';
import { action, expr, htmlSafeJson, stringLiteral, type ActionOptions } from '../protocol';
import { LIVE_FLASH_ID, LIVE_LINK_ATTRIBUTE, LIVE_LOST_KEY, LIVE_TOKEN_HEADER, LIVE_TOKEN_SIGNAL } from './live.constants';
import { INVALID_NAV_TARGET, LIVE_ACTION_LOST_NOTICE, LIVE_SESSION_LOST_NOTICE } from './live.messages';
import { safeLocalPath } from './live-path';

/** Options of the live action builders. */
export interface LiveActionOptions {
  /** The module's `path` (default `ds`): navigation posts to `/<path>/_nav`. */
  path?: string;
  /** Extra action options (headers are merged with the token header). */
  action?: ActionOptions;
}

/**
 * `@post("/live/counter/_event/increment",{"headers":{"x-live-token":$_lv}})`: a live view's event,
 * authorised by the session token kept in the page's local `_lv` signal.
 */
export function liveEventAction(viewPath: string, event: string, options: ActionOptions = {}): string {
  const base = viewPath === '/' ? '' : viewPath;
  return liveAction('post', `${base}/_event/${encodeURIComponent(event)}`, options);
}

/**
 * Soft navigation as a Datastar action: `data-on:click="{{navigate '/live/b'}}"`. In a live page it
 * mounts the target in the same session (or loads it when it is not a live view of the group).
 * @example navigate('/live/b', { replace: true }) // @post("/ds/_nav",{"payload":{"to":"/live/b","replace":true},...})
 */
export function navigate(to: string, options: { replace?: boolean } & LiveActionOptions = {}): string {
  const target = safeLocalPath(to);
  if (target === undefined) throw new TypeError(INVALID_NAV_TARGET('navigate()', to));
  const base = normalizePath(options.path ?? DEFAULT_DISPATCH_PATH);
  return liveAction('post', `/${base ? `${base}/` : ''}_nav`, {
    ...options.action,
    payload: { to: target, replace: options.replace === true },
  });
}

/** A token-carrying action (its literals written by `action()`, so the client rewrites nothing inside them). */
export function liveAction(method: 'get' | 'post', url: string, options: ActionOptions = {}): string {
  const headers = { ...(options.headers ?? {}), [LIVE_TOKEN_HEADER]: expr(`$${LIVE_TOKEN_SIGNAL}`) };
  return action(method, url, { ...options, headers });
}

/**
 * The session stream: the token as a literal header (retries reuse it), no signals in the URL
 * (the server has them), kept open in hidden tabs (a closed stream would end the session).
 */
export function streamAction(streamUrl: string, token: string): string {
  return action('get', streamUrl, { headers: { [LIVE_TOKEN_HEADER]: token }, payload: {}, openWhenHidden: true });
}

/** `history.pushState` (or `replaceState`) to a validated same-origin path, JSON-encoded. */
export function navigationScript(target: string, replace: boolean): string {
  const method = replace ? 'replaceState' : 'pushState';
  return `{const u=new URL(${htmlSafeJson(target)},window.location.href);` +
    `if(u.origin===window.location.origin)window.history.${method}(null,"",u.href)}`;
}

/** A full page load of a validated same-origin path (JSON-encoded; never HTTP 3xx, which the client would morph in). */
export function fullLoadScript(target: string): string {
  return `window.location.href=new URL(${htmlSafeJson(target)},window.location.href).href`;
}

/**
 * Client 1.0.2 drops the body of a non-200 answer and does not retry a 4xx by default, firing a
 * `datastar-fetch` error event with the status instead: a 401 for the stream (or an event or
 * link of this view) means the session could not be resumed (expired, or the store lost it), so
 * the page reloads, at most once every 10 s so a broken setup cannot loop. The event that got the
 * 401 (read from the element's `_event/<name>` action) is noted for `lostNoticeExpression`.
 */
export function reloadOn401Expression(): string {
  return "if (evt.detail.type === 'error' && evt.detail.argsRaw && evt.detail.argsRaw.status === '401' " +
    `&& evt.detail.el && (el.contains(evt.detail.el) || evt.detail.el.hasAttribute('${LIVE_LINK_ATTRIBUTE}')) ` +
    "&& Date.now() - Number(sessionStorage.getItem('dsLiveReload') || 0) > 10000) " +
    "{ const m = Array.from(evt.detail.el.attributes, (a) => a.value).join(' ').match(new RegExp('/_event/([A-Za-z0-9_.%-]+)')); " +
    `sessionStorage.setItem('${LIVE_LOST_KEY}', m ? decodeURIComponent(m[1]) : ''); ` +
    "sessionStorage.setItem('dsLiveReload', String(Date.now())); window.location.reload() }";
}

/**
 * In a live page: after a reload for a session that was gone, says so in the flash region, and
 * names the action that was not applied (it is not replayed: the fresh page may show other data).
 */
export function lostNoticeExpression(): string {
  return `{const l = sessionStorage.getItem('${LIVE_LOST_KEY}'); if (l !== null) { sessionStorage.removeItem('${LIVE_LOST_KEY}'); ` +
    "const d = document.createElement('div'); d.className = 'ds-flash ds-flash-error'; d.setAttribute('role', 'alert'); " +
    `d.textContent = ${stringLiteral(LIVE_SESSION_LOST_NOTICE)} + (l ? ' ' + ${stringLiteral(LIVE_ACTION_LOST_NOTICE('{action}'))}.replace('{action}', () => l) : ''); ` +
    `document.getElementById('${LIVE_FLASH_ID}').append(d); setTimeout(() => d.remove(), 15000) }}`;
}

/** Back/forward between soft-navigated views: mount the view of the URL the browser now shows. */
export function popstateExpression(navUrl: string): string {
  return liveAction('post', navUrl, {
    payload: expr('{to: window.location.pathname + window.location.search, replace: true, pop: true}'),
  });
}

/** A `{{ds-link}}` click: soft navigation on plain left clicks in a live page, the browser's own otherwise. */
export function linkClickExpression(navAction: string): string {
  return 'if (evt.button === 0 && !evt.metaKey && !evt.ctrlKey && !evt.shiftKey && !evt.altKey ' +
    `&& !evt.defaultPrevented && (!el.target || el.target === '_self') && $${LIVE_TOKEN_SIGNAL}) ` +
    `{ evt.preventDefault(); ${navAction} }`;
}
