/**
 * The page driver's emulator: plays the part of the Datastar 1.0.2 client over an in-memory DOM
 * (linkedom) for the attributes our helpers generate. It runs when the page's own client cannot
 * be had (see page-driver.ts); every attribute it does not emulate is an error, never ignored.
 *
 * Emulated:
 * - `data-signals` (object form and `data-signals:name`, `__ifmissing`, `__case.*`),
 *   `data-computed:name`, `data-bind` (inputs, checkboxes, radios, selects, textareas),
 *   `data-text`, `data-show`, `data-attr`, `data-class`, `data-indicator`, `data-init`,
 *   `data-on:<event>` (`__once`, `__prevent`, `__stop`, `__outside`, `__window`, `__delay`,
 *   `__debounce` (`.leading`, `.notrailing`), `__throttle` (`.noleading`, `.trailing`); forms'
 *   submit is always prevented). Reading a missing signal creates it as `''`, like the client.
 *   The library's `{{ds-tab-id}}` signal gets a random id, as its expression gives in a browser tab.
 * - `@get/@post/@put/@patch/@delete(url, options)` with the client's headers and body (the JSON
 *   body or the `datastar` query parameter; `_` paths left out; `filterSignals`, `headers`,
 *   `payload`, `contentType: 'form'` with the submitter and required fields checked first) and
 *   its request cancellation: a new request with the same method and URL aborts the earlier one,
 *   whichever element made it.
 * - Answers: `text/event-stream` applied event by event, `text/html`, `application/json`,
 *   `text/javascript` with their `datastar-*` headers; only status 200 is applied (others are
 *   listed in `page.errors`). Patches in all 8 modes and JSON merge patches of signals.
 *
 * Not emulated (run the page's own client for these: see `PageOptions.runtime`):
 * - JavaScript beyond the safe subset of expression.parser.ts (an error naming the expression);
 *   scripts are recorded in `page.scripts`, never run.
 * - The plugins in NOT_EMULATED below: using one is an error in `page.errors`, and fails the
 *   `open()` or the action that brought it.
 * - Morphing (outer/inner patches replace nodes), view transitions, CSS, layout, focus, retries
 *   and reconnects, hidden tabs, `datastar-fetch` events, links and native form submission.
 *   The library's own connection indicator (`{{ds-connection}}`, `#ds-connection`) follows those
 *   events: it is left alone, hidden as over a healthy connection.
 */
import { randomBytes } from 'node:crypto';
import { PATCH_ELEMENTS, PATCH_SIGNALS, DATASTAR_QUERY_PARAM } from '../protocol';
import { CONNECTION_ID } from '../templates/connection-status';
import { TAB_ID_EXPRESSION } from '../templates/datastar-helpers';
import type { CookieJar } from './cookie-jar';
import { applySignalsAttribute, attributeKey, parseDataAttribute, type DataAttribute } from './data-attribute';
import { applyElementsPatch } from './element-patch.applier';
import { evaluateExpression } from './expression.evaluator';
import { ExpressionError } from './expression.parser';
import { cloneJson, filterSignals, isPlainObject, mergePatch, setPath, type SignalObject } from './merge-patch';
import { ACCEPT, describe, pathOf, statusError, type PageEngine, type PageLog, type PageRequest, type PageSetup } from './page-engine.interface';
import type { SseEvent } from './sse-event.interface';
import { isAbort, readSseBody } from './sse-stream.reader';

export type Linkedom = { parseHTML(html: string): Window & typeof globalThis };

const ACTIONS = new Set(['get', 'post', 'put', 'patch', 'delete']);
const RADIO_UNCHECKED = Symbol('radio-unchecked');
/** Datastar 1.0.2 plugins (and Pro's) the emulator does not run. */
const NOT_EMULATED = new Set([
  'style', 'effect', 'ref', 'on-interval', 'on-intersect', 'on-signal-patch', 'json-signals', 'ignore',
  'ignore-morph', 'preserve-attr', 'persist', 'query-string', 'replace-url', 'scroll-into-view',
  'view-transition', 'custom-validity', 'on-raf', 'on-resize', 'match-media', 'animate',
]);

interface Batch { promises: Promise<void>[]; errors: Error[]; submitter?: Element }

export class PageEmulator implements PageEngine {
  readonly window: Window & typeof globalThis;
  readonly document: Document;

