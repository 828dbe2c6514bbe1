import type { Logger } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import type { Observable } from 'rxjs';
import {
  executeScript, htmlSafeJson, patchElements, patchSignals,
  type DatastarEvent, type MessageEventLike, type Signals, type SseCloseReason, type SseWriter,
} from '../protocol';
import { errorForBrowser, errorId } from '../datastar.errors';
import type { TemplateSource } from '../interfaces/template-source.interface';
import { LIVE_ROOT_ID, LIVE_TOKEN_SIGNAL, MAX_OUTBOX, MAX_SESSION_QUEUE } from './live.constants';
import { CALLBACK_FAILED } from './live.messages';
import { fullLoadScript, navigationScript } from './live-actions';
import { LiveContext, type LiveContextHost, type LiveNavigation } from './live-context';
import type { LiveRequest } from './live-guards';
import { jsonBytes, jsonClone, signalsDiff } from './live-signals';
import type { LiveTokens } from './live-token';
import type { LiveViewDefinition } from './live-view.registry';
import type { LiveMountSession, LiveTerminateReason } from './live-view.interface';

/** Settings a session runs with (the module's `live` options, resolved). */
export interface LiveSettings {
  readonly tokenTtlMs: number;
  readonly graceMs: number;
  readonly idleTimeoutMs: number;
  readonly flashMs: number;
  /** Largest JSON size of a session's signals once an event's are taken (413 past it). */
  readonly maxSignalBytes: number;
  /** The module's `exposeErrors`: error details go to the browser console only when true. */
  readonly exposeErrors: boolean;
}

/** What a session needs from the runtime that owns it. */
export interface LiveEngine {
  readonly settings: LiveSettings;
  readonly logger: Logger;
  readonly tokens: LiveTokens;
  renderView(view: LiveViewDefinition, ctx: LiveContext): string;
  renderFragment(source: TemplateSource, locals: Record<string, unknown>): string;
  subscribe(topic: string): Observable<MessageEventLike>;
  /** Where a soft navigation may go: the target view, or undefined for a full page load. */
  resolveNavigation(session: LiveSession, to: string): LiveNavigationTarget | undefined;
  /** The target's guards, run with the navigation's request: what its mount() gets, or undefined for a full page load. */
  authorizeNavigation(session: LiveSession, target: LiveNavigationTarget, request?: LiveRequest): Promise<LiveMountSession | undefined>;
  /** The session ended: forget it. */
  ended(session: LiveSession): void;
}

/** A view a session may soft-navigate to. */
export interface LiveNavigationTarget {
  view: LiveViewDefinition;
  path: string;
  search: string;
  params: Record<string, string>;
}

export type LiveSessionState = 'pending' | 'connected' | 'disconnected' | 'terminated';

interface Task {
  run(): Promise<void>;
  /** The session ended before the task ran. */
  drop(): void;
}

/** A view just mounted, not yet installed in the session. */
interface Mounted {
  ctx: LiveContext;
  html: string;
}

/**
 * One live session: the mounted view and its context, the session stream, and a queue that runs
 * events, infos and navigation one at a time, in arrival order. Output goes down the stream, into
 * an event's own response when no stream is open, or into a bounded outbox until one opens.
 */
export class LiveSession {
  readonly createdAt = Date.now();
  lastActiveAt = this.createdAt;
  state: LiveSessionState = 'pending';
  view!: LiveViewDefinition;
  ctx!: LiveContext;
  path = '/';
  search = '';
  token = '';
  private writer?: SseWriter;
  private attached?: SseWriter;
  private sentSignals: Record<string, unknown> = {};
  private lastHtml = '';
  private outbox: DatastarEvent[] = [];
  private resync = false;
  private connectedOnce = false;
  private readonly queue: Task[] = [];
  private running = false;
  private paused = true;
  private droppedInfos = 0;
  /** The stream attached once: timers, subscriptions and handleInfo run from then on. */
  private active = false;
  /** Messages for handleInfo that arrived before that. */
  private readonly earlyInfos: Array<{ ctx: LiveContext; message: unknown; done?: () => void }> = [];
  /** Frees this session's place among those waiting for their stream. */
  private releasePending?: () => void;
  private idleTimer?: NodeJS.Timeout;
  private graceTimer?: NodeJS.Timeout;
  private refreshTimer?: NodeJS.Timeout;

