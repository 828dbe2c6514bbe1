/** `LiveContext`: what a live view's callbacks use to change state and talk to the browser. */
import type { Observable } from 'rxjs';
import {
  consoleLog, escapeAttribute, executeScript, isUnsafeKey, patchElements, redirect, removeElements,
  type ConsoleLevel, type DatastarEvent, type EventOptions, type ExecuteScriptOptions, type MessageEventLike,
  type RedirectOptions,
} from '../protocol';
import type { LiveSessionTaskRecord } from '../interfaces/datastar-live-options.interface';
import type { TemplateSource } from '../interfaces/template-source.interface';
import { fragmentPatch, htmlPatch, type PatchElementOptions, type PatchHtmlOptions } from '../tracker/patch-element';
import { LIVE_FLASH_ID, LIVE_LOCALS } from './live.constants';
import {
  INVALID_FLASH_KIND, INVALID_INTERVAL, INVALID_SIGNAL_PATH, NAV_TARGET_REFUSED, STATELESS_CANNOT,
} from './live.messages';
import { safeLocalPath } from './live-path';
import { navigationScript } from './live-actions';

/** What a context needs from the session that owns it. */
export interface LiveContextHost {
  readonly stateless: boolean;
  readonly connected: boolean;
  /** The session's stream attached once: until then timers and subscriptions wait (see `activate()`). */
  readonly active: boolean;
  readonly flashMs: number;
  renderFragment(source: TemplateSource, locals: Record<string, unknown>): string;
  /** Queues `message` for handleInfo; `done` runs once it was handled (or dropped). */
  deliverInfo(message: unknown, done?: () => void): void;
  /** Queues events to be written as they are, in order with the session's other output. */
  deliverEvents(events: readonly MessageEventLike[]): void;
  subscribe(topic: string): Observable<MessageEventLike>;
}

/** A soft (or full) navigation a callback asked for. */
export interface LiveNavigation {
  to: string;
  replace: boolean;
}

/** What a failed callback's changes are rolled back to. */
export interface LiveSnapshot {
  assigns: Record<string, unknown>;
  signals: Record<string, unknown>;
  queued: number;
  flashes: number;
  changed: boolean;
  navigation?: LiveNavigation;
  terminate: boolean;
}

const FLASH_KIND = /^[A-Za-z][A-Za-z0-9_-]{0,31}$/;

/**
 * A view's state in one session, and its way to talk to the browser (PhoenixDatastar's socket).
 * `assign()` is server-only template data; `signal()` is template data AND browser state, sent as
 * a diff against what the browser already has. Patches queue up and go out, in call order, when
 * the callback returns. Subscriptions and timers end with the view (terminate or navigation), and
 * start only once the session's stream attached: a page that never connects costs no timer.
 */
export class LiveContext<A extends object = Record<string, any>> {
  private assignsMap: Record<string, unknown> = {};
  private signalsMap: Record<string, unknown> = {};
  private queue: DatastarEvent[] = [];
  private flashes: string[] = [];
  private changed = false;
  private navigation?: LiveNavigation;
  private terminateRequested = false;
  private readonly cleanups = new Set<() => void>();
  /** Timers and subscriptions asked for before the session's stream attached. */
  private readonly waiting = new Set<() => void>();
  /** Running timers and subscriptions, by their cleanup: kept with the state, started again on resume. */
  private readonly tasks = new Map<() => void, LiveSessionTaskRecord>();
  private readonly abort = new AbortController();

  constructor(
    /** The session id (the same across soft navigation). */
    readonly id: string,
    /** The view's route pattern, e.g. `/live/users/:id`. */
    readonly route: string,
    /** The concrete path the view is mounted at, e.g. `/live/users/42`. */
    readonly path: string,
    /** Route params and query parameters. */
    readonly params: Record<string, string>,
    private readonly host: LiveContextHost,
  ) {}

  /** Template data: every assign and signal. Treat it as read-only: change it with assign()/signal(). */
  get assigns(): Readonly<A> & Readonly<Record<string, any>> {
    return this.assignsMap as A;
  }

  /** The browser state the view keeps (updated from the page's signals before each event). */
  get signals(): Readonly<Record<string, any>> {
    return this.signalsMap;
  }

  /** True while the session's stream is open (always false for stateless views). */
  get connected(): boolean {
    return this.host.connected;
  }

