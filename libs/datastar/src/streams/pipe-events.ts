import { isObservable, type Observable } from 'rxjs';
import type { MessageEventLike, SseWriter } from '../protocol';
import { TopicObservable } from '../pubsub/topic-observable';
import { streamResume } from '../pubsub/topic-resume';

/** What a handler may return to keep its response open. */
export type EventSource = Observable<unknown> | AsyncIterable<unknown>;

export function isEventSource(value: unknown): value is EventSource {
  return isObservable(value) || isAsyncIterable(value);
}

export function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return value !== null && typeof value === 'object' && typeof (value as any)[Symbol.asyncIterator] === 'function';
}

/** A Nest `MessageEvent`-shaped value (our helpers' events, or a user's own). */
export function isEventLike(value: unknown): value is MessageEventLike {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    && ('data' in value || 'comment' in value);
}

export interface PipeHooks {
  /** Before each event: e.g. flush what tracker calls queued. */
  beforeEach?: () => void;
  /** The source ended; `error` if it failed. The writer is still open. */
  end: (error?: unknown) => void;
}

/**
 * Writes a source's events until it ends or the client leaves. An async iterable is pulled at the
 * client's pace (waits for `drain`); an Observable is pushed and bounded by the writer's buffer cap.
 * Resolves when the writer has closed.
 */
export function pipeEvents(writer: SseWriter, source: EventSource, hooks: PipeHooks): Promise<void> {
  return new Promise<void>((resolve) => {
    writer.onClose(() => resolve());
    startEvents(writer, source, hooks);
  });
}

/**
 * `pipeEvents` with nothing to wait on, for dispatch: a promise per open stream that nobody
 * awaits is memory for nothing. A pub/sub topic returned as is gets the writer attached to it
 * directly (no subscriber per stream); any other source is subscribed to or pulled.
 */
export function startEvents(writer: SseWriter, source: EventSource, hooks: PipeHooks): void {
  // Topics subscribed for this stream resume after the last id the client saw (see DatastarPubSub.subscribe).
  const lastEventId = lastEventIdOf(writer);
  if (source instanceof TopicObservable) return source.attach(writer, hooks, lastEventId);
  const send = (value: unknown) => {
    hooks.beforeEach?.();
    if (Array.isArray(value)) {
      if (value.every(isEventLike)) writer.send(value);
    } else if (isEventLike(value)) {
      writer.send(value);
    }
  };
  if (isObservable(source)) {
    const subscription = streamResume.run({ lastEventId, writer }, () =>
      source.subscribe({ next: send, error: (e) => hooks.end(e ?? new Error('stream failed')), complete: () => hooks.end() }));
    writer.onClose(() => subscription.unsubscribe());
    return;
  }
  const iterator = source[Symbol.asyncIterator]();
  writer.onClose(() => void iterator.return?.()?.catch?.(() => undefined));
  (async () => {
    try {
      while (!writer.closed) {
        const step = await iterator.next();
        if (step.done || writer.closed) break;
        send(step.value);
        await writer.drained();
      }
      if (!writer.closed) hooks.end();
    } catch (error) {
      if (!writer.closed) hooks.end(error ?? new Error('stream failed'));
    }
  })();
}

/** The `Last-Event-ID` the client sent when it reopened this stream, if any. */
function lastEventIdOf(writer: SseWriter): string | undefined {
  const value = writer.res.req?.headers['last-event-id'];
  return typeof value === 'string' && value !== '' ? value : undefined;
}
