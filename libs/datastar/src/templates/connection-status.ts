/**
 * `{{ds-connection}}`: the page's connection state, from the client's `datastar-fetch` events
 * (client 1.0.2 fires them on `document` for every request: `started`, each SSE event by its type,
 * `retrying`, `retries-failed`, `finished`). "Reconnecting…" while a request is retried, "Connection
 * lost" with a reload once the client gave up (and a reload by itself when the server answers again),
 * hidden otherwise.
 *
 * With heartbeat events (`heartbeatEvent`) it is also a watchdog: a request still open with nothing
 * received for more than two heartbeats is on a dead path (bytes dropped, sockets open, which no
 * error ever reports), so its element's `data-init` is set again, which the client runs again: the
 * stream's `@get` reopens it, and the client cancels the old request (same method and URL).
 *
 * All of it is one `data-on:datastar-fetch` attribute, whose first run starts the page's timer: no
 * `data-on-interval`, which the testing module's page emulator refuses (it never fires this event).
 */
import type Handlebars from 'handlebars';
import type { DatastarSettings } from '../core/datastar-settings';
import { DATASTAR_LOCALS } from '../datastar.constants';
import { INVALID_CONNECTION_OPTION } from '../datastar.messages';
import { escapeAttribute, expressionLiteral } from '../protocol';
import type { DatastarViewData } from './datastar-helpers';

/** The indicator's id: style `#ds-connection` (and its `.ds-connection-reconnecting`, `.ds-connection-lost`). */
export const CONNECTION_ID = 'ds-connection';

/** The helper's hash options: its texts, and `style=false` to drop the default look. */
export interface ConnectionStatusTexts {
  reconnecting: string;
  lost: string;
  reload: string;
  style: boolean;
}

const DEFAULT_TEXTS: ConnectionStatusTexts = {
  reconnecting: 'Reconnecting…',
  lost: 'Connection lost.',
  reload: 'Reload',
  style: true,
};

// No `display` here: the `hidden` attribute must keep working.
const STYLE =
  'position:fixed;z-index:2147483647;left:50%;top:.75rem;transform:translateX(-50%);max-width:90vw;' +
  'padding:.375rem .875rem;border-radius:.375rem;background:#323232;color:#fff;font:14px/1.4 system-ui,sans-serif;' +
  'box-shadow:0 2px 8px rgba(0,0,0,.3)';

/** The timer's period without a watchdog (it then only probes, once the client gave up). */
const PROBE_MS = 5000;
/** A reload by the probe at most this often, so a server that answers but never streams cannot loop. */
const RELOAD_EVERY_MS = 60_000;

// Every literal goes through expressionLiteral, and the code has no `$` or `@`: the client rewrites
// nothing. Globals are read through `window` (the client's `Function` sees them the same way).
const lit = expressionLiteral;
const STATE = 'window.dsConnection';

/** Shows state `st` ('' hides the indicator): the child whose class names it, the others hidden. */
const SHOW =
  `const e = window.document.getElementById(${lit(CONNECTION_ID)}); ` +
  `if (e) { e.hidden = !st; for (const k of Array.from(e.children)) k.hidden = !k.classList.contains(${lit(`${CONNECTION_ID}-`)} + st) }`;

/**
 * `data-on:datastar-fetch`: starts the page's timer (see {@link watchCode}) once; counts each
 * element's open requests and when it last heard from them; marks the ones being retried, and the
 * page lost once the client gives up on one.
 */
export function trackExpression(watchdog?: Watchdog): string {
  return `const c = ${STATE} || (${STATE} = { streams: new Map(), lost: false, tick: 0, probing: false }); ` +
    `if (!c.timer) c.timer = window.setInterval(() => { ${watchCode(watchdog)} }, ${lit(watchdog?.tickMs ?? PROBE_MS)}); ` +
    'const t = evt.detail.type, s = evt.detail.el; ' +
    'if (s) { let r = c.streams.get(s); ' +
    "if (!r && t !== 'finished') c.streams.set(s, r = { open: 0, at: Date.now(), retrying: false }); " +
    "if (t === 'started') { r.open++; r.at = Date.now(); r.retrying = false } " +
    "else if (t === 'finished') { if (r && --r.open < 1) c.streams.delete(s) } " +
    "else if (t === 'retrying') r.retrying = true; " +
    "else if (t === 'retries-failed') c.lost = true; " +
    "else if (t.startsWith('datastar')) { r.at = Date.now(); r.retrying = false } } " +
    `let st = c.lost ? ${lit('lost')} : ''; ` +
    `if (!st) for (const r of c.streams.values()) if (r.retrying) st = ${lit('reconnecting')}; ` +
    SHOW;
}

