import type { DatastarEventType } from './protocol.constants';

/**
 * One Datastar event. It has the shape of Nest's `MessageEvent`, so the helpers' results can be
 * emitted from `Observable<MessageEvent>` streams. `data` holds the data lines (`key value`),
 * already split into lines and joined with `\n`.
 */
export interface DatastarEvent {
  type: DatastarEventType;
  data: string;
  id?: string;
  retry?: number;
}

/** Options every event accepts: the SSE `id:` and `retry:` fields. */
export interface EventOptions {
  /** Written as `id:`; the client sends it back as `Last-Event-ID` on retries. */
  eventId?: string;
  /** Reconnect delay in ms, written as `retry:` unless it is the default 1000. */
  retryDuration?: number;
}