  constructor(
    private readonly engine: LiveEngine,
    readonly stateless: boolean,
    readonly id: string = randomBytes(16).toString('base64url'),
  ) {}

  get connected(): boolean {
    return this.writer !== undefined && !this.writer.closed;
  }

  /** Tasks waiting (not counting the running one). */
  get pendingTasks(): number {
    return this.queue.length;
  }

  // ---- mounting ----------------------------------------------------------------------------

  /** Runs mount() and the first render of `view` in a fresh context; throws (context disposed) if either fails. */
  async mountView(view: LiveViewDefinition, path: string, params: Record<string, string>, session: LiveMountSession): Promise<Mounted> {
    const holder: { ctx?: LiveContext } = {};
    const ctx = new LiveContext(this.id, view.route.pattern, path, params, this.hostFor(holder));
    holder.ctx = ctx;
    try {
      await view.instance.mount?.(params, session, ctx);
      const html = this.engine.renderView(view, ctx);
      ctx.takeChanged();
      return { ctx, html };
    } catch (error) {
      ctx.dispose();
      throw error;
    }
  }

  /** Makes a mounted view the session's first one (the page GET); the queue starts running. */
  install(view: LiveViewDefinition, mounted: Mounted, path: string, search = ''): void {
    this.view = view;
    this.ctx = mounted.ctx;
    this.path = path;
    this.search = search;
    this.lastHtml = mounted.html;
    this.token = this.engine.tokens.sign(this.id, path);
    this.sentSignals = jsonClone({ ...mounted.ctx.signals, [LIVE_TOKEN_SIGNAL]: this.token });
    this.paused = false;
  }

  /** The signals the page starts with (the view's and the token), for `data-signals`. */
  pageSignals(): Record<string, unknown> {
    return { ...this.ctx.signals, [LIVE_TOKEN_SIGNAL]: this.token };
  }

  /** Holds a place among the sessions waiting for their stream, until it attaches or the session ends. */
  holdPending(release: () => void): void {
    this.releasePending = release;
  }

  /** Starts the idle timer (a live session registered after its page rendered) and runs queued work. */
  start(): void {
    this.idleTimer = this.timer(this.engine.settings.idleTimeoutMs, () => void this.terminate('idle'));
    void this.drain();
  }

  // ---- the stream ----------------------------------------------------------------------------

  /** A session stream opened: it replaces any previous one and receives output once queued work is done. */
  attach(writer: SseWriter): boolean {
    if (this.state === 'terminated') return false;
    this.clearTimer('idleTimer');
    this.clearTimer('graceTimer');
    this.releasePending?.();
    const previous = this.attached;
    this.attached = writer;
    if (previous && previous !== writer) previous.close('replaced');
    this.state = 'connected';
    this.lastActiveAt = Date.now();
    writer.onClose((reason) => this.detached(writer, reason));
    // First in line: what running work produces meanwhile waits in the outbox, in order.
    this.queue.unshift({
      run: async () => {
        if (writer.closed || this.attached !== writer) return;
        let events: DatastarEvent[];
        if (this.connectedOnce || this.resync) {
          // A reconnect (or an overflowed outbox): the browser may have missed anything, send the whole state.
          this.outbox = [];
          this.resync = false;
          events = this.collect(this.ctx, { full: true });
        } else {
          events = this.outbox.splice(0);
        }
        this.writer = writer;
        this.connectedOnce = true;
        this.startRefresh();
        if (events.length) writer.send(events);
        this.activate();
      },
      drop: () => undefined,
    });
    void this.drain();
    return true;
  }

