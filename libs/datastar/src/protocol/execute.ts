import type { DatastarEvent, EventOptions } from './datastar-event.interface';
import { patchElements } from './elements';
import { escapeAttribute } from './html-escape';
import { CONSOLE_LEVELS, DEFAULT_AUTO_REMOVE, type ConsoleLevel } from './protocol.constants';
import { htmlSafeJson } from './safe-json';

export interface ExecuteScriptOptions extends EventOptions {
  /** Remove the `<script>` element once it ran (default `DEFAULT_AUTO_REMOVE`, true). */
  autoRemove?: boolean;
  /** Extra attributes of the `<script>` element, e.g. `{ type: 'module' }`. */
  attributes?: Record<string, string | boolean>;
}

const ATTRIBUTE_NAME = /^[A-Za-z_:][-A-Za-z0-9_:.]*$/;

/** Runs `script` in the browser: a `<script>` appended to `body`, removed after it ran. */
export function executeScript(script: string, options: ExecuteScriptOptions = {}): DatastarEvent {
  let attrs = '';
  const attributes = options.attributes ?? {};
  for (const name of Object.keys(attributes)) {
    if (!ATTRIBUTE_NAME.test(name)) {
      throw new TypeError(`Invalid script attribute name "${name}": use letters, digits, "-", "_", ":" or ".".`);
    }
    const value = attributes[name];
    if (value === false) continue;
    attrs += value === true ? ` ${name}` : ` ${name}="${escapeAttribute(String(value))}"`;
  }
  // Only an explicit false keeps the script.
  if ((options.autoRemove ?? DEFAULT_AUTO_REMOVE) !== false) attrs += ' data-effect="el.remove()"';
  const body = neutraliseScriptEnd(String(script));
  return patchElements(`<script${attrs}>${body}</script>`, {
    selector: 'body',
    mode: 'append',
    eventId: options.eventId,
    retryDuration: options.retryDuration,
  });
}

export interface RedirectOptions extends EventOptions {
  /** Allow http(s) URLs on other origins than the page's (default false: same origin only). */
  allowCrossOrigin?: boolean;
  /** Origins allowed besides the page's own, e.g. ['https://auth.example.com']. */
  allowedOrigins?: readonly string[];
}

const SCHEME = /^[a-zA-Z][a-zA-Z0-9+.-]*:/;

/**
 * Sends the browser to `url` with a script (never an HTTP 3xx, which the client would follow and
 * morph in). Relative URLs are fine; absolute ones must be http(s) and, unless allowed, same-origin.
 */
export function redirect(url: string, options: RedirectOptions = {}): DatastarEvent {
  const target = String(url).trim();
  // Browsers ignore tabs and line breaks inside URLs: "java\nscript:" is still javascript:.
  const compact = target.replace(/[\t\r\n]/g, '');
  if (compact === '' || /[\u0000-\u001f\u007f]/.test(compact)) {
    throw new TypeError('redirect needs a URL without control characters.');
  }
  // "//host", "/\\host" and "\\host" are protocol-relative in browsers: treat them as absolute.
  const protocolRelative = /^[/\\]{2}/.test(compact);
  if (!protocolRelative && !SCHEME.test(compact)) {
    return executeScript(`window.location.href=new URL(${htmlSafeJson(compact)},window.location.href).href`, options);
  }
  let parsed: URL;
  try {
    parsed = new URL(protocolRelative ? `https://${compact.replace(/^[/\\]+/, '')}` : compact);
  } catch {
    throw new TypeError(`redirect cannot parse "${compact}" as a URL.`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new TypeError(`redirect refuses the "${parsed.protocol}" scheme: only http(s) URLs and paths are allowed.`);
  }
  const allowed = options.allowCrossOrigin || (options.allowedOrigins ?? []).some((o) => new URL(o).origin === parsed.origin);
  // The page's own origin is only known in the browser, so the script checks it there.
  const guard = allowed
    ? ''
    : 'if(u.origin!==window.location.origin)throw new Error("datastar: cross-origin redirect refused: "+u.href);';
  const href = protocolRelative ? compact.replace(/\\/g, '/') : parsed.href;
  return executeScript(
    `{const u=new URL(${htmlSafeJson(href)},window.location.href);${guard}window.location.href=u.href}`,
    options,
  );
}

/** Logs in the browser's console: `console.<level>(<json>)`. */
export function consoleLog(level: ConsoleLevel, ...values: unknown[]): DatastarEvent {
  if (!(CONSOLE_LEVELS as readonly string[]).includes(level)) {
    throw new TypeError(`Unknown console level "${String(level)}": use ${CONSOLE_LEVELS.join(', ')}.`);
  }
  const args = values.map((v) => htmlSafeJson(v === undefined ? null : v)).join(',');
  return executeScript(`console.${level}(${args})`);
}

/** `</script` (any case) would close the element early: break it as `<\/script`. */
export function neutraliseScriptEnd(script: string): string {
  return script.replace(/<\/(script)/gi, '<\\/$1').replace(/<!--/g, '<\\!--');
}
