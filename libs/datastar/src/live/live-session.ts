/** One live session (Phoenix's channel process): the mounted view, its callbacks and lifecycle. */
import { randomBytes } from 'node:crypto';
import type { LiveSessionRecord } from '../interfaces/datastar-live-options.interface';
import type { DatastarEvent, MessageEventLike, Signals, SseCloseReason, SseWriter } from '../protocol';
import { logFailure, reportFailure } from '../datastar.errors';
import { LIVE_TOKEN_SIGNAL, MAX_REMEMBERED_REQUESTS, MAX_SESSION_QUEUE } from './live.constants';
import { CALLBACK_FAILED } from './live.messages';
import { LiveContext, type LiveContextHost, type LiveNavigation } from './live-context';
import type { LiveEngine, LiveNavigationTarget } from './live-engine.interface';
import type { LiveRequest } from './live-guards';
import { SessionBusyError, SessionEndedError, SessionMovedError, SignalsTooLargeError } from './live-session.errors';
import { fullLoad, navigatedEvents, titleOf } from './live-session.navigation';
import { LiveOutput } from './live-session.output';
import { LiveTaskQueue } from './live-session.queue';
import { jsonBytes } from './live-signals';
import type { LiveViewDefinition } from './live-view.registry';
import type { LiveMountSession, LiveTerminateReason } from './live-view.interface';

export type LiveSessionState = 'pending' | 'connected' | 'disconnected' | 'terminated';

/** A view just mounted, not yet installed in the session. */
interface Mounted {
  ctx: LiveContext;
  html: string;
}