  private detached(writer: SseWriter, reason: SseCloseReason): void {
    if (this.writer === writer) this.writer = undefined;
    if (this.attached !== writer) return;
    this.attached = undefined;
    this.clearTimer('refreshTimer');
    if (this.state === 'terminated' || reason === 'replaced') return;
    this.state = 'disconnected';
    this.graceTimer = this.timer(this.engine.settings.graceMs, () => void this.terminate('disconnect'));
  }

  // ---- work ----------------------------------------------------------------------------------

  /**
   * Runs handleEvent in the queue. Resolves with the events for the event's own response: those
   * produced while no stream was open (empty when they went down the stream).
   */
  event(name: string, signals: Signals, request?: LiveRequest): Promise<DatastarEvent[]> {
    return new Promise((resolve, reject) => {
      // Refused before it waits in the queue too: an oversized body is not held there.
      const tooLarge = this.oversized(signals);
      if (tooLarge) return reject(tooLarge);
      const accepted = this.enqueue({
        run: async () => {
          const ctx = this.ctx;
          const response: DatastarEvent[] = [];
          // Against the view that takes them (a navigation may have run meanwhile).
          const refused = this.oversized(signals);
          if (refused) return reject(refused);
          ctx.absorbSignals(signals);
          // The browser has these values now: no need to send them back.
          for (const key of Object.keys(signals)) {
            if (Object.prototype.hasOwnProperty.call(ctx.signals, key)) this.sentSignals[key] = jsonClone(signals[key]);
          }
          const events = await this.run(ctx, `handleEvent("${name}")`, () => this.view.instance.handleEvent?.(name, signals, ctx));
          this.emit(events, response);
          await this.afterCallback(ctx, response, request);
          resolve(response);
        },
        drop: () => reject(new SessionEndedError()),
      });
      if (!accepted) reject(new SessionBusyError());
    });
  }

  /** Soft navigation in the queue; resolves with the events for the request's own response (no stream). */
  navigate(
    target: LiveNavigationTarget, options: { replace: boolean; pop: boolean }, session: LiveMountSession, request?: LiveRequest,
  ): Promise<DatastarEvent[]> {
    return new Promise((resolve, reject) => {
      const accepted = this.enqueue({
        run: async () => {
          const response: DatastarEvent[] = [];
          this.emit(await this.switchView(target, options, session), response);
          await this.afterCallback(this.ctx, response, request);
          resolve(response);
        },
        drop: () => reject(new SessionEndedError()),
      });
      if (!accepted) reject(new SessionBusyError());
    });
  }

  /** Queues a message for the current view's handleInfo (LiveSessionsService.send). */
  send(message: unknown): boolean {
    if (this.state === 'terminated' || !this.ctx) return false;
    this.deliverInfo(this.ctx, message);
    return true;
  }

  private deliverInfo(ctx: LiveContext, message: unknown, done?: () => void): void {
    if (!this.active && this.state !== 'terminated') {
      // No handleInfo for a page whose stream never opened: kept (bounded) until it does.
      if (this.earlyInfos.length < MAX_SESSION_QUEUE) this.earlyInfos.push({ ctx, message, done });
      else this.droppedInfo(done);
      return;
    }
    const accepted = this.enqueue({
      run: async () => {
        try {
          // A message for a view the session navigated away from has nobody to go to.
          if (ctx !== this.ctx || !this.view.instance.handleInfo) return;
          const events = await this.run(ctx, 'handleInfo', () => this.view.instance.handleInfo!(message, ctx));
          this.emit(events);
          await this.afterCallback(ctx);
        } finally {
          done?.();
        }
      },
      drop: () => done?.(),
    });
    if (!accepted) this.droppedInfo(done);
  }

  /** The session keeps the signals its view declared: a client cannot make them larger than the limit. */
  private oversized(signals: Signals): SignalsTooLargeError | undefined {
    const limit = this.engine.settings.maxSignalBytes;
    const bytes = jsonBytes(this.ctx.signalsWith(signals));
    return bytes > limit ? new SignalsTooLargeError(bytes, limit) : undefined;
  }

