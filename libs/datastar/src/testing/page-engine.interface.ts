import type { CookieJar } from './cookie-jar';
import type { SseEvent } from './sse-event.interface';

/** One request the page made, for debugging and assertions. */
export interface PageRequest {
  method: string;
  /** Path and query. */
  url: string;
  status?: number;
}

/** What a page engine reports into, shared with the `DatastarPage` that shows it. */
export interface PageLog {
  readonly scripts: string[];
  readonly errors: string[];
  readonly requests: PageRequest[];
  /** Called after every change a `waitFor` may be waiting for. */
  changed(): void;
}

/** What every engine starts from: the loaded page. */
export interface PageSetup {
  url: string;
  html: string;
  /** Headers for every request (PageOptions.headers). */
  headers: Record<string, string>;
  /** The cookies of the page load, kept for every later request. */
  jar: CookieJar;
  log: PageLog;
}

/**
 * What runs a page: the page's own Datastar client in happy-dom, or the emulator. The verbs take
 * elements the page driver has found and checked, and wait (when asked) until what they started
 * has been answered and applied.
 */
export interface PageEngine {
  readonly window: Window & typeof globalThis;
  readonly document: Document;
  signals(): Record<string, unknown>;
  click(el: Element, wait: boolean): Promise<void>;
  type(el: Element, text: string): Promise<void>;
  submit(form: Element): Promise<void>;
  dispatch(el: Element, eventName: string, wait: boolean): Promise<void>;
  apply(event: SseEvent): Promise<void>;
  close(): Promise<void>;
}

export const ACCEPT = 'text/event-stream, text/html, application/json';

export function pathOf(href: string): string {
  const url = new URL(href);
  return url.pathname + url.search;
}

export function describe(el: Element): string {
  const id = el.id ? ` id="${el.id}"` : '';
  return `<${el.tagName.toLowerCase()}${id}>`;
}

/** The message for a Datastar answer the client does not apply. */
export function statusError(method: string, path: string, status: number): string {
  return `${method} ${path} answered ${status}: the Datastar client applies only 200 responses${status === 201 ? ' (answer POSTs with 200, not 201)' : ''}.`;
}
