/** The public types of a live view: its options, callbacks and what mount() gets. */
import type { MessageEventLike, Signals } from '../protocol';
import type { TemplateSource } from '../interfaces/template-source.interface';
import type { LiveContext } from './live-context';

/** `@LiveView(route, options)`. */
export interface LiveViewOptions {
  /** Template (name, function or HTML) rendered with the assigns when the class has no `render()`. */
  template?: TemplateSource;
  /** State rebuilt by `mount()` on every event, answers in the event's own response: no session, no stream. */
  stateless?: boolean;
  /** Views of one group soft-navigate into each other within one session (default `'default'`). */
  group?: string;
  /** This view's page shell instead of the module's `live.mountTemplate`. */
  mountTemplate?: TemplateSource;
  /** Page title given to the mount template as `title` (an assign named `title` wins). */
  title?: string;
}

/** The second argument of `mount()`: who asked, from the request that mounted the view. */
export interface LiveMountSession {
  /** The live session's id: the same across soft navigation. */
  readonly id: string;
  /** The request that mounted the view (the page GET, the `_nav` POST, or a stateless event). Do not keep it. */
  readonly request: any;
  /** `request.user`, as an auth guard (Passport...) left it. */
  readonly user?: unknown;
  /** `request.session` (express-session, @fastify/session), or `{}`. */
  readonly data: Record<string, unknown>;
}

/** Why a session (or a view inside it) ended. */
export type LiveTerminateReason =
  | 'disconnect' // the stream dropped and did not come back within graceMs (kept in the store: it may resume)
  | 'idle' // the stream never opened within idleTimeoutMs
  | 'navigate' // soft navigation mounted another view in the session
  | 'terminated' // LiveSessionsService.terminate() or ctx.terminate()
  | 'moved' // its stream opened on another process of the app, which holds the session now (pubsub.redis)
  | 'shutdown'; // the application is closing (kept in the store: it resumes after the restart)

/** What `handleInfo()` gets for a `ctx.subscribe(topic)` publication. */
export interface LivePubSubMessage {
  readonly topic: string;
  readonly event: MessageEventLike;
}

/**
 * The callbacks of a `@LiveView()` class, all optional but `render` (or the `template` option).
 * The class is a singleton shared by every session: keep per-session state in `ctx`, not `this`.
 */
export interface LiveViewCallbacks<A extends object = Record<string, any>> {
  /** Builds the initial state: `ctx.assign()` (server-only) and `ctx.signal()` (browser state too). */
  mount?(params: Record<string, string>, session: LiveMountSession, ctx: LiveContext<A>): void | Promise<void>;
  /**
   * Runs instead of `mount()` when a session is taken back from the store (after a restart, a
   * crash, or a drop longer than `graceMs`): assigns and signals are restored (as JSON), timers
   * and subscriptions started again. Rebuild here what JSON cannot hold. `session` is the request
   * that brought the session back (an event, the stream or `_nav`: no guard ran for it).
   */
  resume?(session: LiveMountSession, ctx: LiveContext<A>): void | Promise<void>;
  /** A `{{ds-event 'name'}}` action arrived with the page's signals; results go down the session stream. */
  handleEvent?(event: string, signals: Signals, ctx: LiveContext<A>): void | Promise<void>;
  /** A pub/sub publication (`LivePubSubMessage`), a timer's message or `ctx.sendInfo()`: in order, one at a time. */
  handleInfo?(message: any, ctx: LiveContext<A>): void | Promise<void>;
  /** The view's HTML, or a template name, from the assigns (signals included). Runs after each change. */
  render?(assigns: A & Record<string, any>): string;
  /** The session (or this view, on navigation) ended; subscriptions and timers are already gone. */
  terminate?(reason: LiveTerminateReason, ctx: LiveContext<A>): void | Promise<void>;
}
