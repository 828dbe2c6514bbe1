/**
 * DatastarPage: drive a Datastar page in Jest with no browser.
 *
 * It loads the page over real HTTP, builds an in-memory DOM (linkedom), and plays the part of
 * the Datastar 1.0 client for the attributes our helpers generate:
 *
 * - `data-signals` (object form and `data-signals:name`, `__ifmissing`, `__case.*`),
 *   `data-computed:name`, `data-bind` (`data-bind:name` / `data-bind="name"`; inputs,
 *   checkboxes, radios, selects, textareas), `data-text`, `data-show`, `data-attr`,
 *   `data-class`, `data-indicator`, `data-init`, `data-on:<event>` (`__once`, `__prevent`,
 *   `__stop`, `__outside`, `__window`; forms' submit is always prevented).
 * - `@get/@post/@put/@patch/@delete(url, options)`: the request carries `Datastar-Request: true`
 *   and the signals like the real client (JSON body, or the `datastar` query parameter for
 *   GET and DELETE; paths with a `_` segment left out; `filterSignals`, `headers`, `payload`,
 *   `contentType: 'form'` and per-element request cancellation honoured). Cookies the server
 *   sets are sent back (one jar per page, for the page's origin, attributes ignored).
 * - Responses: `text/event-stream` applied event by event as it arrives, `text/html`,
 *   `application/json` and `text/javascript` answers with their `datastar-*` headers; only
 *   status 200 bodies are applied (the client ignores others: a POST answered 201 does nothing
 *   here either, and the request is listed in `page.errors`).
 * - `datastar-patch-elements` in all 8 modes (by id or selector; head/body documents; svg and
 *   mathml namespaces) and `datastar-patch-signals` as a JSON merge patch (RFC 7386, `null`
 *   deletes, `onlyIfMissing`).
 *
 * What it does not emulate:
 * - JavaScript. Expressions run in a small safe subset (see expression.parser.ts): signals,
 *   literals, operators, assignments to signals, a few string/array/Math helpers and the
 *   backend actions. Anything else (arrow functions, `@setAll`, `@peek`, `el.focus()`) is
 *   an error naming the expression. Scripts are never run: the ones an `executeScript` or a
 *   patch inserts are recorded in `page.scripts` (a redirect one also in `page.redirectedTo`).
 * - Morphing: `outer`/`inner` patches replace the old nodes (see element-patch.applier.ts).
 * - Timing: `__debounce`, `__throttle`, `__delay`, `__viewtransition` modifiers are ignored
 *   (handlers run at once); there are no view transitions, no CSS, no layout, no focus.
 * - Retries and reconnects: a failed request is reported, not retried; `retry`, `id:` and
 *   `Last-Event-ID` are not used; hidden-tab behaviour does not exist.
 * - Native behaviour beyond clicks: links are not followed, forms without a `data-on:submit`
 *   are not submitted, `type()` sets the whole value and fires one `input` event (no key
 *   events, no `change` unless you `dispatch()` it).
 * - Other plugins (`data-effect`, `data-ref`, `data-on-intersect`, `data-on-interval`,
 *   `data-json-signals`, ...) are ignored.
 */
import { PATCH_ELEMENTS, PATCH_SIGNALS, DATASTAR_QUERY_PARAM } from '../protocol';
import { resolveBaseUrl, type HttpTarget } from './base-url';
import { applySignalsAttribute, camel, kebab, parseDataAttribute, signalKey, type DataAttribute } from './data-attribute';
import { applyElementsPatch } from './element-patch.applier';
import { evaluateExpression } from './expression.evaluator';
import { ExpressionError } from './expression.parser';
import { cloneJson, filterSignals, isPlainObject, mergePatch, setPath, type SignalObject } from './merge-patch';
import { redirectTarget } from './script-patterns';
import type { SseEvent } from './sse-event.interface';
import { isAbort, readSseBody } from './sse-stream.reader';

export interface PageOptions {
  /** Headers sent with the page load and every action (auth, for example). */
  headers?: Record<string, string>;
  /** Default timeout of `waitFor`, in ms (2000). */
  timeoutMs?: number;
}

