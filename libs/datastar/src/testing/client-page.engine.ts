/**
 * The page driver's first choice: the page's own Datastar client, run in happy-dom. The page's
 * HTML goes into a happy-dom window, the client bundle runs in it (as a classic script, because
 * happy-dom's module loader cannot compile it), and every request it makes goes to the app over
 * real HTTP with the page's cookies and headers. What the test sees is what the client did.
 */
import type { ClientBundle, ClientScriptTag } from './client-bundle';
import { pathOf, statusError, type PageEngine, type PageRequest, type PageSetup } from './page-engine.interface';
import type { SseEvent } from './sse-event.interface';

interface HappyRequest { url: string; method: string; headers: Headers; signal?: AbortSignal; text(): Promise<string> }
type HappyResponse = object;
type HappyWindow = Window & typeof globalThis & {
  happyDOM: { abort(): Promise<void>; waitUntilComplete(): Promise<void> };
  eval(code: string): unknown;
};
export interface HappyDom {
  Window: new (options: Record<string, unknown>) => unknown;
}

/** What a waiting verb keeps count of: timers and requests started since it began, and errors. */
interface Tracker {
  timers: Set<unknown>;
  fetches: Map<EventTarget, number>;
  errors: Error[];
}

const EXPORTS = /export\s*\{([^}]*)\}\s*;?/;
const SETTLE_POLL_MS = 5;

export class ClientPage implements PageEngine {
  readonly window: HappyWindow;
  readonly document: Document;

  private readonly trackers = new Set<Tracker>();
  /** What ends each open response body, for close(). */
  private readonly endings = new Set<() => void>();
  private root: object = {};
  /** Forms whose identity is kept (see keepFormIdentity). */
  private readonly forms = new WeakSet<Element>();
  private closed = false;

  private constructor(private readonly setup: PageSetup, happy: HappyDom, private readonly tag: ClientScriptTag | undefined) {
    this.window = new happy.Window({
      url: setup.url,
      console: this.pageConsole(),
      settings: {
        enableJavaScriptEvaluation: true,
        suppressInsecureJavaScriptEnvironmentWarning: true,
        // A redirect script only changes the URL: the test keeps the page it is looking at.
        navigation: { disableMainFrameNavigation: true },
        fetch: {
          interceptor: {
            beforeAsyncRequest: async ({ request, window }: { request: HappyRequest; window: HappyWindow }) => this.beforeRequest(request, window),
          },
        },
      },
    }) as HappyWindow;
    this.document = this.window.document;
  }

  /** Builds the page in happy-dom and starts the client on it. */
  static async start(setup: PageSetup, happy: HappyDom, bundle: ClientBundle, tag: ClientScriptTag | undefined): Promise<ClientPage> {
    const page = new ClientPage(setup, happy, tag);
    await page.boot(bundle);
    return page;
  }

  signals(): Record<string, unknown> {
    return JSON.parse(JSON.stringify(this.root)) as Record<string, unknown>;
  }

  click(el: Element, wait: boolean): Promise<void> {
    return this.tracked(() => (el as HTMLElement).click(), wait);
  }

  type(el: Element, text: string): Promise<void> {
    return this.tracked(() => {
      (el as HTMLInputElement).value = text;
      el.dispatchEvent(new this.window.Event('input', { bubbles: true }));
      if (el.tagName.toLowerCase() === 'select') el.dispatchEvent(new this.window.Event('change', { bubbles: true }));
    }, true);
  }

  submit(form: Element): Promise<void> {
    return this.tracked(() => (form as HTMLFormElement).requestSubmit(), true);
  }

  dispatch(el: Element, eventName: string, wait: boolean): Promise<void> {
    return this.tracked(() => el.dispatchEvent(new this.window.Event(eventName, { bubbles: true, cancelable: true })), wait);
  }

