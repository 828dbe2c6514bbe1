import { Inject, Injectable } from '@nestjs/common';
import { DATASTAR_SETTINGS, type DatastarSettings } from '../core/datastar-settings';
import { OUTSIDE_REQUEST, PAGE_CANNOT } from '../datastar.messages';
import {
  consoleLog, executeScript, expressionLiteral, patchSignals, patchSignalsRaw, redirect,
  removeElements, removeSignals,
  type ConsoleLevel, type DatastarEvent, type ExecuteScriptOptions,
  type PatchSignalsOptions, type RedirectOptions, type Signals, type EventOptions,
} from '../protocol';
import { signalsOf } from '../core/request-signals';
import { DatastarTemplates } from '../templates/datastar-templates.service';
import type { DatastarViewData } from '../templates/datastar-helpers';
import type { TemplateSource } from '../interfaces/template-source.interface';
import { DatastarContext, datastarStorage } from '../core/request-context';
import { fragmentPatch, htmlPatch, type PatchElementOptions, type PatchHtmlOptions } from './patch-element';

/**
 * The handler's view of the current Datastar request: template data (`assign`), browser state
 * (`signal`) and patches. A singleton: the request it works on comes from AsyncLocalStorage.
 */
@Injectable()
export class SignalTracker {
  constructor(
    private readonly templates: DatastarTemplates,
    @Inject(DATASTAR_SETTINGS) private readonly settings: DatastarSettings,
  ) {}

  /** True inside a page handler or a Datastar event. */
  get active(): boolean {
    return datastarStorage.getStore() !== undefined;
  }

  /** Server-only template data: templates see it, the browser never does. */
  assign(key: string, value: unknown): this;
  assign(values: Record<string, unknown>): this;
  assign(keyOrValues: string | Record<string, unknown>, value?: unknown): this {
    const ctx = this.context('assign');
    if (typeof keyOrValues === 'string') ctx.assigns[keyOrValues] = value;
    else Object.assign(ctx.assigns, keyOrValues);
    return this;
  }

  /** A signal: template data AND browser state (data-signals on a page, one merged patch in an event). */
  signal(key: string, value: unknown): this;
  signal(values: Record<string, unknown>): this;
  signal(keyOrValues: string | Record<string, unknown>, value?: unknown): this {
    const ctx = this.context('signal');
    if (typeof keyOrValues === 'string') {
      ctx.assigns[keyOrValues] = value;
      ctx.signals[keyOrValues] = value;
    } else {
      Object.assign(ctx.assigns, keyOrValues);
      Object.assign(ctx.signals, keyOrValues);
    }
    ctx.changed(this.flushContext);
    return this;
  }

  /**
   * Patches a fragment: a template name (rendered with the request's signals and assigns), a
   * function `(assigns) => html`, or HTML (a string starting with `<`).
   */
  patchElement(source: TemplateSource, options: PatchElementOptions = {}): this {
    const ctx = this.context('patchElement', true);
    return this.enqueue(ctx, fragmentPatch(source, options, (s, locals) => this.templates.renderSource(s, ctx.locals(locals), viewData(ctx))));
  }

  /**
   * A fragment as a patch event, not sent: for `pubsub.publish()` to every tab (or to return).
   * Rendered as `patchElement` renders (the same template names; `{{ds-action 'toggle'}}` targets
   * this handler's controller) but from `locals` alone: this request's signals and assigns belong
   * to one browser. Outside a request, actions must name their controller (`'todos/toggle'`).
   * @example pubsub.publish('todos', this.ds.renderFragment('todo-item', { to: 'todo-list', mode: 'append', locals: todo }))
   */
  renderFragment(source: TemplateSource, options: PatchElementOptions = {}): DatastarEvent {
    return fragmentPatch(source, options, (s, locals) => this.renderToString(s, locals));
  }

  /** The HTML of `renderFragment`: the fragment rendered from `locals` alone, for this controller. */
  renderToString(source: TemplateSource, locals: object = {}): string {
    const controller = datastarStorage.getStore()?.controller;
    return this.templates.renderSource(source, { ...locals }, { controller, signals: {} });
  }

  /** Patches raw HTML (no template). */
  patchElements(html: string, options: PatchHtmlOptions = {}): this {
    return this.enqueue(this.context('patchElements', true), htmlPatch(html, options));
  }

  removeElements(selector: string, options?: EventOptions): this {
    return this.enqueue(this.context('removeElements', true), removeElements(selector, options));
  }

  /** Sends a signal patch now, in call order (signal() instead merges into one patch). */
  patchSignals(signals: Record<string, unknown>, options?: PatchSignalsOptions): this {
    return this.enqueue(this.context('patchSignals', true), patchSignals(signals, options));
  }