/** One request the page made, for debugging and assertions. */
export interface PageRequest {
  method: string;
  /** Path and query. */
  url: string;
  status?: number;
}

type Linkedom = { parseHTML(html: string): Window & typeof globalThis };
const ACTIONS = new Set(['get', 'post', 'put', 'patch', 'delete']);
const RADIO_UNCHECKED = Symbol('radio-unchecked');

export class DatastarPage {
  /** The in-memory document; query it freely. */
  document!: Document;
  /** The in-memory window (for `new page.window.Event(...)`). */
  window!: Window & typeof globalThis;
  /** Bodies of the scripts the server sent (executeScript, redirect, consoleLog): recorded, never run. */
  readonly scripts: string[] = [];
  /** What went wrong without throwing: missing patch targets, non-200 answers, bad expressions in attributes. */
  readonly errors: string[] = [];
  /** Every request the page made, in order. */
  readonly requests: PageRequest[] = [];

  private readonly state: SignalObject = {};
  private readonly processed = new WeakSet<Element>();
  private readonly bound = new WeakMap<Element, string[]>();
  private readonly inflight = new Set<{ controller: AbortController; promise: Promise<void> }>();
  private readonly perElement = new WeakMap<Element, AbortController>();
  private readonly waiters = new Set<() => void>();
  private readonly cookies = new Map<string, string>();
  private readonly reported = new Set<string>();
  private batch: { promises: Promise<void>[]; errors: Error[]; submitter?: Element } | null = null;
  private closed = false;

  private constructor(
    /** The page's URL (after redirects of the page load). */
    public url: string,
    private readonly options: PageOptions,
    private readonly dom: Linkedom,
  ) {}

  /** Loads `path` from a base URL or a Nest app (started on a free port if needed) and initialises it. */
  static async open(target: HttpTarget, path = '/', options: PageOptions = {}): Promise<DatastarPage> {
    const base = await resolveBaseUrl(target);
    const page = new DatastarPage(new URL(path, `${base}/`).href, options, await loadDom());
    await page.load();
    return page;
  }

  /** A copy of the page's signals (computed ones included). */
  get signals(): Record<string, unknown> {
    return cloneJson(this.state);
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
   * submit their form) and waits until the requests its handlers started have been answered
   * and applied. Pass `{ wait: false }` when the click opens an endless stream.
   */
  async click(selector: string, options: { wait?: boolean } = {}): Promise<void> {
    const el = this.element(selector, 'click');
    const tag = el.tagName.toLowerCase();
    const type = (el.getAttribute('type') ?? '').toLowerCase();
    let toggled = false;
    if (tag === 'input' && (type === 'checkbox' || type === 'radio')) {
      if (type === 'radio') {
        const name = el.getAttribute('name');
        if (name) for (const other of this.document.querySelectorAll(`input[type="radio"][name="${cssString(name)}"]`)) other.removeAttribute('checked');
        el.setAttribute('checked', '');
      } else if (el.hasAttribute('checked')) {
        el.removeAttribute('checked');
      } else {
        el.setAttribute('checked', '');
      }
      toggled = true;
      this.syncFromElement(el);
      this.refresh();
    }
    await this.dispatchTracked(el, ['click', ...(toggled ? ['input', 'change'] : [])], options.wait ?? true);
  }

  /** Types `text` into an input, textarea or select (replacing its value), updates its bound signal and fires `input`. */
  async type(selector: string, text: string): Promise<void> {
    const el = this.element(selector, 'type');
    const tag = el.tagName.toLowerCase();
    const type = (el.getAttribute('type') ?? '').toLowerCase();
    if (!['input', 'textarea', 'select'].includes(tag) || type === 'checkbox' || type === 'radio') {
      throw new Error(`page.type('${selector}'): ${describe(el)} takes no text; type into an input, textarea or select, and click() checkboxes and radios.`);
    }
    writeValue(el, text);
    this.syncFromElement(el);
    this.refresh();
    await this.dispatchTracked(el, ['input'], true);
  }