  /** Hands an event to the client's own patch watchers, as its fetch does, and lets it apply. */
  async apply(event: SseEvent): Promise<void> {
    const argsRaw: Record<string, string> = {};
    for (const [key, lines] of Object.entries(event.data)) argsRaw[key] = lines.join('\n');
    if (event.patchElements && !Object.keys(argsRaw).length) {
      const { selector, mode, namespace, elements, useViewTransition } = event.patchElements;
      Object.assign(argsRaw, { mode, namespace, elements, useViewTransition: String(useViewTransition) }, selector ? { selector } : {});
    }
    if (event.patchSignals && !Object.keys(argsRaw).length) {
      Object.assign(argsRaw, { signals: JSON.stringify(event.patchSignals.signals), onlyIfMissing: String(event.patchSignals.onlyIfMissing) });
    }
    await this.tracked(() => this.document.dispatchEvent(new this.window.CustomEvent('datastar-fetch', {
      detail: { type: event.type, el: this.document.documentElement, argsRaw },
    })), true);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const end of [...this.endings]) end();
    this.endings.clear();
    // abort(), not close(): close() empties the document, which a test may still read.
    await this.window.happyDOM.abort();
  }

  // ---------------------------------------------------------------- booting

  private async boot(bundle: ClientBundle): Promise<void> {
    const { window } = this;
    // The client tests `instanceof MathMLElement`, which happy-dom does not define.
    (window as { MathMLElement?: unknown }).MathMLElement ??= class MathMLElement extends window.Element {};
    this.watchTimers();
    window.document.write(this.setup.html);
    await window.happyDOM.waitUntilComplete();
    this.keepFormIdentity(this.document.documentElement);
    this.watchInsertions();
    this.document.addEventListener('datastar-fetch', (evt) => this.onFetchEvent(evt as CustomEvent<{ type: string; el?: EventTarget }>));
    const exports = this.runBundle(bundle);
    this.root = exports.root;
    // The client initialises the page in a task of its own.
    await new Promise((resolve) => setTimeout(resolve, SETTLE_POLL_MS));
    this.setup.log.changed();
  }

  /** Runs the ES module bundle as a function that returns its exports. */
  private runBundle(bundle: ClientBundle): { root: object } {
    const m = EXPORTS.exec(bundle.code);
    const names = m ? m[1].split(',').map((s) => s.trim().split(/\s+as\s+/)) : [];
    const root = names.find(([, exported]) => exported === 'root');
    if (!m || !root) throw new Error(`${bundle.from} is not a Datastar 1.x ES module bundle (no "export { … as root }").`);
    const returned = `return {${names.map(([local, exported = local]) => `${JSON.stringify(exported)}: ${local}`).join(', ')}};`;
    return this.window.eval(`(function () {\n${bundle.code.replace(m[0], returned)}\n})()`) as { root: object };
  }

  // ---------------------------------------------------------------- requests

  /**
   * Requests to the app are made here, with Node's fetch: the page's headers and cookie jar, and
   * a body the page driver can end cleanly on close() (an aborted body would make the client
   * retry and throw).
   */
  private async beforeRequest(request: HappyRequest, window: HappyWindow): Promise<HappyResponse | undefined> {
    // The page's own client script: the client already runs from the bundle.
    if (this.tag && request.url === this.tag.src) return new window.Response('', { headers: { 'Content-Type': 'text/javascript' } });
    if (this.closed || new URL(request.url).origin !== new URL(this.setup.url).origin) return undefined;
    const headers = new Headers();
    request.headers.forEach((value, name) => headers.set(name, value));
    for (const [name, value] of Object.entries(this.setup.headers)) headers.set(name, value);
    const cookie = this.setup.jar.header();
    if (cookie) headers.set('Cookie', cookie);
    const record: PageRequest = { method: request.method, url: pathOf(request.url) };
    this.setup.log.requests.push(record);
    const hasBody = request.method !== 'GET' && request.method !== 'HEAD';
    const connection = new AbortController();
    const abort = () => connection.abort();
    this.endings.add(abort);
    // The client's request cancellation reaches the app: the connection closes, as in a browser.
    request.signal?.addEventListener('abort', abort);
    let res: Response;
    try {
      res = await fetch(request.url, { method: request.method, headers, body: hasBody ? await request.text() : undefined, signal: connection.signal });
    } catch (error) {
      // Closed before the answer came: a 204 ends the client's request without a retry.
      if (this.closed) return new window.Response(null, { status: 204 });
      throw error;
    } finally {
      this.endings.delete(abort);
    }
    record.status = res.status;
    this.setup.jar.store(res.headers);
    if (headers.get('Datastar-Request') && res.status !== 200 && res.status !== 204) {
      this.setup.log.errors.push(statusError(record.method, record.url, res.status));
    }
    // Plain pairs: happy-dom's Response does not read Node's Headers.
    const responseHeaders = [...res.headers].filter(([name]) => name !== 'set-cookie');
    const body = [101, 204, 205, 304].includes(res.status) ? null : this.endable(res.body, connection);
    return new window.Response(body, { status: res.status, statusText: res.statusText, headers: responseHeaders });
  }

  /** `body`, ended cleanly (and its connection closed) when the page closes. */
  private endable(body: ReadableStream<Uint8Array> | null, connection: AbortController): ReadableStream<Uint8Array> | null {
    if (!body) return null;
    const reader = body.getReader();
    let end = () => undefined as void;
    return new ReadableStream<Uint8Array>({
      start: (controller) => {
        end = () => {
          connection.abort();
          try { controller.close(); } catch { /* already closed */ }
        };
        this.endings.add(end);
      },
      pull: async (controller) => {
        try {
          const { done, value } = await reader.read();
          if (done) {
            this.endings.delete(end);
            controller.close();
          } else {
            controller.enqueue(value);
          }
        } catch (error) {
          this.endings.delete(end);
          if (this.closed) return;
          controller.error(error);
        }
      },
      cancel: () => {
        this.endings.delete(end);
        return reader.cancel();
      },
    });
  }

  // ---------------------------------------------------------------- waiting

  /** Runs `act`, then (when asked) waits until the timers and requests it started are done. */
  private async tracked(act: () => void, wait: boolean): Promise<void> {
    if (this.closed) throw new Error('The page is closed: open a new one with DatastarPage.open().');
    const tracker: Tracker = { timers: new Set(), fetches: new Map(), errors: [] };
    this.trackers.add(tracker);
    try {
      act();
      do {
        await new Promise((resolve) => setTimeout(resolve, SETTLE_POLL_MS));
      } while (wait && !this.closed && (tracker.timers.size > 0 || [...tracker.fetches.values()].some((n) => n > 0)));
    } finally {
      this.trackers.delete(tracker);
    }
    this.setup.log.changed();
    if (tracker.errors.length) throw tracker.errors[0];
  }

  private onFetchEvent(evt: CustomEvent<{ type: string; el?: EventTarget }>): void {
    const { type, el } = evt.detail ?? {};
    if (el && (type === 'started' || type === 'finished')) {
      for (const tracker of this.trackers) {
        const open = tracker.fetches.get(el) ?? 0;
        if (type === 'started') tracker.fetches.set(el, open + 1);
        else if (open > 0) tracker.fetches.set(el, open - 1);
      }
    }
    this.setup.log.changed();
  }

  /** Counts the client's timers (`__debounce`, `__delay`, retries) for the verbs that wait. */
  private watchTimers(): void {
    const { window } = this;
    const set = window.setTimeout.bind(window);
    const clear = window.clearTimeout.bind(window);
    window.setTimeout = ((fn: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) => {
      const watchers = [...this.trackers];
      const id = set((...a: unknown[]) => {
        for (const tracker of watchers) tracker.timers.delete(id);
        fn(...a);
        this.setup.log.changed();
      }, ms, ...args);
      for (const tracker of watchers) tracker.timers.add(id);
      return id;
    }) as typeof window.setTimeout;
    window.clearTimeout = ((id?: number) => {
      for (const tracker of this.trackers) tracker.timers.delete(id);
      clear(id);
    }) as typeof window.clearTimeout;
  }

  /**
   * Scripts the client inserts (executeScript, a `text/javascript` answer) run; they are also listed
   * in `page.scripts`. Inserted forms get {@link keepFormIdentity}.
   */
  private watchInsertions(): void {
    new this.window.MutationObserver((records) => {
      for (const record of records) {
        for (const node of record.addedNodes) {
          if (node.nodeType !== 1) continue;
          const el = node as Element;
          for (const script of el.tagName.toLowerCase() === 'script' ? [el] : [...el.querySelectorAll('script')]) {
            if (script.textContent) this.setup.log.scripts.push(script.textContent);
          }
          this.keepFormIdentity(el);
        }
      }
    }).observe(this.document, { childList: true, subtree: true });
  }

  /**
   * happy-dom 21 hands out each form behind a proxy, but `form.closest('form')` answers the object
   * behind it, so the client's `el === el.closest('form')` fails and a form's submit posts without
   * the submit button's name and value. Each form in `root` answers `closest()` with itself.
   */
  private keepFormIdentity(root: Element): void {
    for (const form of root.tagName.toLowerCase() === 'form' ? [root] : [...root.querySelectorAll('form')]) {
      if (this.forms.has(form)) continue;
      this.forms.add(form);
      const closest = form.closest.bind(form);
      form.closest = ((selectors: string) => (form.matches(selectors) ? form : closest(selectors))) as Element['closest'];
    }
  }

  /** The page's console: errors go to `page.errors` (and fail the waiting verb); the rest is dropped. */
  private pageConsole(): Console {
    const record = (...args: unknown[]) => {
      const message = args.map((a) => (a instanceof Error || (a && typeof a === 'object' && 'message' in a) ? (a as Error).message : String(a))).join(' ');
      this.setup.log.errors.push(`The page's console.error: ${message}`);
      for (const tracker of this.trackers) tracker.errors.push(new Error(message));
    };
    const silent = () => undefined;
    return new Proxy({} as Console, { get: (_target, name) => (name === 'error' ? record : silent) });
  }
}