  patchSignalsRaw(json: string, options?: PatchSignalsOptions): this {
    return this.enqueue(this.context('patchSignalsRaw', true), patchSignalsRaw(json, options));
  }

  /** Removes signals by dot path, as one patch. */
  removeSignals(paths: string | readonly string[], options?: EventOptions): this {
    return this.enqueue(this.context('removeSignals', true), removeSignals(paths, options));
  }

  executeScript(script: string, options?: ExecuteScriptOptions): this {
    return this.enqueue(this.context('executeScript', true), executeScript(script, options));
  }

  /** Sends the browser elsewhere (a script: never an HTTP redirect). */
  redirect(url: string, options?: RedirectOptions): this {
    return this.enqueue(this.context('redirect', true), redirect(url, options));
  }

  consoleLog(level: ConsoleLevel, ...values: unknown[]): this {
    return this.enqueue(this.context('consoleLog', true), consoleLog(level, ...values));
  }

  /** Sends any prepared events, in call order. */
  send(...events: DatastarEvent[]): this {
    const ctx = this.context('send', true);
    for (const event of events) this.enqueue(ctx, event);
    return this;
  }

  /**
   * Aborted when the current stream ends (client gone, tab replaced, shutdown): hand it to
   * fetches, timers and loops of a long-running handler.
   */
  get abortSignal(): AbortSignal {
    const writer = this.context('abortSignal', true).writer;
    if (!writer) throw new Error(OUTSIDE_REQUEST('abortSignal'));
    return writer.signal;
  }

  /** Runs `hook` once when the current stream ends, whatever the reason: release what the handler holds. */
  onClose(hook: (reason: string) => void): this {
    const writer = this.context('onClose', true).writer;
    if (!writer) throw new Error(OUTSIDE_REQUEST('onClose'));
    writer.onClose(hook);
    return this;
  }

  /** The request's signals (read once; also on a page GET, from the `datastar` query). */
  readSignals<T = Signals>(): Promise<T> {
    const ctx = this.context('readSignals');
    return Promise.resolve(signalsOf(ctx.req) as T);
  }

  /**
   * The tracked signals for a page's `data-signals` attribute or a `<script>`: an expression literal
   * (nothing the client rewrites, no `<`, `>`, `&` or quote) that is also valid JSON.
   */
  initSignals(): string {
    return expressionLiteral(this.pageSignals(this.context('initSignals')));
  }

  /** Writes what is pending now instead of when the handler returns (long handlers). */
  flush(): this {
    this.flushContext(this.context('flush', true));
    return this;
  }

  /** @internal The signals a page starts with: tracked ones and the CSRF token. */
  pageSignals(ctx: DatastarContext): Record<string, unknown> {
    const { token: tokenOf, signal } = this.settings.csrf;
    const token = tokenOf?.(ctx.req);
    return token === undefined ? ctx.signals : { [signal]: token, ...ctx.signals };
  }

  /** @internal Writes the merged signal patch, then the queued patches in call order. */
  readonly flushContext = (ctx: DatastarContext): void => {
    const writer = ctx.writer;
    if (!writer || writer.closed) return;
    // Runs before every event of every stream (bench: fanout): nothing pending allocates nothing.
    if (!ctx.hasPending()) return;
    const hasSignals = hasOwnKeys(ctx.signals);
    const events: DatastarEvent[] = [];
    if (hasSignals) {
      events.push(patchSignals(ctx.signals));
      ctx.signals = {};
    }
    if (ctx.queue.length) events.push(...ctx.queue.splice(0));
    if (events.length) writer.send(events);
  };

  private enqueue(ctx: DatastarContext, event: DatastarEvent): this {
    ctx.queue.push(event);
    ctx.changed(this.flushContext);
    return this;
  }

  private context(method: string, patches = false): DatastarContext {
    const ctx = datastarStorage.getStore();
    if (!ctx) throw new Error(OUTSIDE_REQUEST(method));
    if (patches && ctx.kind === 'page') throw new Error(PAGE_CANNOT(method));
    return ctx;
  }
}

/**
 * What the helpers need for a request's own fragment: the controller for `{{ds-post 'event'}}` and,
 * for `{{ds-signals}}`, the signals it set with `signal()` (never the assigns, which stay on the
 * server, nor the locals).
 */
function viewData(ctx: DatastarContext): DatastarViewData {
  return { controller: ctx.controller, signals: Object.assign({}, ctx.signals) };
}

function hasOwnKeys(object: object): boolean {
  for (const key in object) if (Object.prototype.hasOwnProperty.call(object, key)) return true;
  return false;
}