  /** Aborted when the view ends (terminate or navigation): hand it to fetches and loops. */
  get abortSignal(): AbortSignal {
    return this.abort.signal;
  }

  /** Server-only template data: templates see it, the browser never does. */
  assign<K extends keyof A & string>(key: K, value: A[K]): this;
  assign(key: string, value: unknown): this;
  assign(values: Partial<A> & Record<string, unknown>): this;
  assign(keyOrValues: string | Record<string, unknown>, value?: unknown): this {
    const values = typeof keyOrValues === 'string' ? { [keyOrValues]: value } : keyOrValues;
    for (const key of Object.keys(values)) {
      if (isUnsafeKey(key)) continue;
      this.assignsMap[key] = values[key];
    }
    this.changed = true;
    return this;
  }

  /** `ctx.update('count', (n) => n + 1)`: assigns the function's result from the current value. */
  update<K extends keyof A & string>(key: K, fn: (current: A[K]) => A[K]): this {
    const isSignal = Object.prototype.hasOwnProperty.call(this.signalsMap, key);
    const next = fn(this.assignsMap[key] as A[K]);
    return isSignal ? this.signal(key, next) : this.assign(key, next);
  }

  /** Browser state AND template data; sent as part of one diff patch after the callback. */
  signal(key: string, value: unknown): this;
  signal(values: Record<string, unknown>): this;
  signal(keyOrValues: string | Record<string, unknown>, value?: unknown): this {
    const values = typeof keyOrValues === 'string' ? { [keyOrValues]: value } : keyOrValues;
    for (const key of Object.keys(values)) {
      if (isUnsafeKey(key)) continue;
      this.signalsMap[key] = values[key];
      this.assignsMap[key] = values[key];
    }
    this.changed = true;
    return this;
  }

  /** Removes signals (dot paths for nested ones): the diff sends `null` for them. */
  removeSignals(...paths: string[]): this {
    for (const path of paths) {
      const parts = String(path).split('.');
      if (parts.some((p) => p === '' || isUnsafeKey(p))) throw new TypeError(INVALID_SIGNAL_PATH(path));
      let node: any = this.signalsMap;
      for (let i = 0; i < parts.length - 1 && node && typeof node === 'object'; i++) node = node[parts[i]];
      if (node && typeof node === 'object') delete node[parts[parts.length - 1]];
      if (parts.length === 1) delete this.assignsMap[parts[0]];
    }
    this.changed = true;
    return this;
  }

  /** Renders the view again after this callback even if no assign or signal changed. */
  render(): this {
    this.changed = true;
    return this;
  }

  /** Patches a fragment: a template name or function rendered with the assigns (+ `locals`), or HTML. */
  patchElement(source: TemplateSource, options: PatchElementOptions = {}): this {
    return this.send(fragmentPatch(source, options, (s, locals) => this.host.renderFragment(s, Object.assign(this.locals(), locals))));
  }

  /** Patches raw HTML. */
  patchElements(html: string, options: PatchHtmlOptions = {}): this {
    return this.send(htmlPatch(html, options));
  }

  removeElements(selector: string, options?: EventOptions): this {
    return this.send(removeElements(selector, options));
  }

  executeScript(script: string, options?: ExecuteScriptOptions): this {
    return this.send(executeScript(script, options));
  }

  /** A full page load elsewhere (a script, never HTTP 3xx); for live views of the group prefer navigate(). */
  redirect(url: string, options?: RedirectOptions): this {
    return this.send(redirect(url, options));
  }

  consoleLog(level: ConsoleLevel, ...values: unknown[]): this {
    return this.send(consoleLog(level, ...values));
  }

  /** Sends prepared events, in call order with the other patches. */
  send(...events: DatastarEvent[]): this {
    this.queue.push(...events);
    return this;
  }

  /**
   * Shows `message` in the page's flash region (`#ds-flash`) for `timeoutMs` (module `live.flashMs`,
   * default 4 s); it removes itself in the browser. `kind` becomes the class `ds-flash-<kind>`.
   */
  flash(kind: string, message: string, options: { timeoutMs?: number } = {}): this {
    if (!FLASH_KIND.test(kind)) throw new TypeError(INVALID_FLASH_KIND(kind));
    const ms = Math.max(0, Math.floor(options.timeoutMs ?? this.host.flashMs));
    const text = escapeAttribute(String(message));
    this.flashes.push(
      `<div class="ds-flash ds-flash-${kind}" role="status" data-init="setTimeout(() => el.remove(), ${ms})">${text}</div>`,
    );
    return this;
  }

