import { AsyncLocalStorage } from 'node:async_hooks';
import type { DatastarEvent, ReadSignalsOptions, Signals, SseWriter } from '../protocol';

export type DatastarContextKind = 'page' | 'dispatch';

/** Per-request state behind the singleton `SignalTracker`. */
export class DatastarContext {
  // Made on first use: an open stream that never assigns, signals or queues holds none (bench: fanout).
  #assigns?: Record<string, unknown>;
  #signals?: Record<string, unknown>;
  #queue?: DatastarEvent[];
  requestSignals?: Signals;
  /** @internal What reading this request's signals gave (see `signalsOf`): read once. */
  signalsRead?: Signals | Promise<Signals>;
  /** How this app reads signals (settings' `readSignals`: per application, not per process). */
  readSignals?: ReadSignalsOptions;
  writer?: SseWriter;
  /** Once the handler returned, tracker calls are flushed as they come (streams, timers). */
  live = false;
  private flushScheduled = false;

  constructor(
    readonly kind: DatastarContextKind,
    readonly req: any,
    readonly res: any,
    readonly controller: string | undefined,
  ) {}

  /** Template data: everything given to assign() and signal(). */
  get assigns(): Record<string, unknown> {
    return (this.#assigns ??= {});
  }

  /** Signals to send to the browser: merged into one patch at flush (or data-signals on a page). */
  get signals(): Record<string, unknown> {
    return (this.#signals ??= {});
  }

  set signals(value: Record<string, unknown>) {
    this.#signals = value;
  }

  /** Other patches, in call order. */
  get queue(): DatastarEvent[] {
    return (this.#queue ??= []);
  }

  /** Whether a flush has anything to send (asks without making the signals or the queue). */
  hasPending(): boolean {
    if (this.#queue?.length) return true;
    for (const key in this.#signals) if (Object.prototype.hasOwnProperty.call(this.#signals, key)) return true;
    return false;
  }

  /** Template locals: incoming signals, then assigns and tracked signals. */
  locals(extra?: object): Record<string, unknown> {
    // Not a spread: V8 spreads these small objects (parsed JSON, overlapping keys) ~10x slower (bench: dispatch profile).
    return Object.assign({}, this.requestSignals, this.#assigns, extra);
  }

  /** Flushes soon when the handler already returned (live), so late tracker calls still arrive. */
  changed(flush: (ctx: DatastarContext) => void): void {
    if (!this.live || this.flushScheduled) return;
    this.flushScheduled = true;
    queueMicrotask(() => {
      this.flushScheduled = false;
      flush(this);
    });
  }
}

/** One store per process: the tracker is a singleton, request state lives here. */
export const datastarStorage = new AsyncLocalStorage<DatastarContext>();