  /** Submits a form (fires `submit` on it, or on the form of the matched element) and waits like `click`. */
  async submit(selector: string): Promise<void> {
    const el = this.element(selector, 'submit');
    const form = el.tagName.toLowerCase() === 'form' ? el : el.closest('form');
    if (!form) throw new Error(`page.submit('${selector}'): ${describe(el)} is not in a <form>.`);
    await this.dispatchTracked(form, ['submit'], true);
  }

  /** Fires any event (`change`, `keydown`, a custom one) on the element and waits like `click`. */
  async dispatch(selector: string, eventName: string, options: { wait?: boolean } = {}): Promise<void> {
    await this.dispatchTracked(this.element(selector, 'dispatch'), [eventName], options.wait ?? true);
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

  /** Aborts every open request (streams included) and waits until they have stopped. */
  async close(): Promise<void> {
    this.closed = true;
    const running = [...this.inflight];
    for (const entry of running) entry.controller.abort();
    await Promise.allSettled(running.map((e) => e.promise));
    for (const waiter of [...this.waiters]) waiter();
  }

  // ---------------------------------------------------------------- loading and initialising

  private async load(): Promise<void> {
    const res = await fetch(this.url, { headers: this.requestHeaders({ Accept: 'text/html' }) });
    this.storeCookies(res);
    const html = await res.text();
    this.requests.push({ method: 'GET', url: pathOf(this.url), status: res.status });
    if (!res.ok) {
      throw new Error(`DatastarPage.open: GET ${this.url} answered ${res.status}: ${html.slice(0, 300)}`);
    }
    this.url = res.url || this.url;
    this.window = this.dom.parseHTML(html);
    this.document = this.window.document;
    this.initialise(this.document.documentElement, new Map());
  }

  /** Runs the one-time part of every data-* attribute in `root` not seen before, then data-init. */
  private initialise(root: Element, previous: Map<string, Element>): void {
    const inits: Array<() => void> = [];
    for (const el of [root, ...root.querySelectorAll('*')]) {
      if (this.processed.has(el)) continue;
      this.processed.add(el);
      // An id-matched element whose attribute did not change is what a morph would have kept.
      const old = el.id ? previous.get(el.id) : undefined;
      for (const name of el.getAttributeNames()) {
        const attribute = parseDataAttribute(name);
        if (!attribute) continue;
        const value = el.getAttribute(name) ?? '';
        const kept = old !== undefined && old.getAttribute(name) === value;
        this.guard(el, name, () => {
          switch (attribute.plugin) {
            case 'signals': if (!kept) applySignalsAttribute(this.state, attribute, value); break;
            case 'bind': this.initBind(el, attribute, value); break;
            case 'on': this.listen(el, attribute, value); break;
            case 'indicator': mergePatch(this.state, pathObject(this.indicatorPath(attribute, value), false), true); break;
            case 'init': if (!kept) inits.push(() => this.run(el, `data-init`, value, undefined)); break;
            default: break;
          }
        });
      }
    }
    this.refresh();
    for (const init of inits) init();
  }

  private initBind(el: Element, attribute: DataAttribute, value: string): void {
    const name = attribute.key ? signalKey(attribute) : value.trim();
    if (!name) throw new Error('data-bind needs a signal name: data-bind:name or data-bind="name"');
    const path = name.split('.');
    this.bound.set(el, path);
    if (readPath(this.state, path) === undefined) {
      const initial = readValue(el, 'undefined');
      setPath(this.state, path, initial === RADIO_UNCHECKED ? '' : initial);
    }
    const sync = () => {
      this.syncFromElement(el);
      this.refresh();
    };
    el.addEventListener('input', sync);
    el.addEventListener('change', sync);
  }

  private listen(el: Element, attribute: DataAttribute, value: string): void {
    if (!attribute.key) throw new Error('data-on needs an event name: data-on:click');
    let eventName = kebab(camel(attribute.key));
    for (const c of attribute.mods.get('case') ?? []) if (c === 'camel') eventName = camel(eventName);
    const mods = attribute.mods;
    const target: EventTarget = mods.has('window') || mods.has('outside') ? this.document : el;
    const isSubmit = el.tagName.toLowerCase() === 'form' && eventName === 'submit';
    target.addEventListener(eventName, (evt: Event) => {
      if (mods.has('outside') && el.contains(evt.target as Node)) return;
      if (mods.has('prevent') || isSubmit) evt.preventDefault();
      if (mods.has('stop')) evt.stopPropagation();
      this.run(el, `data-on:${attribute.key}`, value, evt);
    }, { once: mods.has('once') });
  }

  // ---------------------------------------------------------------- reactivity

  /** Re-renders everything derived from signals: computed, text, show, attr, class, bound values. */
  private refresh(): void {
    if (!this.document) return;
    const all = [this.document.documentElement, ...this.document.querySelectorAll('*')];
    const derived: Array<[Element, string, DataAttribute, string]> = [];
    for (const el of all) {
      for (const name of el.getAttributeNames()) {
        const attribute = parseDataAttribute(name);
        if (!attribute) continue;
        const value = el.getAttribute(name) ?? '';
        if (attribute.plugin === 'computed') {
          this.guard(el, name, () => setPath(this.state, signalKey(attribute).split('.'), this.evaluate(el, value)));
        } else if (['text', 'show', 'attr', 'class'].includes(attribute.plugin)) {
          derived.push([el, name, attribute, value]);
        }
      }
    }
    for (const [el, name, attribute, value] of derived) {
      this.guard(el, name, () => {
        const result = this.evaluate(el, value);
        switch (attribute.plugin) {
          case 'text': {
            const text = String(result);
            if (el.textContent !== text) el.textContent = text;
            break;
          }
          case 'show': setShown(el, Boolean(result)); break;
          case 'attr': for (const [attr, v] of entries(attribute, result)) {
            if (v === false || v === null || v === undefined) el.removeAttribute(attr);
            else el.setAttribute(attr, v === true ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v));
          } break;
          case 'class': for (const [cls, v] of entries(attribute, result)) {
            for (const c of cls.split(/\s+/).filter(Boolean)) el.classList.toggle(c, Boolean(v));
          } break;
        }
      });
    }
    for (const el of all) {
      const path = this.bound.get(el);
      if (path) writeValue(el, readPath(this.state, path));
    }
    for (const waiter of [...this.waiters]) waiter();
  }