  /**
   * Soft-navigates to another live view of the same group after this callback (a new view in
   * this session, the URL pushed or replaced); any other same-origin path is a full page load.
   */
  navigate(to: string, options: { replace?: boolean } = {}): this {
    const target = safeLocalPath(to);
    if (target === undefined) throw new TypeError(NAV_TARGET_REFUSED);
    this.navigation = { to: target, replace: options.replace === true };
    return this;
  }

  /** Changes the browser's URL (same-origin path) without mounting anything: `history.pushState`/`replaceState`. */
  pushState(to: string, options: { replace?: boolean } = {}): this {
    const target = safeLocalPath(to);
    if (target === undefined) throw new TypeError(NAV_TARGET_REFUSED);
    return this.send(executeScript(navigationScript(target, options.replace === true)));
  }

  /**
   * Delivers every publication on `topic` to `handleInfo({ topic, event })`, in order; with
   * `{ forward: true }` the published events go to the browser as they are. Returns the unsubscribe.
   */
  subscribe(topic: string, options: { forward?: boolean } = {}): () => void {
    this.requireSession('subscribe');
    if (this.abort.signal.aborted) return noop;
    const forward = options.forward === true;
    return this.whenActive(() => {
      const subscription = this.host.subscribe(topic).subscribe((event) => {
        if (forward) this.host.deliverEvents([event]);
        else this.host.deliverInfo({ topic, event });
      });
      return () => subscription.unsubscribe();
    }, { kind: 'subscribe', topic, forward });
  }

  /** Queues `message` for this view's handleInfo (after what is already queued). */
  sendInfo(message: unknown): this {
    this.requireSession('sendInfo');
    if (!this.abort.signal.aborted) this.host.deliverInfo(message);
    return this;
  }

  /** `handleInfo(message)` once, after `ms`; returns the cancel function. */
  sendAfter(ms: number, message: unknown): () => void {
    this.requireSession('sendAfter');
    if (this.abort.signal.aborted) return noop;
    const at = Date.now() + ms;
    return this.whenActive((finished) => {
      const timer = setTimeout(() => {
        finished();
        this.host.deliverInfo(message);
      }, Math.max(0, at - Date.now()));
      timer.unref?.();
      return () => clearTimeout(timer);
    }, { kind: 'after', at, message });
  }

  /**
   * `handleInfo(message)` every `ms` until cancelled or the view ends; returns the cancel function.
   * Ticks are coalesced: a tick is skipped while the previous one still waits in the queue.
   */
  sendEvery(ms: number, message: unknown): () => void {
    this.requireSession('sendEvery');
    if (this.abort.signal.aborted) return noop;
    if (!(ms > 0)) throw new TypeError(INVALID_INTERVAL(ms));
    return this.whenActive(() => {
      let waiting = false;
      const timer = setInterval(() => {
        if (waiting) return;
        waiting = true;
        this.host.deliverInfo(message, () => (waiting = false));
      }, ms);
      timer.unref?.();
      return () => clearInterval(timer);
    }, { kind: 'every', ms, message });
  }

  /** Ends the session once this callback returned (terminate('terminated') runs). */
  terminate(): this {
    this.terminateRequested = true;
    return this;
  }

  /** @internal Template locals: assigns (signals included) and what `{{ds-event}}` needs. */
  locals(): Record<string, unknown> {
    // Not a spread: see DatastarContext.locals() (bench: live, once per session of a broadcast).
    const locals: Record<string, unknown> = Object.assign({}, this.assignsMap);
    locals[LIVE_LOCALS] = { path: this.path, route: this.route, sessionId: this.id };
    return locals;
  }

  /** @internal What a session store keeps of this view: assigns, signals, timers and subscriptions (live: serialize at once). */
  state(): { assigns: Record<string, unknown>; signals: Record<string, unknown>; tasks: LiveSessionTaskRecord[] } {
    return { assigns: this.assignsMap, signals: this.signalsMap, tasks: [...this.tasks.values()] };
  }