  private readonly state: SignalObject = {};
  private readonly processed = new WeakSet<Element>();
  private readonly bound = new WeakMap<Element, string[]>();
  private readonly inflight = new Set<{ controller: AbortController; promise: Promise<void> }>();
  /** The client's cancellation key: method and URL as written, across the whole page. */
  private readonly cancellers = new Map<string, AbortController>();
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();
  private readonly reported = new Set<string>();
  private readonly log: PageLog;
  private readonly jar: CookieJar;
  private batch: Batch | null = null;
  private closed = false;
  /** `{{ds-tab-id}}`'s signal: what its expression gives in a browser tab, a random id kept by the tab. */
  private readonly tabId = `'${randomBytes(16).toString('hex')}'`;

  constructor(private readonly setup: PageSetup, private readonly dom: Linkedom) {
    this.log = setup.log;
    this.jar = setup.jar;
    this.window = dom.parseHTML(setup.html);
    this.document = this.window.document;
    const batch = this.collecting(() => this.initialise(this.document.documentElement, new Map()));
    if (batch.errors.length) throw batch.errors[0];
    for (const promise of batch.promises) promise.catch(() => undefined);
  }

  signals(): Record<string, unknown> {
    return cloneJson(this.state);
  }

  async click(el: Element, wait: boolean): Promise<void> {
    const tag = el.tagName.toLowerCase();
    const type = (el.getAttribute('type') ?? '').toLowerCase();
    const toggles = tag === 'input' && (type === 'checkbox' || type === 'radio');
    // A browser toggles before the click listeners run, and undoes it when one prevents the default.
    const before = toggles ? this.checkedState(el) : [];
    if (toggles) this.toggle(el, type);
    await this.dispatchTracked(el, ['click'], wait, (evt) => {
      if (!toggles) return [];
      if (evt.defaultPrevented) {
        for (const [input, checked] of before) setChecked(input, checked);
        return [];
      }
      this.syncFromElement(el);
      this.refresh();
      return ['input', 'change'];
    });
  }

  async type(el: Element, text: string): Promise<void> {
    writeValue(el, text);
    this.syncFromElement(el);
    this.refresh();
    await this.dispatchTracked(el, ['input'], true);
  }

  async submit(form: Element): Promise<void> {
    if (!isValid(form)) return;
    await this.dispatchTracked(form, ['submit'], true);
  }

  async dispatch(el: Element, eventName: string, wait: boolean): Promise<void> {
    await this.dispatchTracked(el, [eventName], wait);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    const running = [...this.inflight];
    for (const entry of running) entry.controller.abort();
    await Promise.allSettled(running.map((e) => e.promise));
  }

  async apply(event: SseEvent): Promise<void> {
    this.applyNow(event);
  }

  private applyNow(event: SseEvent): void {
    if (event.type === PATCH_SIGNALS && event.patchSignals) {
      if (event.patchSignals.error) this.log.errors.push(`patch-signals: ${event.patchSignals.error}`);
      else mergePatch(this.state, event.patchSignals.signals, event.patchSignals.onlyIfMissing);
      this.refresh();
    } else if (event.type === PATCH_ELEMENTS && event.patchElements) {
      const result = applyElementsPatch(this.document, event.patchElements, (html) => this.dom.parseHTML(html).document);
      this.log.errors.push(...result.errors);
      for (const el of result.inserted) this.recordScripts(el);
      for (const el of result.inserted) if (el.isConnected) this.initialise(el, result.removed);
      this.refresh();
    }
  }

  // ---------------------------------------------------------------- initialising