  private syncFromElement(el: Element): void {
    const path = this.bound.get(el);
    if (!path) return;
    const current = readPath(this.state, path);
    const value = readValue(el, typeof current);
    if (value !== RADIO_UNCHECKED) setPath(this.state, path, value);
  }

  // ---------------------------------------------------------------- expressions and actions

  private evaluate(el: Element, source: string, evt?: Event): unknown {
    return evaluateExpression(source, {
      signals: this.state, el, evt,
      action: (name, args) => this.action(el, name, args),
    });
  }

  /** Runs a handler; an error is recorded, and fails the `click()`/`type()` that caused it. */
  private run(el: Element, label: string, source: string, evt: Event | undefined): void {
    try {
      this.evaluate(el, source, evt);
    } catch (error) {
      const message = `${label}="${source}" on ${describe(el)}: ${(error as Error).message}`;
      this.errors.push(message);
      this.batch?.errors.push(new Error(message));
    }
    this.refresh();
  }

  private action(el: Element, name: string, args: unknown[]): Promise<void> {
    if (!ACTIONS.has(name)) {
      throw new ExpressionError(`@${name}() is not emulated by the page driver; it runs @get, @post, @put, @patch and @delete`);
    }
    const [url, options] = args;
    if (typeof url !== 'string' || url === '') throw new ExpressionError(`@${name}() needs a URL string as its first argument`);
    const opts = isPlainObject(options) ? options : {};
    if (this.closed) return Promise.resolve();
    // The client cancels an element's previous request when it starts a new one (requestCancellation 'auto').
    if (opts.requestCancellation !== 'disabled') this.perElement.get(el)?.abort();
    const controller = new AbortController();
    if (opts.requestCancellation !== 'disabled') this.perElement.set(el, controller);
    const submitter = this.batch?.submitter;
    const promise = this.send(el, name, url, opts, controller, submitter);
    const entry = { controller, promise };
    this.inflight.add(entry);
    void promise.then(
      () => this.inflight.delete(entry),
      (error) => {
        this.inflight.delete(entry);
        this.errors.push((error as Error).message);
      },
    );
    if (this.batch) this.batch.promises.push(promise);
    return promise;
  }

