import type { DatastarEvent, EventOptions } from './datastar-event.interface';
import { DATA_PREFIX, hasLineBreak, singleLine, sseDataLines, sseLines } from './lines';
import { DEFAULT_RETRY_DURATION, type DatastarEventType } from './protocol.constants';

/**
 * Our helpers' events. Their data lines are built once, already in SSE form (`data: key value\n`
 * each), and the encoder sends them as they are. `data` keeps Nest's `MessageEvent` shape (the
 * same lines without `data: `): given when it costs nothing (a one-line value), else decoded on
 * first read, so a big fragment is not split and joined twice (bench: encoding).
 */
export class WireEvent implements DatastarEvent {
  declare data: string;
  declare id?: string;
  declare retry?: number;
  /** The SSE data lines of `data`; dropped when `data` is assigned. */
  #lines: string | undefined;
  /** `data` as given or assigned; undefined until a lazy `data` is first read. */
  #data: string | undefined;
  /** Kept by `encodeOnce`: a broadcast is encoded once. */
  #bytes: Buffer | undefined;

  // An own property, so spreading, JSON.stringify and deep equality still see `data`.
  static readonly #lazyData: PropertyDescriptor = {
    get(this: WireEvent): string {
      const lines = this.#lines;
      if (this.#data === undefined && lines !== undefined) {
        this.#data = lines.slice(DATA_PREFIX.length, -1).replaceAll(`\n${DATA_PREFIX}`, '\n');
      }
      return this.#data as string;
    },
    set(this: WireEvent, value: string) {
      this.#data = value;
      this.#lines = undefined;
    },
    enumerable: true,
    configurable: true,
  };

  constructor(
    public type: DatastarEventType,
    lines: string,
    data: string | undefined,
  ) {
    if (data === undefined) Object.defineProperty(this, 'data', WireEvent.#lazyData);
    else this.data = data;
    this.#lines = lines;
    this.#data = data;
  }

  /** The SSE data lines, or undefined once `data` was changed (the encoder then reads `data`). */
  dataLines(): string | undefined {
    const lines = this.#lines;
    return lines !== undefined && (this.#data === undefined || this.data === this.#data) ? lines : undefined;
  }

  /** The bytes `encodeOnce` made of this event, if it did. */
  bytes(): Buffer | undefined {
    return this.#bytes;
  }

  keepBytes(bytes: Buffer): Buffer {
    return (this.#bytes = bytes);
  }
}

/**
 * Builds an event: `head` holds its option lines (`name value\n` each, every value one line), then
 * `value`, if any, is written as `key` lines. `id` and `retry` are added only when they differ
 * from the defaults.
 */
export function createEvent(
  type: DatastarEventType,
  head: string,
  key: string,
  value: string | undefined,
  options?: EventOptions,
): DatastarEvent {
  let lines: string;
  let data: string | undefined;
  if (value === undefined) {
    data = head.slice(0, -1);
    lines = sseLines(data);
  } else {
    lines = head === '' ? '' : sseLines(head.slice(0, -1));
    if (hasLineBreak(value)) {
      lines += sseDataLines(key, value); // `data` is decoded from these if anyone reads it
    } else {
      lines += `${DATA_PREFIX}${key} ${value}\n`;
      data = `${head}${key} ${value}`;
    }
  }
  const event = new WireEvent(type, lines, data);
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
