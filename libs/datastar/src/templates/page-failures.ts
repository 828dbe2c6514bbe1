/**
 * What a page does when one of its Datastar requests fails. Client 1.0.2 drops the body of a
 * non-200 answer and leaves the page as it was, firing a `datastar-fetch` event on `document`
 * instead (`error` with the status, `retries-failed` for a lost stream); failures after the stream
 * started reach the page in the errors signal under `page`. `{{ds-script}}` puts these handlers on the
 * client's own script element, whose `data-on:*` attributes the client reads like any other.
 */
import { PAGE_ERROR_KEY } from '../datastar.constants';
import { escapeAttribute, expressionLiteral } from '../protocol';
import { CONNECTION_ID } from './connection-status';

/** The element that shows failures: the page's own when it has one (style it freely), else a default one. */
export const NOTICE_ID = 'ds-notice';

export interface PageFailureOptions {
  /** Show failures in the notice (an HTTP error status, a lost stream, the errors signal's `page`). */
  notice: boolean;
  /** A 401 reloads the page (at most once every 10 s, so a broken login cannot loop), so the app can ask for a login. */
  reloadOn401: boolean;
  errorsSignal: string;
}

const NOTICE_STYLE =
  'position:fixed;z-index:2147483647;left:50%;bottom:1rem;transform:translateX(-50%);max-width:90vw;' +
  'padding:.5rem 1rem;border-radius:.375rem;background:#b3261e;color:#fff;font:14px/1.4 system-ui,sans-serif;' +
  'box-shadow:0 2px 8px rgba(0,0,0,.3);cursor:pointer';

// Literals go through expressionLiteral, and the code has no `$` or `@`: the client rewrites nothing.
const lit = expressionLiteral;

/** Shows the text in `t` (hides the notice when it is empty); a click hides it. */
const SHOW_NOTICE =
  `let n = document.getElementById(${lit(NOTICE_ID)}); ` +
  `if (!n && t) { n = document.createElement('div'); n.id = ${lit(NOTICE_ID)}; n.setAttribute('role', 'alert'); ` +
  `n.style.cssText = ${lit(NOTICE_STYLE)}; n.addEventListener('click', () => { n.hidden = true }); document.body.append(n) } ` +
  'if (n) { n.textContent = t; n.hidden = !t }';

/** A failed request: the 401 reload, or the notice with the status (or the lost connection). */
function fetchExpression({ notice, reloadOn401 }: PageFailureOptions): string {
  const reload = "if (s === '401' && Date.now() - Number(sessionStorage.getItem('dsReload401') || 0) > 10000) " +
    "{ sessionStorage.setItem('dsReload401', String(Date.now())); window.location.reload() }";
  const show = `{ const t = s ? ${lit('Request failed (HTTP ')} + s + ').' : ${lit('Connection lost: reload the page.')}; ${SHOW_NOTICE} }`;
  const then = reloadOn401 && notice ? `${reload} else ${show}` : reloadOn401 ? reload : show;
  // A lost stream is `{{ds-connection}}`'s to show, when the page has it.
  return "if (evt.detail.type === 'error' || (evt.detail.type === 'retries-failed' && " +
    `!document.getElementById(${lit(CONNECTION_ID)}))) ` +
    `{ const s = evt.detail.type === 'error' && evt.detail.argsRaw ? String(evt.detail.argsRaw.status) : ''; ${then} }`;
}

/** A patch of the errors signal's `page`: shown, or hidden when emptied (the next request clears it). */
function signalPatchExpression({ errorsSignal }: PageFailureOptions): string {
  const path = errorsSignal.split('.').map((key) => `?.[${lit(key)}]`).join('');
  return `const e = evt.detail${path}; ` +
    `if (e && typeof e === 'object' && ${lit(PAGE_ERROR_KEY)} in e) { const v = e[${lit(PAGE_ERROR_KEY)}]; const t = v ? String(v) : ''; ${SHOW_NOTICE} }`;
}

/** The `data-on:*` attributes for the client's script element (empty when both are off). */
export function pageFailureAttributes(options: PageFailureOptions): string {
  const attributes: string[] = [];
  if (options.notice || options.reloadOn401) attributes.push(`data-on:datastar-fetch="${escapeAttribute(fetchExpression(options))}"`);
  if (options.notice) attributes.push(`data-on:datastar-signal-patch="${escapeAttribute(signalPatchExpression(options))}"`);
  return attributes.join(' ');
}