  /**
   * @internal A stored state taken back, instead of mount(): its timers and subscriptions start
   * again with the stream (a one-shot timer for what was left of its delay).
   */
  resumeState(state: { assigns: Record<string, unknown>; signals: Record<string, unknown>; tasks: readonly LiveSessionTaskRecord[] }): void {
    this.signal(state.signals);
    this.assign(state.assigns as Partial<A>); // after: an assign may differ from the signal of its name
    for (const task of state.tasks) {
      if (task.kind === 'every') this.sendEvery(task.ms, task.message);
      else if (task.kind === 'after') this.sendAfter(task.at - Date.now(), task.message);
      else this.subscribe(task.topic, { forward: task.forward });
    }
  }

  /** @internal */
  snapshot(): LiveSnapshot {
    return {
      assigns: Object.assign({}, this.assignsMap),
      signals: Object.assign({}, this.signalsMap),
      queued: this.queue.length,
      flashes: this.flashes.length,
      changed: this.changed,
      navigation: this.navigation,
      terminate: this.terminateRequested,
    };
  }

  /** @internal Puts the state back as it was before a failed callback. */
  restore(snapshot: LiveSnapshot): void {
    this.assignsMap = snapshot.assigns;
    this.signalsMap = snapshot.signals;
    this.queue.length = snapshot.queued;
    this.flashes.length = snapshot.flashes;
    this.changed = snapshot.changed;
    this.navigation = snapshot.navigation;
    this.terminateRequested = snapshot.terminate;
  }

  /** @internal The session's stream attached: timers and subscriptions asked for until now start. */
  activate(): void {
    const waiting = [...this.waiting];
    this.waiting.clear();
    for (const start of waiting) start();
  }

  /** @internal The signals as `absorbSignals(incoming)` would leave them (nothing changed). */
  signalsWith(incoming: Record<string, unknown>): Record<string, unknown> {
    const next = { ...this.signalsMap };
    for (const key of Object.keys(incoming)) {
      if (!isUnsafeKey(key) && Object.prototype.hasOwnProperty.call(this.signalsMap, key)) next[key] = incoming[key];
    }
    return next;
  }

  /** @internal Takes the browser's values of signals this view declared (never new keys). */
  absorbSignals(incoming: Record<string, unknown>): void {
    for (const key of Object.keys(incoming)) {
      if (isUnsafeKey(key) || !Object.prototype.hasOwnProperty.call(this.signalsMap, key)) continue;
      this.signalsMap[key] = incoming[key];
      this.assignsMap[key] = incoming[key];
    }
  }

  /** @internal Whether something changed since the last call (then the view renders again). */
  takeChanged(): boolean {
    const changed = this.changed;
    this.changed = false;
    return changed;
  }

  /** @internal Queued patches, then flash messages, in order. */
  takeQueued(): DatastarEvent[] {
    const events = this.queue.splice(0);
    for (const html of this.flashes.splice(0)) {
      events.push(patchElements(html, { selector: `#${LIVE_FLASH_ID}`, mode: 'append' }));
    }
    return events;
  }

  /** @internal Flash HTML for the first page render. */
  takeFlashHtml(): string {
    return this.flashes.splice(0).join('');
  }

  /** @internal */
  takeNavigation(): LiveNavigation | undefined {
    const navigation = this.navigation;
    this.navigation = undefined;
    return navigation;
  }

  /** @internal */
  takeTerminate(): boolean {
    const requested = this.terminateRequested;
    this.terminateRequested = false;
    return requested;
  }

  /** @internal Ends subscriptions and timers and aborts `abortSignal`; idempotent. */
  dispose(): void {
    for (const cleanup of [...this.cleanups]) cleanup();
    this.cleanups.clear();
    if (!this.abort.signal.aborted) this.abort.abort();
  }

  /**
   * Starts a timer or subscription now if the session is active, else once it is; the returned
   * cleanup stops it either way (and ends with the view). `start` gets that cleanup, for one-shots.
   */
  private whenActive(start: (finished: () => void) => () => void, task: LiveSessionTaskRecord): () => void {
    let stop: (() => void) | undefined;
    const run = () => {
      this.waiting.delete(run);
      stop = start(cleanup);
    };
    const cleanup = () => {
      this.waiting.delete(run);
      stop?.();
      this.cleanups.delete(cleanup);
      this.tasks.delete(cleanup);
    };
    this.cleanups.add(cleanup);
    this.tasks.set(cleanup, task);
    if (this.host.active) run();
    else this.waiting.add(run);
    return cleanup;
  }

  private requireSession(method: string): void {
    if (this.host.stateless) throw new Error(STATELESS_CANNOT(method));
  }
}

const noop = () => undefined;