  /** Runs the one-time part of every data-* attribute in `root` not seen before, then data-init. */
  private initialise(root: Element, previous: Map<string, Element>): void {
    const inits: Array<() => void> = [];
    for (const el of [root, ...root.querySelectorAll('*')]) {
      if (this.processed.has(el)) continue;
      this.processed.add(el);
      if (el.closest(`#${CONNECTION_ID}`)) continue;
      // An id-matched element whose attribute did not change is what a morph would have kept.
      const old = el.id ? previous.get(el.id) : undefined;
      for (const name of el.getAttributeNames()) {
        const attribute = parseDataAttribute(name);
        if (!attribute) continue;
        const value = el.getAttribute(name) ?? '';
        const kept = old !== undefined && old.getAttribute(name) === value;
        if (NOT_EMULATED.has(attribute.plugin)) {
          this.fail(`${name}="${value}" on ${describe(el)}: the page driver's emulator does not run data-${attribute.plugin}. `
            + 'Run the page\'s own Datastar client instead (install happy-dom, and serve the client or set DATASTAR_JS: see PageOptions.runtime).');
          continue;
        }
        this.guard(el, name, () => {
          switch (attribute.plugin) {
            case 'signals': if (!kept) applySignalsAttribute(this.state, attribute, value === TAB_ID_EXPRESSION ? this.tabId : value); break;
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
    const name = attribute.key ? attributeKey(attribute) : value.trim();
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
    const eventName = attributeKey(attribute, 'kebab');
    const mods = attribute.mods;
    const target: EventTarget = mods.has('window') || mods.has('outside') ? this.document : el;
    const isSubmit = el.tagName.toLowerCase() === 'form' && eventName === 'submit';
    const handler = this.timed(mods, (evt: Event) => this.collect(() => this.run(el, `data-on:${attribute.key}`, value, evt)));
    target.addEventListener(eventName, (evt: Event) => {
      if (mods.has('outside') && el.contains(evt.target as Node)) return;
      if (mods.has('prevent') || isSubmit) evt.preventDefault();
      if (mods.has('stop')) evt.stopPropagation();
      this.batch?.promises.push(handler(evt));
    }, { once: mods.has('once') });
  }

  /** The client's `__delay`, then `__debounce`, then `__throttle`, around a handler. */
  private timed(mods: Map<string, string[]>, run: (evt: Event) => Promise<void>): (evt: Event) => Promise<void> {
    let handler = run;
    const delay = mods.get('delay');
    if (delay) {
      const inner = handler;
      handler = (evt) => this.later(duration(delay), () => inner(evt)).promise;
    }
    const debounce = mods.get('debounce');
    if (debounce) {
      const inner = handler;
      const leading = debounce.includes('leading');
      const trailing = !debounce.includes('notrailing');
      let pending: { promise: Promise<void>; cancel(): void } | undefined;
      handler = (evt) => {
        const first = leading && !pending ? inner(evt) : Promise.resolve();
        pending?.cancel();
        const timer = this.later(duration(debounce), () => {
          pending = undefined;
          return trailing ? inner(evt) : Promise.resolve();
        });
        pending = timer;
        return Promise.all([first, timer.promise]).then(() => undefined);
      };
    }
    const throttle = mods.get('throttle');
    if (throttle) {
      const inner = handler;
      const leading = !throttle.includes('noleading');
      const trailing = throttle.includes('trailing');
      let waiting = false;
      let last: Event | undefined;
      handler = (evt) => {
        if (waiting) {
          last = evt;
          return Promise.resolve();
        }
        waiting = true;
        last = undefined;
        const first = leading ? inner(evt) : ((last = evt), Promise.resolve());
        const timer = this.later(duration(throttle), () => {
          waiting = false;
          return trailing && last ? inner(last) : Promise.resolve();
        });
        return Promise.all([first, timer.promise]).then(() => undefined);
      };
    }
    return handler;
  }

  /** Runs `fn` after `ms`; cancelling (or closing the page) settles the promise without running it. */
  private later(ms: number, fn: () => Promise<void>): { promise: Promise<void>; cancel(): void } {
    let cancel = () => undefined as void;
    const promise = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        if (this.closed) resolve();
        else fn().then(resolve, reject);
      }, ms);
      this.timers.add(timer);
      cancel = () => {
        clearTimeout(timer);
        this.timers.delete(timer);
        resolve();
      };
    });
    return { promise, cancel };
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
          this.guard(el, name, () => setPath(this.state, attributeKey(attribute).split('.'), this.evaluate(el, value)));
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
    this.log.changed();
  }

  private syncFromElement(el: Element): void {
    const path = this.bound.get(el);
    if (!path) return;
    const current = readPath(this.state, path);
    const value = readValue(el, typeof current);
    if (value !== RADIO_UNCHECKED) setPath(this.state, path, value);
  }

  private toggle(el: Element, type: string): void {
    if (type === 'radio') {
      const name = el.getAttribute('name');
      if (name) for (const other of this.document.querySelectorAll(`input[type="radio"][name="${cssString(name)}"]`)) other.removeAttribute('checked');
      el.setAttribute('checked', '');
    } else {
      setChecked(el, !el.hasAttribute('checked'));
    }
  }

  /** The checked state of `el` and of the radios of its group. */
  private checkedState(el: Element): Array<[Element, boolean]> {
    const name = el.getAttribute('name');
    const group = el.getAttribute('type')?.toLowerCase() === 'radio' && name
      ? [...this.document.querySelectorAll(`input[type="radio"][name="${cssString(name)}"]`)] : [el];
    return group.map((input) => [input, input.hasAttribute('checked')]);
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
      this.fail(`${label}="${source}" on ${describe(el)}: ${(error as Error).message}`);
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
    const method = name.toUpperCase();
    const key = `${method} ${url}`;
    const cancels = opts.requestCancellation !== 'disabled';
    if (cancels) this.cancellers.get(key)?.abort();
    const controller = new AbortController();
    if (cancels) this.cancellers.set(key, controller);
    const promise = this.send(el, method, url, opts, controller, this.batch?.submitter)
      .finally(() => { if (this.cancellers.get(key) === controller) this.cancellers.delete(key); });
    const entry = { controller, promise };
    this.inflight.add(entry);
    void promise.then(
      () => this.inflight.delete(entry),
      (error) => {
        this.inflight.delete(entry);
        this.log.errors.push((error as Error).message);
      },
    );
    this.batch?.promises.push(promise);
    return promise;
  }

  private async send(
    el: Element, method: string, rawUrl: string, opts: SignalObject, controller: AbortController, submitter?: Element,
  ): Promise<void> {
    const url = new URL(rawUrl, this.setup.url);
    const form = opts.contentType === 'form';
    const hasBody = method !== 'GET' && method !== 'DELETE';
    const headers = this.requestHeaders({
      Accept: ACCEPT,
      'Datastar-Request': 'true',
      ...(form || !hasBody ? {} : { 'Content-Type': 'application/json' }),
    }, isPlainObject(opts.headers) ? stringValues(opts.headers) : {});
    let body: string | undefined;
    if (form) {
      const formEl = typeof opts.selector === 'string' ? this.document.querySelector(opts.selector) : el.closest('form');
      if (!formEl) {
        throw new Error(`@${method.toLowerCase()}('${rawUrl}', {contentType: 'form'}) on ${describe(el)} found no form: put the element in a <form> or pass {selector: '#form'}.`);
      }
      // The client checks the form's validity first and sends nothing when a required field is empty.
      if (!formEl.hasAttribute('novalidate') && !isValid(formEl)) return;
      const fields = formFields(formEl, submitter);
      if (!hasBody) fields.forEach((v, k) => url.searchParams.append(k, v));
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
      if (!hasBody) url.searchParams.set(DATASTAR_QUERY_PARAM, json);
      else body = json;
    }

    const indicators = this.indicatorsOf(el);
    this.setIndicators(indicators, true);
    const request: PageRequest = { method, url: pathOf(url.href) };
    this.log.requests.push(request);
    try {
      const res = await fetch(url, { method, headers, body, signal: controller.signal });
      request.status = res.status;
      this.jar.store(res.headers);
      if (res.status !== 200) {
        await res.body?.cancel().catch(() => undefined);
        if (res.status !== 204) this.log.errors.push(statusError(method, request.url, res.status));
        return;
      }
      await this.applyResponse(res);
    } catch (error) {
      if (isAbort(error)) return;
      throw new Error(`${method} ${request.url} failed: ${(error as Error).message}`);
    } finally {
      this.setIndicators(indicators, false);
    }
  }

  private async applyResponse(res: Response): Promise<void> {
    const type = (res.headers.get('content-type') ?? '').toLowerCase();
    if (type.startsWith('text/event-stream')) {
      await readSseBody(res.body, (event) => {
        if (this.closed) return true;
        this.applyNow(event);
        return false;
      });
    } else if (type.startsWith('text/html')) {
      const selector = res.headers.get('datastar-selector') ?? undefined;
      this.applyNow({
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
      this.applyNow({
        type: PATCH_SIGNALS, data: {},
        patchSignals: parseSignalsBody(text, res.headers.get('datastar-only-if-missing') === 'true'),
      });
    } else if (type.includes('javascript')) {
      this.log.scripts.push(await res.text());
    } else {
      await res.body?.cancel().catch(() => undefined);
      this.log.errors.push(`${res.url} answered 200 with "${type}": the Datastar client ignores it.`);
    }
  }

  private recordScripts(root: Element): void {
    const scripts = root.tagName.toLowerCase() === 'script' ? [root] : [...root.querySelectorAll('script')];
    for (const script of scripts) {
      this.log.scripts.push(script.textContent ?? '');
      // executeScript's autoRemove: data-effect="el.remove()" removes the element once it ran.
      if ((script.getAttribute('data-effect') ?? '').includes('el.remove()')) script.remove();
    }
  }

  private indicatorPath(attribute: DataAttribute, value: string): string {
    const name = attribute.key ? attributeKey(attribute) : value.trim();
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

  /**
   * Fires `events` on `el` one after the other (`afterFirst` may add more once the first was handled)
   * and waits, when asked, for what their handlers started, timers included.
   */
  private async dispatchTracked(el: Element, events: string[], wait: boolean, afterFirst?: (evt: Event) => string[]): Promise<void> {
    if (this.closed) throw new Error('The page is closed: open a new one with DatastarPage.open().');
    const batch = this.collecting(() => {
      const queue = [...events];
      for (let type = queue.shift(); type !== undefined; type = queue.shift()) {
        const evt = new this.window.Event(type, { bubbles: true, cancelable: true });
        el.dispatchEvent(evt);
        if (type === 'click' && !evt.defaultPrevented && isSubmitButton(el)) {
          const form = el.closest('form');
          // A browser submits only a valid form (unless formnovalidate / novalidate).
          if (form && (el.hasAttribute('formnovalidate') || form.hasAttribute('novalidate') || isValid(form))) {
            this.batch!.submitter = el;
            form.dispatchEvent(new this.window.Event('submit', { bubbles: true, cancelable: true }));
          }
        }
        if (afterFirst && type === events[0]) queue.push(...afterFirst(evt));
      }
    });
    if (batch.errors.length) throw batch.errors[0];
    if (wait) await Promise.all(batch.promises);
    else for (const promise of batch.promises) promise.catch(() => undefined);
  }

  /** Runs `fn` with a fresh batch that collects the requests and errors it causes. */
  private collecting(fn: () => void): Batch {
    const outer = this.batch;
    const batch: Batch = { promises: [], errors: [], submitter: outer?.submitter };
    this.batch = batch;
    try {
      fn();
    } finally {
      this.batch = outer;
    }
    return batch;
  }

  /** A handler run as a promise: its errors fail the verb that started it, now or after its timer. */
  private collect(fn: () => void): Promise<void> {
    const outer = this.batch;
    const batch = this.collecting(fn);
    if (outer) outer.errors.push(...batch.errors);
    return Promise.all(batch.promises).then(() => {
      if (!outer && batch.errors.length) throw batch.errors[0];
    });
  }

  private guard(el: Element, attribute: string, fn: () => void): void {
    try {
      fn();
    } catch (error) {
      const message = `${attribute}="${el.getAttribute(attribute)}" on ${describe(el)}: ${(error as Error).message}`;
      // The sweep runs often: report each distinct failure once.
      if (!this.reported.has(message)) {
        this.reported.add(message);
        this.log.errors.push(message);
      }
    }
  }

  /** Something the page needs that did not happen: in `page.errors`, and fails the verb (or open) that caused it. */
  private fail(message: string): void {
    if (!this.reported.has(message)) {
      this.reported.add(message);
      this.log.errors.push(message);
    }
    this.batch?.errors.push(new Error(message));
  }

  private requestHeaders(base: Record<string, string>, extra: Record<string, string> = {}): Record<string, string> {
    const headers: Record<string, string> = { ...base, ...this.setup.headers, ...extra };
    const cookie = this.jar.header();
    if (cookie) headers.Cookie = cookie;
    return headers;
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
  if (attribute.key) return [[attribute.plugin === 'class' ? attributeKey(attribute, 'kebab') : attribute.key, result]];
  return isPlainObject(result) ? Object.entries(result) : [];
}

/** What the client does: `style.display = 'none'`, or removing that property again (the attribute stays, maybe empty). */
function setShown(el: Element, shown: boolean): void {
  const style = el.getAttribute('style') ?? '';
  const declarations = style.split(';').map((d) => d.trim()).filter(Boolean);
  const others = declarations.filter((d) => !/^display\s*:\s*none$/i.test(d));
  if (shown === (others.length === declarations.length)) return;
  const next = shown ? others : [...others, 'display: none'];
  el.setAttribute('style', next.map((d) => `${d};`).join(' '));
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

/** The constraint a browser checks before a submit: required fields have a value. */
function isValid(form: Element): boolean {
  for (const el of form.querySelectorAll('input[required], select[required], textarea[required]')) {
    if (el.hasAttribute('disabled')) continue;
    const type = (el.getAttribute('type') ?? '').toLowerCase();
    if (type === 'checkbox' || type === 'radio' ? !el.hasAttribute('checked') : readValue(el, 'string') === '') return false;
  }
  return true;
}

function setChecked(el: Element, checked: boolean): void {
  if (checked) el.setAttribute('checked', '');
  else el.removeAttribute('checked');
}

/** A modifier's duration as the client reads it: its first argument, `200ms`, `1s` or `200`; 0 without one. */
function duration(args: string[]): number {
  const [arg] = args;
  if (arg === undefined) return 0;
  if (arg.endsWith('ms')) return Number(arg.slice(0, -2));
  if (arg.endsWith('s')) return Number(arg.slice(0, -1)) * 1000;
  return Number.parseFloat(arg) || 0;
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



function cssString(value: string): string {
  return value.replace(/["\\]/g, '\\$&');
}