  private async send(
    el: Element, name: string, rawUrl: string, opts: SignalObject, controller: AbortController, submitter?: Element,
  ): Promise<void> {
    const method = name.toUpperCase();
    const url = new URL(rawUrl, this.url);
    const form = opts.contentType === 'form';
    const headers = this.requestHeaders({
      Accept: 'text/event-stream, text/html, application/json',
      'Datastar-Request': 'true',
      ...(form ? {} : { 'Content-Type': 'application/json' }),
    }, isPlainObject(opts.headers) ? stringValues(opts.headers) : {});
    let body: string | undefined;
    if (form) {
      const formEl = typeof opts.selector === 'string' ? this.document.querySelector(opts.selector) : el.closest('form');
      if (!formEl) {
        throw new Error(`@${name}('${rawUrl}', {contentType: 'form'}) on ${describe(el)} found no form: put the element in a <form> or pass {selector: '#form'}.`);
      }
      const fields = formFields(formEl, submitter);
      if (method === 'GET') fields.forEach((v, k) => url.searchParams.append(k, v));
      else {
        body = fields.toString();
        headers['Content-Type'] = 'application/x-www-form-urlencoded';
      }
    } else {
      const filter = isPlainObject(opts.filterSignals) ? opts.filterSignals : {};
      const payload = opts.payload !== undefined ? opts.payload : filterSignals(
        this.state,
        (filter.include as RegExp | string | undefined) ?? /.*/,
        (filter.exclude as RegExp | string | undefined) ?? /(^|\.)_/,
      );
      const json = JSON.stringify(payload);
      if (method === 'GET' || method === 'DELETE') url.searchParams.set(DATASTAR_QUERY_PARAM, json);
      else body = json;
    }

    const indicators = this.indicatorsOf(el);
    this.setIndicators(indicators, true);
    const request: PageRequest = { method, url: pathOf(url.href) };
    this.requests.push(request);
    try {
      const res = await fetch(url, { method, headers, body, signal: controller.signal });
      request.status = res.status;
      this.storeCookies(res);
      if (res.status !== 200) {
        await res.body?.cancel().catch(() => undefined);
        if (res.status !== 204) {
          this.errors.push(`${method} ${request.url} answered ${res.status}: the Datastar client applies only 200 responses${res.status === 201 ? ' (answer POSTs with 200, not 201)' : ''}.`);
        }
        return;
      }
      await this.applyResponse(res);
    } catch (error) {
      if (isAbort(error)) return;
      throw new Error(`${method} ${request.url} failed: ${(error as Error).message}`);
    } finally {
      if (this.perElement.get(el) === controller) this.perElement.delete(el);
      this.setIndicators(indicators, false);
    }
  }

  private async applyResponse(res: Response): Promise<void> {
    const type = (res.headers.get('content-type') ?? '').toLowerCase();
    if (type.startsWith('text/event-stream')) {
      await readSseBody(res.body, (event) => {
        if (this.closed) return true;
        this.apply(event);
        return false;
      });
    } else if (type.startsWith('text/html')) {
      const selector = res.headers.get('datastar-selector') ?? undefined;
      this.apply({
        type: PATCH_ELEMENTS, data: {},
        patchElements: {
          selector, elements: await res.text(),
          mode: res.headers.get('datastar-mode') ?? 'outer',
          namespace: res.headers.get('datastar-namespace') ?? 'html',
          useViewTransition: res.headers.get('datastar-use-view-transition') === 'true',
        },
      });
    } else if (type.startsWith('application/json')) {
      const text = await res.text();
      this.apply({
        type: PATCH_SIGNALS, data: {},
        patchSignals: parseSignalsBody(text, res.headers.get('datastar-only-if-missing') === 'true'),
      });
    } else if (type.includes('javascript')) {
      this.scripts.push(await res.text());
    } else {
      await res.body?.cancel().catch(() => undefined);
      this.errors.push(`${res.url} answered 200 with "${type}": the Datastar client ignores it.`);
    }
  }