  private droppedInfo(done?: () => void): void {
    done?.();
    if (this.droppedInfos++ === 0) {
      this.engine.logger.warn(`live view ${this.view?.route.pattern}: session ${this.id} has ${MAX_SESSION_QUEUE} queued messages; dropping new ones.`);
    }
  }

  /** The first stream attached: the view's timers and subscriptions start, early messages go to handleInfo. */
  private activate(): void {
    if (this.active) return;
    this.active = true;
    this.ctx.activate();
    for (const info of this.earlyInfos.splice(0)) this.deliverInfo(info.ctx, info.message, info.done);
  }

  private deliverEvents(ctx: LiveContext, events: readonly MessageEventLike[]): void {
    this.enqueue({
      run: async () => {
        if (ctx === this.ctx) this.emit(events as DatastarEvent[]);
      },
      drop: () => undefined,
    });
  }

  /** Ends the session: timers, subscriptions and stream gone, then the view's terminate(reason). */
  async terminate(reason: LiveTerminateReason): Promise<void> {
    if (this.state === 'terminated') return;
    this.state = 'terminated';
    this.paused = true;
    this.clearTimer('idleTimer');
    this.clearTimer('graceTimer');
    this.clearTimer('refreshTimer');
    this.releasePending?.();
    for (const task of this.queue.splice(0)) task.drop();
    for (const info of this.earlyInfos.splice(0)) info.done?.();
    this.outbox = [];
    const ctx = this.ctx;
    ctx?.dispose();
    const writer = this.attached;
    this.attached = undefined;
    this.writer = undefined;
    writer?.close(reason === 'shutdown' ? 'shutdown' : 'ended');
    this.engine.ended(this);
    if (ctx && this.view?.instance.terminate) {
      try {
        await this.view.instance.terminate(reason, ctx);
      } catch (error) {
        this.logFailure('terminate', error);
      }
    }
  }

  // ---- stateless ----------------------------------------------------------------------------

  /**
   * A stateless view's event: `mount()` rebuilt the state, the page's signals are taken as the
   * browser's, handleEvent runs, and the answer is what differs from the page.
   */
  async statelessEvent(mounted: Mounted, view: LiveViewDefinition, path: string, name: string, signals: Signals): Promise<DatastarEvent[]> {
    const ctx = mounted.ctx;
    try {
      this.view = view;
      this.ctx = ctx;
      this.path = path;
      this.token = this.engine.tokens.sign(this.id, path);
      ctx.takeQueued(); // patches of mount() were part of the page
      ctx.absorbSignals(signals);
      this.lastHtml = this.engine.renderView(view, ctx);
      ctx.takeChanged();
      this.sentSignals = jsonClone({ ...ctx.signals, [LIVE_TOKEN_SIGNAL]: this.token });
      const events = await this.run(ctx, `handleEvent("${name}")`, () => view.instance.handleEvent?.(name, signals, ctx));
      const navigation = ctx.takeNavigation();
      if (navigation) events.push(this.fullLoad(navigation));
      return events;
    } finally {
      ctx.dispose();
    }
  }

  // ---- internals ----------------------------------------------------------------------------

  /** Runs one callback; on failure the context goes back to its last good state and the error is reported. */
  private async run(ctx: LiveContext, label: string, callback: () => unknown): Promise<DatastarEvent[]> {
    const snapshot = ctx.snapshot();
    this.lastActiveAt = Date.now();
    try {
      await callback();
      return this.collect(ctx);
    } catch (error) {
      ctx.restore(snapshot);
      return this.failure(label, error);
    }
  }