/** When the watchdog runs: every `tickMs`, reopening what was silent for more than `deadlineMs`. */
export interface Watchdog {
  tickMs: number;
  deadlineMs: number;
}

/** The watchdog for a heartbeat, or undefined when streams do not beat with events the page can see. */
export function watchdogFor(writer: Pick<DatastarSettings['writer'], 'heartbeat' | 'heartbeatEvent'>): Watchdog | undefined {
  if (!writer.heartbeat || !writer.heartbeatEvent) return undefined;
  // A beat leaves between 1 and 1.5 heartbeats after the last write (the writer checks every half).
  return { tickMs: Math.max(10, Math.round(writer.heartbeat / 2)), deadlineMs: 2 * writer.heartbeat };
}

/**
 * What the page's timer runs: with a watchdog, sets `data-init*` again on the element of every open
 * request silent for longer than the deadline (not while the client retries it, the tab is hidden, or the
 * timer itself was held back, e.g. a hidden tab or a sleeping laptop: those restart the clock).
 * Once the client gave up: probes the page, and reloads when the server answers.
 */
export function watchCode(watchdog?: Watchdog): string {
  const tick = watchdog?.tickMs ?? PROBE_MS;
  const reopen = watchdog
    ? `const late = now - c.tick > 2 * ${lit(tick)}; c.tick = now; ` +
      'for (const [s, r] of c.streams) { ' +
      'if (!s.isConnected) c.streams.delete(s); ' +
      'else if (late || r.retrying || window.document.hidden) r.at = now; ' +
      `else if (now - r.at > ${lit(watchdog.deadlineMs)}) { r.at = now; ` +
      `for (const a of Array.from(s.attributes)) if (a.name.startsWith(${lit('data-init')})) s.setAttribute(a.name, a.value) } } `
    : '';
  const key = lit('dsConnectionReload');
  const probe =
    'if (c.lost && !c.probing) { c.probing = true; ' +
    "window.fetch(window.location.href, { method: 'HEAD', cache: 'no-store' }).then((p) => { " +
    `if (p.status < 500 && now - Number(window.sessionStorage.getItem(${key}) || 0) > ${lit(RELOAD_EVERY_MS)}) ` +
    `{ window.sessionStorage.setItem(${key}, String(now)); window.location.reload() } }, () => {}).finally(() => { c.probing = false }) }`;
  return `const c = ${STATE}, now = Date.now(); if (c) { ${reopen}${probe} }`;
}

/** The indicator (hidden until needed), with its handlers and the watchdog for `writer`'s heartbeat. */
export function connectionStatusHtml(
  writer: Pick<DatastarSettings['writer'], 'heartbeat' | 'heartbeatEvent'>,
  options: Readonly<Record<string, unknown>> = {},
): string {
  const texts = { ...DEFAULT_TEXTS };
  for (const [key, value] of Object.entries(options)) {
    const wanted = typeof DEFAULT_TEXTS[key as keyof ConnectionStatusTexts];
    if (!Object.hasOwn(DEFAULT_TEXTS, key) || typeof value !== wanted) throw new Error(INVALID_CONNECTION_OPTION(key, value));
    (texts as Record<string, unknown>)[key] = value;
  }
  const style = texts.style ? ` style="${STYLE}"` : '';
  return `<div id="${CONNECTION_ID}" role="status" aria-live="polite" hidden${style}` +
    ` data-on:datastar-fetch="${escapeAttribute(trackExpression(watchdogFor(writer)))}">` +
    `<span class="${CONNECTION_ID}-reconnecting">${escapeAttribute(texts.reconnecting)}</span>` +
    `<span class="${CONNECTION_ID}-lost" hidden>${escapeAttribute(texts.lost)} ` +
    `<button type="button" data-on:click="window.location.reload()">${escapeAttribute(texts.reload)}</button></span></div>`;
}

/**
 * `{{ds-connection}}` for the layout (texts as hash options: `{{ds-connection reconnecting='…' lost='…'
 * reload='…'}}`, `style=false` to style `#ds-connection` yourself). Nothing in a live page: its
 * shell has the indicator already.
 */
export function registerConnectionHelper(hbs: typeof Handlebars, settings: Pick<DatastarSettings, 'writer'>): void {
  hbs.registerHelper('ds-connection', function (helperOptions?: Handlebars.HelperOptions) {
    const view = helperOptions?.data?.root?.[DATASTAR_LOCALS] as DatastarViewData | undefined;
    if (view?.connectionShown) return '';
    return new hbs.SafeString(connectionStatusHtml(settings.writer, helperOptions?.hash));
  });
}
