/**
 * DatastarPage: drive a Datastar page in Jest with no browser.
 *
 * It loads the page over real HTTP and runs it with, in this order of preference:
 * 1. the page's own Datastar client, in happy-dom (`runtime: 'client'`): the client comes from
 *    `clientPath`, from the app when it serves the script itself, from `DATASTAR_JS`, or from a
 *    cache folder for a CDN script pinned with `integrity` (downloaded once, hash verified:
 *    see client-bundle.ts);
 * 2. the emulator (`runtime: 'emulator'`, see emulated-page.engine.ts), when no client can be had
 *    or happy-dom is not installed. It fails loudly on what it does not emulate.
 * `page.runtime` says which one ran, and `page.runtimeReason` why.
 */
import { join } from 'node:path';
import { resolveBaseUrl, type HttpTarget } from './base-url';
import { clientScriptTag, findClientBundle, type ClientBundle } from './client-bundle';
import { ClientPage, type HappyDom } from './client-page.engine';
import { CookieJar } from './cookie-jar';
import { PageEmulator, type Linkedom } from './emulated-page.engine';
import { hasPeer, requirePeer } from './optional-peer';
import { describe, pathOf, type PageEngine, type PageLog, type PageRequest } from './page-engine.interface';
import { redirectTarget } from './script-patterns';
import type { SseEvent } from './sse-event.interface';

export type { PageRequest };

/** Who runs the page: the page's own Datastar client (in happy-dom), or the page driver's emulator. */
export type PageRuntime = 'client' | 'emulator';

export interface PageOptions {
  /** Headers sent with the page load and every action (auth, for example). */
  headers?: Record<string, string>;
  /** Default timeout of `waitFor`, in ms (2000). */
  timeoutMs?: number;
  /**
   * Who runs the page (default `'auto'`): `'client'` the page's own Datastar client in happy-dom
   * (open() fails when it cannot be had), `'emulator'` the built-in emulator, `'auto'` the client
   * when it can be had, else the emulator.
   */
  runtime?: PageRuntime | 'auto';
  /**
   * The Datastar client bundle to run. Without it: the script the app serves itself, else the file
   * the `DATASTAR_JS` environment variable names, else a CDN script pinned with `integrity`.
   */
  clientPath?: string;
  /** Where a CDN client pinned with `integrity` is kept once downloaded (default `node_modules/.cache/nestjs-datastar`). */
  clientCacheDir?: string;
}

const DEFAULT_CACHE_DIR = join('node_modules', '.cache', 'nestjs-datastar');

export class DatastarPage {
  /** Bodies of the scripts the server sent (executeScript, redirect, consoleLog). The client runs them; the emulator does not. */
  readonly scripts: string[] = [];
  /** What went wrong without throwing: missing patch targets, non-200 answers, bad expressions, console errors. */
  readonly errors: string[] = [];
  /** Every request the page made, in order. */
  readonly requests: PageRequest[] = [];
  /** Who runs the page. */
  runtime!: PageRuntime;
  /** Where the client came from, or why the emulator runs. */
  runtimeReason = '';

  private engine!: PageEngine;
  private readonly waiters = new Set<() => void>();
  private readonly log: PageLog = {
    scripts: this.scripts, errors: this.errors, requests: this.requests,
    changed: () => { for (const waiter of [...this.waiters]) waiter(); },
  };
  private closed = false;

  private constructor(
    /** The page's URL (after redirects of the page load). */
    public url: string,
    private readonly options: PageOptions,
  ) {}

  /** Loads `path` from a base URL or a Nest app (started on a free port if needed) and runs it. */
  static async open(target: HttpTarget, path = '/', options: PageOptions = {}): Promise<DatastarPage> {
    const base = await resolveBaseUrl(target);
    const page = new DatastarPage(new URL(path, `${base}/`).href, options);
    await page.load();
    return page;
  }

  /** The page's document; query it freely. */
  get document(): Document {
    return this.engine.document;
  }

  /** The page's window (for `new page.window.Event(...)`). */
  get window(): Window & typeof globalThis {
    return this.engine.window;
  }