  /** Applies one server event to the page. */
  apply(event: SseEvent): void {
    if (event.type === PATCH_SIGNALS && event.patchSignals) {
      if (event.patchSignals.error) this.errors.push(`patch-signals: ${event.patchSignals.error}`);
      else mergePatch(this.state, event.patchSignals.signals, event.patchSignals.onlyIfMissing);
      this.refresh();
    } else if (event.type === PATCH_ELEMENTS && event.patchElements) {
      const result = applyElementsPatch(this.document, event.patchElements, (html) => this.dom.parseHTML(html).document);
      this.errors.push(...result.errors);
      for (const el of result.inserted) this.recordScripts(el);
      for (const el of result.inserted) if (el.isConnected) this.initialise(el, result.removed);
      this.refresh();
    }
  }

  private recordScripts(root: Element): void {
    const scripts = root.tagName.toLowerCase() === 'script' ? [root] : [...root.querySelectorAll('script')];
    for (const script of scripts) {
      this.scripts.push(script.textContent ?? '');
      // executeScript's autoRemove: data-effect="el.remove()" removes the element once it ran.
      if ((script.getAttribute('data-effect') ?? '').includes('el.remove()')) script.remove();
    }
  }

  private indicatorPath(attribute: DataAttribute, value: string): string {
    const name = attribute.key ? signalKey(attribute) : value.trim();
    if (!name) throw new Error('data-indicator needs a signal name: data-indicator:busy');
    return name;
  }

  private indicatorsOf(el: Element): string[] {
    const out: string[] = [];
    for (const name of el.getAttributeNames()) {
      const attribute = parseDataAttribute(name);
      if (attribute?.plugin === 'indicator') out.push(this.indicatorPath(attribute, el.getAttribute(name) ?? ''));
    }
    return out;
  }

  private setIndicators(paths: string[], value: boolean): void {
    if (paths.length === 0 || this.closed) return;
    for (const path of paths) setPath(this.state, path.split('.'), value);
    this.refresh();
  }

  // ---------------------------------------------------------------- plumbing

  private async dispatchTracked(el: Element, events: string[], wait: boolean): Promise<void> {
    if (this.closed) throw new Error('The page is closed: open a new one with DatastarPage.open().');
    const outer = this.batch;
    const batch = { promises: [] as Promise<void>[], errors: [] as Error[], submitter: undefined as Element | undefined };
    this.batch = batch;
    try {
      for (const type of events) {
        const evt = new this.window.Event(type, { bubbles: true, cancelable: true });
        el.dispatchEvent(evt);
        if (type === 'click' && !evt.defaultPrevented && isSubmitButton(el)) {
          const form = el.closest('form');
          if (form) {
            batch.submitter = el;
            form.dispatchEvent(new this.window.Event('submit', { bubbles: true, cancelable: true }));
          }
        }
      }
    } finally {
      this.batch = outer;
    }
    if (batch.errors.length) throw batch.errors[0];
    if (wait) await Promise.all(batch.promises);
  }