  /** What changed, as events: one signal diff, the re-rendered root (when its HTML changed), then queued patches. */
  private collect(ctx: LiveContext, options: { full?: boolean; render?: boolean } = {}): DatastarEvent[] {
    const full = options.full === true;
    const html = full || options.render || ctx.takeChanged() ? this.engine.renderView(this.view, ctx) : undefined;
    const current = jsonClone({ ...ctx.signals, [LIVE_TOKEN_SIGNAL]: this.token });
    const diff = full ? current : signalsDiff(this.sentSignals, current);
    this.sentSignals = current;
    const events: DatastarEvent[] = [];
    if (Object.keys(diff).length > 0) events.push(patchSignals(diff));
    if (html !== undefined && (full || html !== this.lastHtml)) {
      this.lastHtml = html;
      events.push(rootPatch(html));
    }
    events.push(...ctx.takeQueued());
    return events;
  }

  /**
   * Navigation and terminate() asked for by the callback that just ran. A navigation passes the
   * target's guards with the callback's request (none for handleInfo: a guarded target then
   * loads in full), like a `_nav` POST.
   */
  private async afterCallback(ctx: LiveContext, response?: DatastarEvent[], request?: LiveRequest): Promise<void> {
    if (ctx !== this.ctx || this.state === 'terminated') return;
    const navigation = ctx.takeNavigation();
    if (navigation) {
      const target = this.engine.resolveNavigation(this, navigation.to);
      const session = target && (await this.engine.authorizeNavigation(this, target, request));
      if (target && session) this.emit(await this.switchView(target, { replace: navigation.replace, pop: false }, session), response);
      else this.emit([this.fullLoad(navigation)], response);
    }
    if (ctx.takeTerminate()) {
      await this.terminate('terminated');
    }
  }

  /** Mounts `target` in this session; the old view ends only once the new one mounted and rendered. */
  private async switchView(target: LiveNavigationTarget, options: { replace: boolean; pop: boolean }, session: LiveMountSession): Promise<DatastarEvent[]> {
    let mounted: Mounted;
    try {
      mounted = await this.mountView(target.view, target.path, target.params, session);
    } catch (error) {
      return this.failure(`mount (navigating to ${target.path})`, error);
    }
    const old = { view: this.view, ctx: this.ctx };
    const oldTitle = titleOf(old.view, old.ctx);
    old.ctx.dispose();
    if (old.view.instance.terminate) {
      try {
        await old.view.instance.terminate('navigate', old.ctx);
      } catch (error) {
        this.logFailure('terminate', error);
      }
    }
    this.view = target.view;
    this.ctx = mounted.ctx;
    this.path = target.path;
    this.search = target.search;
    this.token = this.engine.tokens.sign(this.id, target.path);
    this.lastHtml = mounted.html;
    const current = jsonClone({ ...mounted.ctx.signals, [LIVE_TOKEN_SIGNAL]: this.token });
    const diff = signalsDiff(this.sentSignals, current);
    this.sentSignals = current;
    const events: DatastarEvent[] = [];
    if (Object.keys(diff).length > 0) events.push(patchSignals(diff));
    events.push(rootPatch(mounted.html));
    events.push(...mounted.ctx.takeQueued());
    if (!options.pop) events.push(executeScript(navigationScript(target.path + target.search, options.replace)));
    const title = titleOf(target.view, mounted.ctx);
    if (title !== undefined && title !== oldTitle) events.push(executeScript(titleScript(oldTitle, title)));
    return events;
  }

  private fullLoad(navigation: LiveNavigation): DatastarEvent {
    return executeScript(fullLoadScript(navigation.to));
  }

  /** Output goes down the open stream, else into `response` (an event's own answer), else the outbox. */
  private emit(events: DatastarEvent[], response?: DatastarEvent[]): void {
    if (events.length === 0 || this.state === 'terminated') return;
    if (this.writer && this.writer.send(events)) return;
    if (response) {
      response.push(...events);
      return;
    }
    this.outbox.push(...events);
    if (this.outbox.length > MAX_OUTBOX) {
      this.outbox = [];
      this.resync = true;
    }
  }

  private failure(label: string, error: unknown): DatastarEvent[] {
    const { message, id } = this.logFailure(label, error);
    return [errorForBrowser(message, id, this.engine.settings.exposeErrors)];
  }