  /** A copy of the page's signals (computed ones included). */
  get signals(): Record<string, unknown> {
    return this.engine.signals();
  }

  /** Where the last redirect script the server sent points, if any. */
  get redirectedTo(): string | undefined {
    for (let i = this.scripts.length - 1; i >= 0; i--) {
      const target = redirectTarget(this.scripts[i]);
      if (target !== undefined) return target;
    }
    return undefined;
  }

  /**
   * Clicks the first element matching `selector` (checkboxes and radios toggle, submit buttons
   * submit their form when it is valid) and waits until the requests and timers its handlers
   * started are done. Pass `{ wait: false }` when the click opens an endless stream.
   */
  async click(selector: string, options: { wait?: boolean } = {}): Promise<void> {
    await this.engine.click(this.element(selector, 'click'), options.wait ?? true);
  }

  /** Types `text` into an input, textarea or select (replacing its value) and fires `input`. */
  async type(selector: string, text: string): Promise<void> {
    const el = this.element(selector, 'type');
    const tag = el.tagName.toLowerCase();
    const type = (el.getAttribute('type') ?? '').toLowerCase();
    if (!['input', 'textarea', 'select'].includes(tag) || type === 'checkbox' || type === 'radio') {
      throw new Error(`page.type('${selector}'): ${describe(el)} takes no text; type into an input, textarea or select, and click() checkboxes and radios.`);
    }
    await this.engine.type(el, text);
  }

  /** Submits a form (the matched one, or the form of the matched element) as `requestSubmit()` does, and waits like `click`. */
  async submit(selector: string): Promise<void> {
    const el = this.element(selector, 'submit');
    const form = el.tagName.toLowerCase() === 'form' ? el : el.closest('form');
    if (!form) throw new Error(`page.submit('${selector}'): ${describe(el)} is not in a <form>.`);
    await this.engine.submit(form);
  }

  /** Fires any event (`change`, `keydown`, a custom one) on the element and waits like `click`. */
  async dispatch(selector: string, eventName: string, options: { wait?: boolean } = {}): Promise<void> {
    await this.engine.dispatch(this.element(selector, 'dispatch'), eventName, options.wait ?? true);
  }

  /** Applies one server event to the page, as if a response had brought it (await it: the client applies in a task). */
  apply(event: SseEvent): Promise<void> {
    return this.engine.apply(event);
  }

  /** The text content of the first element matching `selector`. */
  text(selector: string): string {
    return this.element(selector, 'text').textContent ?? '';
  }

  /** The outer HTML of the first element matching `selector`, or of the whole document. */
  html(selector?: string): string {
    return selector === undefined ? this.document.documentElement.outerHTML : this.element(selector, 'html').outerHTML;
  }

  /** How many elements match `selector`. */
  count(selector: string): number {
    return this.document.querySelectorAll(selector).length;
  }

