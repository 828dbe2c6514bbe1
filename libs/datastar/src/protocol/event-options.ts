import type { DatastarEvent, EventOptions } from './datastar-event.interface';
import { DEFAULT_RETRY_DURATION, type DatastarEventType } from './protocol.constants';
import { singleLine } from './lines';

/** Builds the event object, adding `id`/`retry` only when they differ from the defaults. */
export function createEvent(type: DatastarEventType, data: string, options?: EventOptions): DatastarEvent {
  const event: DatastarEvent = { type, data };
  if (options) {
    if (options.eventId !== undefined && options.eventId !== '') event.id = singleLine(String(options.eventId));
    const retry = options.retryDuration;
    if (retry !== undefined && retry !== DEFAULT_RETRY_DURATION) {
      if (!Number.isInteger(retry) || retry < 0) {
        throw new TypeError(`retryDuration must be a non-negative integer of milliseconds, got ${String(retry)}`);
      }
      event.retry = retry;
    }
  }
  return event;
}