  private logFailure(label: string, error: unknown): { message: string; id: string } {
    const err = error instanceof Error ? error : new Error(String(error));
    const message = CALLBACK_FAILED(this.view?.route.pattern ?? '?', label, err.message);
    const id = errorId();
    this.engine.logger.error(`${message} [error ${id}]`, err.stack);
    return { message, id };
  }

  private enqueue(task: Task): boolean {
    if (this.state === 'terminated') {
      task.drop();
      return true;
    }
    if (this.queue.length >= MAX_SESSION_QUEUE) return false;
    this.queue.push(task);
    void this.drain();
    return true;
  }

  private async drain(): Promise<void> {
    if (this.running || this.paused) return;
    this.running = true;
    try {
      for (let task = this.queue.shift(); task; task = this.paused ? undefined : this.queue.shift()) {
        try {
          await task.run();
        } catch (error) {
          this.logFailure('session task', error);
        }
      }
    } finally {
      this.running = false;
    }
  }

  /** The context's view of this session; messages of a context the session left are dropped. */
  private hostFor(holder: { ctx?: LiveContext }): LiveContextHost {
    const session = this;
    return {
      get stateless() {
        return session.stateless;
      },
      get connected() {
        return session.connected && holder.ctx === session.ctx;
      },
      get active() {
        return session.active;
      },
      flashMs: this.engine.settings.flashMs,
      renderFragment: (source, locals) => this.engine.renderFragment(source, locals),
      deliverInfo: (message, done) => (holder.ctx ? this.deliverInfo(holder.ctx, message, done) : done?.()),
      deliverEvents: (events) => holder.ctx && this.deliverEvents(holder.ctx, events),
      subscribe: (topic) => this.engine.subscribe(topic),
    };
  }

  /** Keeps the page's token fresh while the stream is open: a new `_lv` at half its lifetime. */
  private startRefresh(): void {
    this.clearTimer('refreshTimer');
    const every = Math.max(1000, Math.floor(this.engine.settings.tokenTtlMs / 2));
    this.refreshTimer = setInterval(() => {
      this.enqueue({
        run: async () => {
          this.token = this.engine.tokens.sign(this.id, this.path);
          this.emit(this.collect(this.ctx));
        },
        drop: () => undefined,
      });
    }, every);
    this.refreshTimer.unref?.();
  }

  private timer(ms: number, fn: () => void): NodeJS.Timeout {
    const timer = setTimeout(fn, ms);
    timer.unref?.();
    return timer;
  }

  private clearTimer(name: 'idleTimer' | 'graceTimer' | 'refreshTimer'): void {
    const timer = this[name];
    if (timer) {
      clearTimeout(timer);
      clearInterval(timer);
      this[name] = undefined;
    }
  }
}

function titleOf(view: LiveViewDefinition, ctx: LiveContext): string | undefined {
  const title = ctx.assigns.title ?? view.options.title;
  return typeof title === 'string' ? title : undefined;
}

/** The new view's title in place of the old one's: "A · My app" becomes "B · My app" whatever the shell's format. */
function titleScript(oldTitle: string | undefined, title: string): string {
  return `{const o=${htmlSafeJson(oldTitle ?? '')},n=${htmlSafeJson(title)};` +
    'document.title=o&&document.title.includes(o)?document.title.replace(o,()=>n):n}';
}

/** The root's new children: morphed in place by the client. */
function rootPatch(html: string): DatastarEvent {
  return patchElements(html, { selector: `#${LIVE_ROOT_ID}`, mode: 'inner' });
}

/** The session ended while the request waited in its queue. */
export class SessionEndedError extends Error {
  constructor() {
    super('live session ended');
  }
}

/** The session's queue is full. */
export class SessionBusyError extends Error {
  constructor() {
    super('live session busy');
  }
}

/** An event's signals would make the session's larger than `maxSignalBytes`. */
export class SignalsTooLargeError extends Error {
  constructor(
    readonly bytes: number,
    readonly limit: number,
  ) {
    super('live signals too large');
  }
}