  private element(selector: string, verb: string): Element {
    if (!this.document) throw new Error('The page has no document: use DatastarPage.open().');
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

  private guard(el: Element, attribute: string, fn: () => void): void {
    try {
      fn();
    } catch (error) {
      const message = `${attribute}="${el.getAttribute(attribute)}" on ${describe(el)}: ${(error as Error).message}`;
      // The sweep runs often: report each distinct failure once.
      if (!this.reported.has(message)) {
        this.reported.add(message);
        this.errors.push(message);
      }
    }
  }

  private requestHeaders(base: Record<string, string>, extra: Record<string, string> = {}): Record<string, string> {
    const headers: Record<string, string> = { ...base, ...this.options.headers, ...extra };
    if (this.cookies.size) headers.Cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    return headers;
  }

  private storeCookies(res: Response): void {
    const list = typeof res.headers.getSetCookie === 'function' ? res.headers.getSetCookie() : [];
    for (const cookie of list) {
      const [pair, ...attributes] = cookie.split(';');
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      const name = pair.slice(0, eq).trim();
      const expired = attributes.some((a) => {
        const [k, v = ''] = a.split('=').map((s) => s.trim());
        if (/^max-age$/i.test(k)) return Number(v) <= 0;
        if (/^expires$/i.test(k)) return Date.parse(v) < Date.now();
        return false;
      });
      if (expired) this.cookies.delete(name);
      else this.cookies.set(name, pair.slice(eq + 1).trim());
    }
  }

  private timeoutMessage(condition: string | ((page: DatastarPage) => boolean), timeoutMs: number): string {
    const what = typeof condition === 'string' ? `an element matching '${condition}'` : 'the predicate';
    const lines = [
      `page.waitFor timed out after ${timeoutMs} ms waiting for ${what}.`,
      `Signals: ${JSON.stringify(this.state)}`,
      `Requests: ${this.requests.map((r) => `${r.method} ${r.url} -> ${r.status ?? 'pending'}`).join(', ') || '(none)'}`,
    ];
    if (this.errors.length) lines.push(`Page errors:\n  ${this.errors.join('\n  ')}`);
    lines.push(`Body: ${(this.document.body?.innerHTML ?? '').slice(0, 800)}`);
    return lines.join('\n');
  }
}

async function loadDom(): Promise<Linkedom> {
  try {
    return (await import('linkedom')) as unknown as Linkedom;
  } catch (error) {
    throw new Error(
      `DatastarPage needs the in-memory DOM package "linkedom" (${(error as Error).message}): `
      + 'npm install --save-dev linkedom@0.18.12 (later versions load an ESM-only css-select, which Jest on Node < 24.9 cannot require).',
    );
  }
}

function parseSignalsBody(text: string, onlyIfMissing: boolean): { signals: SignalObject; onlyIfMissing: boolean; error?: string } {
  try {
    const parsed = JSON.parse(text) as unknown;
    if (isPlainObject(parsed)) return { signals: parsed, onlyIfMissing };
  } catch { /* reported below */ }
  return { signals: {}, onlyIfMissing, error: `an application/json answer must be a JSON object, got ${text.slice(0, 120)}` };
}

function readPath(root: SignalObject, path: readonly string[]): unknown {
  let node: unknown = root;
  for (const key of path) {
    if (node === null || typeof node !== 'object' || !Object.hasOwn(node, key)) return undefined;
    node = (node as SignalObject)[key];
  }
  return node;
}

function pathObject(path: string, value: unknown): SignalObject {
  const root: SignalObject = {};
  setPath(root, path.split('.'), value);
  return root;
}

/** `data-attr:title="$x"` or `data-attr="{title: $x}"` -> [['title', value]]. */
function entries(attribute: DataAttribute, result: unknown): Array<[string, unknown]> {
  if (attribute.key) return [[attribute.plugin === 'class' ? kebab(camel(attribute.key)) : attribute.key, result]];
  return isPlainObject(result) ? Object.entries(result) : [];
}

function setShown(el: Element, shown: boolean): void {
  const declarations = (el.getAttribute('style') ?? '')
    .split(';').map((d) => d.trim()).filter((d) => d && !/^display\s*:\s*none\b/i.test(d));
  if (!shown) declarations.push('display: none');
  if (declarations.length) el.setAttribute('style', declarations.join('; '));
  else el.removeAttribute('style');
}

/** The value an element gives its bound signal, typed after the signal's current type (as the client does). */
function readValue(el: Element, signalType: string): unknown {
  const tag = el.tagName.toLowerCase();
  const type = (el.getAttribute('type') ?? '').toLowerCase();
  if (tag === 'input' && type === 'checkbox') {
    const checked = el.hasAttribute('checked');
    const value = el.getAttribute('value');
    if (value === null || value === 'on') return signalType === 'string' ? (checked ? 'on' : '') : checked;
    return signalType === 'boolean' ? checked : checked ? value : '';
  }
  if (tag === 'input' && type === 'radio') {
    if (!el.hasAttribute('checked')) return RADIO_UNCHECKED;
    const value = el.getAttribute('value') ?? 'on';
    return signalType === 'number' ? Number(value) : value;
  }
  let value: string;
  if (tag === 'select') {
    const option = el.querySelector('option[selected]') ?? el.querySelector('option');
    value = option ? option.getAttribute('value') ?? option.textContent ?? '' : '';
  } else {
    value = String((el as HTMLInputElement).value ?? el.getAttribute('value') ?? '');
  }
  if (signalType === 'number' || ((type === 'number' || type === 'range') && signalType !== 'string')) {
    return value === '' && signalType !== 'number' ? '' : Number(value);
  }
  return value;
}

/** Shows a signal's value in a bound element. */
function writeValue(el: Element, value: unknown): void {
  const tag = el.tagName.toLowerCase();
  const type = (el.getAttribute('type') ?? '').toLowerCase();
  if (tag === 'input' && type === 'checkbox') {
    const checked = typeof value === 'string' ? value === (el.getAttribute('value') ?? 'on') : Boolean(value);
    if (checked !== el.hasAttribute('checked')) {
      if (checked) el.setAttribute('checked', '');
      else el.removeAttribute('checked');
    }
    return;
  }
  if (tag === 'input' && type === 'radio') {
    const mine = el.getAttribute('value') ?? 'on';
    const checked = typeof value === 'number' ? value === Number(mine) : value === mine;
    if (checked) el.setAttribute('checked', '');
    else el.removeAttribute('checked');
    return;
  }
  const text = value === undefined || value === null ? '' : String(value);
  if (tag === 'select') {
    for (const option of el.querySelectorAll('option')) {
      const v = option.getAttribute('value') ?? option.textContent ?? '';
      if (v === text) option.setAttribute('selected', '');
      else option.removeAttribute('selected');
    }
    return;
  }
  const input = el as HTMLInputElement;
  if (input.value !== text) input.value = text;
}

function formFields(form: Element, submitter?: Element): URLSearchParams {
  const fields = new URLSearchParams();
  for (const el of form.querySelectorAll('input, select, textarea')) {
    const name = el.getAttribute('name');
    if (!name || el.hasAttribute('disabled')) continue;
    const tag = el.tagName.toLowerCase();
    const type = (el.getAttribute('type') ?? 'text').toLowerCase();
    if (tag === 'input' && ['submit', 'button', 'image', 'reset', 'file'].includes(type)) continue;
    if (tag === 'input' && (type === 'checkbox' || type === 'radio')) {
      if (el.hasAttribute('checked')) fields.append(name, el.getAttribute('value') ?? 'on');
      continue;
    }
    const value = readValue(el, 'string');
    fields.append(name, typeof value === 'string' ? value : String(value));
  }
  const submitName = submitter?.getAttribute('name');
  if (submitter && submitName) fields.append(submitName, submitter.getAttribute('value') ?? '');
  return fields;
}

function isSubmitButton(el: Element): boolean {
  const tag = el.tagName.toLowerCase();
  const type = (el.getAttribute('type') ?? '').toLowerCase();
  return (tag === 'button' && (type === '' || type === 'submit')) || (tag === 'input' && (type === 'submit' || type === 'image'));
}

function stringValues(record: SignalObject): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(record)) if (v !== undefined && v !== null) out[k] = String(v);
  return out;
}

function pathOf(href: string): string {
  const url = new URL(href);
  return url.pathname + url.search;
}

function describe(el: Element): string {
  const id = el.id ? ` id="${el.id}"` : '';
  return `<${el.tagName.toLowerCase()}${id}>`;
}

function cssString(value: string): string {
  return value.replace(/["\\]/g, '\\$&');
}