  /**
   * Waits until `condition` holds: a selector that must match, or a predicate over the page
   * (checked after every applied event, and every 20 ms). Rejects after `timeoutMs`.
   */
  waitFor(condition: string | ((page: DatastarPage) => boolean), timeoutMs = this.options.timeoutMs ?? 2000): Promise<void> {
    const check = () => {
      try {
        return typeof condition === 'string' ? this.document.querySelector(condition) !== null : condition(this) === true;
      } catch {
        return false;
      }
    };
    if (check()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const done = (error?: Error) => {
        clearTimeout(timer);
        clearInterval(poll);
        this.waiters.delete(waiter);
        if (error) reject(error);
        else resolve();
      };
      const waiter = () => {
        if (this.closed) done(new Error('page.waitFor: the page was closed while waiting.'));
        else if (check()) done();
      };
      const timer = setTimeout(() => done(new Error(this.timeoutMessage(condition, timeoutMs))), timeoutMs);
      const poll = setInterval(waiter, 20);
      this.waiters.add(waiter);
    });
  }

  /** Aborts every open request (streams included) and timer, and waits until they have stopped. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.engine?.close();
    this.log.changed();
  }

  // ---------------------------------------------------------------- loading

  private async load(): Promise<void> {
    const jar = new CookieJar();
    const headers = this.options.headers ?? {};
    const res = await fetch(this.url, { headers: { Accept: 'text/html', ...headers } });
    jar.store(res.headers);
    const html = await res.text();
    this.requests.push({ method: 'GET', url: pathOf(this.url), status: res.status });
    if (!res.ok) {
      throw new Error(`DatastarPage.open: GET ${this.url} answered ${res.status}: ${html.slice(0, 300)}`);
    }
    this.url = res.url || this.url;
    const setup = { url: this.url, html, headers, jar, log: this.log };
    const tag = clientScriptTag(html, this.url);
    const client = await this.findClient(tag, headers, jar);
    if (typeof client === 'string') {
      this.runtime = 'emulator';
      this.runtimeReason = client;
      this.engine = new PageEmulator(setup, requirePeer<Linkedom>('linkedom', 'linkedom@0.18.12'));
    } else {
      this.runtime = 'client';
      this.runtimeReason = `the Datastar client from ${client.bundle.from}`;
      this.engine = await ClientPage.start(setup, client.happy, client.bundle, tag);
    }
  }

  /** The client to run and happy-dom to run it in, or why the emulator runs instead. */
  private async findClient(
    tag: ReturnType<typeof clientScriptTag>, headers: Record<string, string>, jar: CookieJar,
  ): Promise<{ bundle: ClientBundle; happy: HappyDom } | string> {
    const runtime = this.options.runtime ?? 'auto';
    if (runtime === 'emulator') return 'PageOptions.runtime is \'emulator\'';
    const required = runtime === 'client';
    if (!required && !hasPeer('happy-dom')) return 'happy-dom is not installed (npm install --save-dev happy-dom) to run the page\'s own client';
    const cookie = jar.header();
    const bundle = await findClientBundle(this.url, tag, {
      path: this.options.clientPath,
      envPath: process.env.DATASTAR_JS?.trim() || undefined,
      cacheDir: this.options.clientCacheDir ?? DEFAULT_CACHE_DIR,
      headers: { ...headers, ...(cookie ? { Cookie: cookie } : {}) },
    });
    if (typeof bundle === 'string') {
      if (required) throw new Error(`DatastarPage.open: runtime 'client' but no Datastar client can be had: ${bundle}.`);
      return bundle;
    }
    return { bundle, happy: requirePeer<HappyDom>('happy-dom', 'happy-dom@21') };
  }

  private element(selector: string, verb: string): Element {
    if (!this.engine) throw new Error('The page has no document: use DatastarPage.open().');
    const el = this.document.querySelector(selector);
    if (!el) {
      const ids = [...this.document.querySelectorAll('[id]')].map((e) => `#${e.id}`).slice(0, 30);
      throw new Error(
        `page.${verb}('${selector}'): no element matches. Elements with an id: ${ids.join(' ') || '(none)'}`
        + (this.errors.length ? `\nPage errors so far:\n  ${this.errors.join('\n  ')}` : ''),
      );
    }
    return el;
  }

  private timeoutMessage(condition: string | ((page: DatastarPage) => boolean), timeoutMs: number): string {
    const what = typeof condition === 'string' ? `an element matching '${condition}'` : 'the predicate';
    const lines = [
      `page.waitFor timed out after ${timeoutMs} ms waiting for ${what}.`,
      `Signals: ${JSON.stringify(this.signals)}`,
      `Requests: ${this.requests.map((r) => `${r.method} ${r.url} -> ${r.status ?? 'pending'}`).join(', ') || '(none)'}`,
      `Runtime: ${this.runtime} (${this.runtimeReason})`,
    ];
    if (this.errors.length) lines.push(`Page errors:\n  ${this.errors.join('\n  ')}`);
    lines.push(`Body: ${(this.document.body?.innerHTML ?? '').slice(0, 800)}`);
    return lines.join('\n');
  }
}