/**
 * One live session: the mounted view and its context, the session stream, and a queue that runs
 * events, infos and navigation one at a time, in arrival order. What the callbacks change goes
 * out through the session's `LiveOutput`.
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
  private readonly output = new LiveOutput();
  private readonly queue = new LiveTaskQueue((error) => this.logFailure('session task', error));
  private droppedInfos = 0;
  /** The page's stream connected once (then the session is kept in the store when it goes idle). */
  private everConnected = false;
  /** What the store holds for this session: a save that would write the same is skipped. */
  private saved?: string;
  /** Ids of the latest forwarded requests it ran (kept in the store): a retried one is not run twice. */
  private requests: string[] = [];
  /** The session went to another process: what waited in its queue goes there too. */
  private moved = false;
  /** A save waiting for the end of the turn (see `persistAfterTurn`). */
  private pendingSave?: () => void;
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
    return this.output.connected;
  }

  /** Tasks waiting (not counting the running one). */
  get pendingTasks(): number {
    return this.queue.size;
  }

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

  /** Makes a mounted view the session's first one (the page GET). */
  install(view: LiveViewDefinition, mounted: Mounted, path: string, search = ''): void {
    this.view = view;
    this.ctx = mounted.ctx;
    this.path = path;
    this.search = search;
    this.token = this.engine.tokens.sign(this.id, path);
    this.output.baseline(this.pageSignals(), mounted.html);
  }

  /**
   * Takes a stored session back (after a restart, a crash, or a drop longer than graceMs) instead
   * of mounting it: its state, timers and subscriptions as they were, then the view's `resume()`.
   * The browser's state is unknown, so its stream starts with the whole state. Throws (context
   * disposed) when the view cannot take it.
   */
  async restore(view: LiveViewDefinition, record: LiveSessionRecord, session: LiveMountSession): Promise<void> {
    const holder: { ctx?: LiveContext } = {};
    const ctx = new LiveContext(this.id, view.route.pattern, record.path, { ...record.params }, this.hostFor(holder));
    holder.ctx = ctx;
    try {
      ctx.resumeState(record);
      await view.instance.resume?.(session, ctx);
      const html = this.engine.renderView(view, ctx);
      ctx.takeChanged(); // patches resume() queued go out with the first answer or the stream
      this.view = view;
      this.ctx = ctx;
      this.path = record.path;
      this.search = record.search;
      this.token = this.engine.tokens.sign(this.id, record.path);
      this.everConnected = record.connected;
      this.requests = Array.isArray(record.requests) ? record.requests.filter((id) => typeof id === 'string') : [];
      // What the browser was last sent, as far as the store knows; the new token goes out with the first answer.
      this.output.baseline({ ...ctx.signals }, html);
      this.output.resume();
    } catch (error) {
      ctx.dispose();
      throw error;
    }
  }

  /**
   * Saves the session's state in the store, unless the store holds it already; `touch` saves
   * anyway (its time to live starts again). Awaited before an event's answer goes out.
   */
  persist(touch = false): void | Promise<void> {
    if (this.stateless || this.state === 'terminated' || !this.ctx) return;
    const text = this.engine.storage.serialize(this.record());
    if (text === this.saved && !touch) return;
    this.saved = text;
    return this.engine.storage.save(this.id, text);
  }

  /**
   * A handleInfo's save, after the turn: a broadcast's re-rendered views leave before their states
   * are serialized and journalled (bench: live, broadcast p99 at 10,000 sessions ~390 -> ~300 ms).
   * The queue waits for it, so what comes next in this session (an event, a hand-over) runs after
   * it, as before; `terminate()` saves it at once.
   */
  private persistAfterTurn(): Promise<void> {
    return new Promise((resolve, reject) => {
      const save = () => {
        if (this.pendingSave !== save) return;
        this.pendingSave = undefined;
        // A failing save is this session's (reported by its queue), not the other sessions' of the turn.
        try {
          resolve(this.persist());
        } catch (error) {
          reject(error);
        }
      };
      this.pendingSave = save;
      afterTurn(save);
    });
  }

  private record(): LiveSessionRecord {
    return {
      v: 1,
      id: this.id,
      route: this.view.route.pattern,
      path: this.path,
      search: this.search,
      params: this.ctx.params,
      ...this.ctx.state(),
      connected: this.everConnected,
      ...(this.requests.length ? { requests: this.requests } : {}),
    };
  }

  /** The signals the page starts with (the view's and the token), for `data-signals`. */
  pageSignals(): Record<string, unknown> {
    return { ...this.ctx.signals, [LIVE_TOKEN_SIGNAL]: this.token };
  }

  /** Holds a place among the sessions waiting for their stream, until it attaches or the session ends. */
  holdPending(release: () => void): void {
    this.releasePending = release;
  }

  /** Starts the idle timer (a live session registered after its page rendered) and the queue. */
  start(): void {
    this.idleTimer = this.timer(this.engine.settings.idleTimeoutMs, () => void this.terminate('idle'));
    this.queue.start();
  }

  /** A session stream opened: it replaces any previous one and receives output once queued work is done. */
  attach(writer: SseWriter): boolean {
    if (this.state === 'terminated') return false;
    this.clearTimer('idleTimer');
    this.clearTimer('graceTimer');
    this.releasePending?.();
    this.output.attach(writer);
    this.state = 'connected';
    this.lastActiveAt = Date.now();
    writer.onClose((reason) => this.detached(writer, reason));
    // First in line: what running work produces meanwhile waits in the outbox, in order.
    this.queue.pushFront({
      run: async () => {
        if (!this.output.connect(writer, () => this.collect(this.ctx, { full: true }))) return;
        this.startRefresh();
        this.activate();
        if (!this.everConnected) {
          this.everConnected = true;
          await this.persist();
        }
      },
      drop: () => undefined,
    });
    return true;
  }

  private detached(writer: SseWriter, reason: SseCloseReason): void {
    if (!this.output.detach(writer)) return;
    this.clearTimer('refreshTimer');
    if (this.state === 'terminated' || reason === 'replaced') return;
    this.state = 'disconnected';
    this.graceTimer = this.timer(this.engine.settings.graceMs, () => void this.terminate('disconnect'));
  }

  /**
   * Runs handleEvent in the queue. Resolves with the events for the event's own response: those
   * produced while no stream was open (empty when they went down the stream). `rid`: the id of a
   * request forwarded from another process, run once whatever the retries.
   */
  event(name: string, signals: Signals, request?: LiveRequest, rid?: string): Promise<DatastarEvent[]> {
    return new Promise((resolve, reject) => {
      // Refused before it waits in the queue too: an oversized body is not held there.
      const tooLarge = this.oversized(signals);
      if (tooLarge) return reject(tooLarge);
      const accepted = this.queue.push({
        run: async () => {
          if (this.ran(rid)) return resolve([]);
          const ctx = this.ctx;
          const response: DatastarEvent[] = [];
          // Against the view that takes them (a navigation may have run meanwhile).
          const refused = this.oversized(signals);
          if (refused) return reject(refused);
          ctx.absorbSignals(signals);
          this.output.received(signals, ctx.signals);
          const events = await this.run(ctx, `handleEvent("${name}")`, () => this.view.instance.handleEvent?.(name, signals, ctx));
          this.emit(events, response);
          await this.afterCallback(ctx, response, request);
          await this.persist();
          this.engine.storage.flush(); // its state is in the journal before its answer (or stream patch) leaves
          resolve(response);
        },
        drop: () => reject(this.gone()),
      });
      if (!accepted) reject(new SessionBusyError());
    });
  }

  /** Soft navigation in the queue; resolves with the events for the request's own response (no stream). */
  navigate(
    target: LiveNavigationTarget, options: { replace: boolean; pop: boolean }, session: LiveMountSession, request?: LiveRequest,
    rid?: string,
  ): Promise<DatastarEvent[]> {
    return new Promise((resolve, reject) => {
      const accepted = this.queue.push({
        run: async () => {
          if (this.ran(rid)) return resolve([]);
          const response: DatastarEvent[] = [];
          this.emit(await this.switchView(target, options, session), response);
          await this.afterCallback(this.ctx, response, request);
          await this.persist();
          this.engine.storage.flush();
          resolve(response);
        },
        drop: () => reject(this.gone()),
      });
      if (!accepted) reject(new SessionBusyError());
    });
  }

  /**
   * The session's stream opened on another process: after the running task, its state is saved,
   * `transfer` moves the lease there, and the session leaves this process (`terminate('moved')`);
   * what waited in its queue is refused with `SessionMovedError` and goes there too, in order.
   * Resolves false when the lease could not be moved or the session ended first.
   */
  handOver(transfer: () => Promise<boolean>): Promise<boolean> {
    return new Promise((resolve) => {
      if (this.state === 'terminated') return resolve(false);
      this.queue.pushFront({
        run: async () => {
          await this.persist();
          if (this.state === 'terminated' || !(await transfer())) return resolve(false);
          await this.terminate('moved');
          resolve(true);
        },
        drop: () => resolve(false),
      });
    });
  }

  /** Queues a message for the current view's handleInfo (LiveSessionsService.send). */
  send(message: unknown): boolean {
    if (this.state === 'terminated' || !this.ctx) return false;
    this.deliverInfo(this.ctx, message);
    return true;
  }

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
      const html = this.engine.renderView(view, ctx);
      ctx.takeChanged();
      this.output.baseline(this.pageSignals(), html);
      const events = await this.run(ctx, `handleEvent("${name}")`, () => view.instance.handleEvent?.(name, signals, ctx));
      const navigation = ctx.takeNavigation();
      if (navigation) events.push(fullLoad(navigation.to));
      return events;
    } finally {
      ctx.dispose();
    }
  }

  /**
   * Ends the session here: timers, subscriptions and stream gone, then the view's terminate(reason).
   * The store keeps it after a shutdown, a drop past graceMs, or when a page that connected once
   * goes idle (it may come back: see `restore`); any other end forgets it.
   */
  async terminate(reason: LiveTerminateReason): Promise<void> {
    if (this.state === 'terminated') return;
    this.pendingSave?.(); // what the store keeps (or forgets) is the latest state
    this.state = 'terminated';
    this.moved = reason === 'moved';
    const kept = reason === 'shutdown' || reason === 'disconnect' || reason === 'moved' || (reason === 'idle' && this.everConnected);
    if (!kept && !this.stateless) void this.engine.storage.remove(this.id);
    this.clearTimer('idleTimer');
    this.clearTimer('graceTimer');
    this.clearTimer('refreshTimer');
    this.releasePending?.();
    this.queue.close();
    for (const info of this.earlyInfos.splice(0)) info.done?.();
    const ctx = this.ctx;
    ctx?.dispose();
    this.output.close(reason === 'shutdown' ? 'shutdown' : 'ended');
    this.engine.ended(this);
    if (ctx && this.view?.instance.terminate) {
      try {
        await this.view.instance.terminate(reason, ctx);
      } catch (error) {
        this.logFailure('terminate', error);
      }
    }
  }

  private deliverInfo(ctx: LiveContext, message: unknown, done?: () => void): void {
    if (!this.active && this.state !== 'terminated') {
      // No handleInfo for a page whose stream never opened: kept (bounded) until it does.
      if (this.earlyInfos.length < MAX_SESSION_QUEUE) this.earlyInfos.push({ ctx, message, done });
      else this.droppedInfo(done);
      return;
    }
    const accepted = this.queue.push({
      // Synchronous as long as the view's handleInfo is (no promise per session of a broadcast).
      run: () => {
        let pending: void | Promise<void>;
        try {
          // A message for a view the session navigated away from has nobody to go to.
          if (ctx !== this.ctx || !this.view.instance.handleInfo) return done?.();
          pending = then(this.run(ctx, 'handleInfo', () => this.view.instance.handleInfo!(message, ctx)), (events) => {
            this.emit(events);
            return then(this.afterCallback(ctx), () => this.persistAfterTurn());
          });
        } catch (error) {
          done?.();
          throw error;
        }
        if (!pending) return done?.();
        return done ? pending.finally(done) : pending;
      },
      drop: () => done?.(),
    });
    if (!accepted) this.droppedInfo(done);
  }

  private deliverEvents(ctx: LiveContext, events: readonly MessageEventLike[]): void {
    this.queue.push({
      run: async () => {
        if (ctx === this.ctx) this.emit(events as DatastarEvent[]);
      },
      drop: () => undefined,
    });
  }

  private droppedInfo(done?: () => void): void {
    done?.();
    if (this.droppedInfos++ === 0) {
      this.engine.logger.warn(`live view ${this.view?.route.pattern}: session ${this.id} has ${MAX_SESSION_QUEUE} queued messages; dropping new ones.`);
    }
  }

  /** Whether the forwarded request `rid` ran already; if not, it is counted as run from now on. */
  private ran(rid: string | undefined): boolean {
    if (rid === undefined) return false;
    if (this.requests.includes(rid)) return true;
    this.requests.push(rid);
    if (this.requests.length > MAX_REMEMBERED_REQUESTS) this.requests.shift();
    return false;
  }

  /** Why queued work is refused: the session ended, or went to another process. */
  private gone(): Error {
    return this.moved ? new SessionMovedError() : new SessionEndedError();
  }

  /** The session keeps the signals its view declared: a client cannot make them larger than the limit. */
  private oversized(signals: Signals): SignalsTooLargeError | undefined {
    const limit = this.engine.settings.maxSignalBytes;
    const bytes = jsonBytes(this.ctx.signalsWith(signals));
    return bytes > limit ? new SignalsTooLargeError(bytes, limit) : undefined;
  }

  /** The first stream attached: the view's timers and subscriptions start, early messages go to handleInfo. */
  private activate(): void {
    if (this.active) return;
    this.active = true;
    this.ctx.activate();
    for (const info of this.earlyInfos.splice(0)) this.deliverInfo(info.ctx, info.message, info.done);
  }

  /** Runs one callback; on failure the context goes back to its last good state and the error is reported. */
  private run(ctx: LiveContext, label: string, callback: () => unknown): DatastarEvent[] | Promise<DatastarEvent[]> {
    const snapshot = ctx.snapshot();
    this.lastActiveAt = Date.now();
    const failed = (error: unknown) => {
      ctx.restore(snapshot);
      return this.failure(label, error);
    };
    try {
      const result = callback();
      if (isThenable(result)) return Promise.resolve(result).then(() => this.collect(ctx)).then(undefined, failed);
      return this.collect(ctx);
    } catch (error) {
      return failed(error);
    }
  }

  /** What changed, as events: one signal diff, the re-rendered root (when its HTML changed), then queued patches. */
  private collect(ctx: LiveContext, options: { full?: boolean; render?: boolean } = {}): DatastarEvent[] {
    const full = options.full === true;
    const html = full || options.render || ctx.takeChanged() ? this.engine.renderView(this.view, ctx) : undefined;
    const signals: Record<string, unknown> = Object.assign({}, ctx.signals);
    signals[LIVE_TOKEN_SIGNAL] = this.token;
    const events = this.output.update(signals, html, { full });
    events.push(...ctx.takeQueued());
    return events;
  }

  /**
   * Navigation and terminate() asked for by the callback that just ran. A navigation passes the
   * target's guards with the callback's request (none for handleInfo: a guarded target then
   * loads in full), like a `_nav` POST.
   */
  private afterCallback(ctx: LiveContext, response?: DatastarEvent[], request?: LiveRequest): void | Promise<void> {
    if (ctx !== this.ctx || this.state === 'terminated') return;
    const navigation = ctx.takeNavigation();
    // Most callbacks ask for neither: then nothing is async (see LiveTaskQueue).
    if (navigation) return this.navigateAfter(navigation, response, request).then(() => this.terminateIfAsked(ctx));
    return this.terminateIfAsked(ctx);
  }

  private async navigateAfter(navigation: LiveNavigation, response?: DatastarEvent[], request?: LiveRequest): Promise<void> {
    const target = this.engine.resolveNavigation(this.view.group, navigation.to);
    const session = target && (await this.engine.authorizeNavigation(this.id, target, request));
    if (target && session) this.emit(await this.switchView(target, { replace: navigation.replace, pop: false }, session), response);
    else this.emit([fullLoad(navigation.to)], response);
  }

  private terminateIfAsked(ctx: LiveContext): void | Promise<void> {
    if (ctx.takeTerminate()) return this.terminate('terminated');
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
    const events = this.output.update(this.pageSignals(), mounted.html, { root: true });
    events.push(...mounted.ctx.takeQueued());
    events.push(...navigatedEvents(target.path + target.search, options, oldTitle, titleOf(target.view, mounted.ctx)));
    return events;
  }

  /** Output, unless the session ended. */
  private emit(events: DatastarEvent[], response?: DatastarEvent[]): void {
    if (events.length === 0 || this.state === 'terminated') return;
    this.output.send(events, response);
  }

  private failure(label: string, error: unknown): DatastarEvent[] {
    return [reportFailure(this.engine.logger, error, this.describe(label), this.engine.settings.exposeErrors)];
  }

  private logFailure(label: string, error: unknown): void {
    logFailure(this.engine.logger, error, this.describe(label));
  }

  private describe(label: string): (message: string) => string {
    return (message) => CALLBACK_FAILED(this.view?.route.pattern ?? '?', label, message);
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
      this.queue.push({
        run: async () => {
          this.token = this.engine.tokens.sign(this.id, this.path);
          this.emit(this.collect(this.ctx));
          await this.persist(true); // its time to live starts again, like the token's
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

/** Saves waiting for the end of this turn: one immediate for them all. */
let afterTurnSaves: Array<() => void> | undefined;

function afterTurn(save: () => void): void {
  if (!afterTurnSaves) {
    afterTurnSaves = [];
    setImmediate(() => {
      const saves = afterTurnSaves!;
      afterTurnSaves = undefined;
      for (const run of saves) run();
    });
  }
  afterTurnSaves.push(save);
}

/** `fn(value)`, after `value` settled when it is a promise: a synchronous step stays synchronous. */
function then<T, R>(value: T | Promise<T>, fn: (value: T) => R | Promise<R>): R | Promise<R> {
  return value instanceof Promise ? value.then(fn) : fn(value);
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null)?.then === 'function';
}
