import type { MessageEventLike } from '../protocol/encoder';
import { encodeOnce } from '../protocol/sse-writer';
import type { TopicPosition } from './topic-ids';

/**
 * What each topic keeps so a stream that reconnects with `Last-Event-ID` gets what it missed
 * (`pubsub.backlog`). Past a bound the oldest publications go; a stream that needed them is
 * resynced instead (see `TopicSubscribeOptions.onResync`).
 */
export interface TopicBacklogOptions {
  /** Publications kept per topic (default 100). */
  maxEvents?: number;
  /** Encoded bytes kept per topic (default 65536; with Redis, about: the trim is approximate). */
  maxBytes?: number;
  /**
   * Topics with a backlog in memory (default 1000): past it the least recently published topic's
   * backlog goes, so topics named after client input cannot grow memory without bound.
   */
  maxTopics?: number;
  /** A topic silent this long loses its backlog (default one hour; with Redis, its stream key's TTL). */
  maxAgeMs?: number;
}

export type ResolvedBacklogOptions = Readonly<Required<TopicBacklogOptions>>;

/** Publications of a topic from a position on, oldest first: what a replay sends. */
export type ReplayBatch = ReadonlyArray<{ readonly position: TopicPosition; readonly events: readonly MessageEventLike[] }>;

interface Entry {
  readonly position: number;
  readonly events: readonly MessageEventLike[];
  readonly size: number;
}

interface TopicLog {
  /** Positions up to this one are not kept (dropped, or before the log began). */
  floor: number;
  /** The newest publication's position. */
  last: number;
  entries: Entry[];
  bytes: number;
  lastAt: number;
}

/**
 * The in-memory backlog: per topic, the last publications within the count and byte bounds.
 * Positions come from one counter for all topics, so a topic whose backlog was dropped and began
 * again never reuses a position an old stream may still hold. Topics are kept in
 * least-recently-published order: the topic cap and the age limit both drop from the front.
 */
export class MemoryBacklog {
  private readonly topics = new Map<string, TopicLog>();
  private counter = 0;

  constructor(private readonly options: ResolvedBacklogOptions) {}

  /** Keeps `events` as the topic's next publication; returns its position. */
  append(topic: string, events: readonly MessageEventLike[], now = Date.now()): TopicPosition {
    let log = this.topics.get(topic);
    if (log) this.topics.delete(topic); // re-inserted last: most recently published
    const position = ++this.counter;
    log ??= { floor: position - 1, last: position, entries: [], bytes: 0, lastAt: now };
    this.topics.set(topic, log);
    log.last = position;
    let size = 0;
    for (const event of events) size += encodeOnce(event).length;
    log.entries.push({ position, events, size });
    log.bytes += size;
    log.lastAt = now;
    const { maxEvents, maxBytes } = this.options;
    while (log.entries.length > maxEvents || (log.bytes > maxBytes && log.entries.length > 0)) {
      const dropped = log.entries.shift()!;
      log.bytes -= dropped.size;
      log.floor = dropped.position;
    }
    this.evict(now);
    return String(position);
  }

  /**
   * The publications from `from` on (`from` itself when still kept), or undefined when the
   * backlog no longer reaches back to it or never got that far.
   */
  since(topic: string, from: TopicPosition, now = Date.now()): ReplayBatch | undefined {
    const log = this.topics.get(topic);
    const position = Number(from);
    if (!log || now - log.lastAt > this.options.maxAgeMs || !Number.isSafeInteger(position)) return undefined;
    if (position < log.floor || position > log.last) return undefined;
    return log.entries
      .filter((entry) => entry.position >= position)
      .map((entry) => ({ position: String(entry.position), events: entry.events }));
  }

  /**
   * Where `topic` stands, for a stream opening now: its newest position. A topic with no backlog
   * gets an empty one from the current counter on (the position "nothing yet"), so `since` replays
   * all it gets next; made only while `maxTopics` has room, so opening streams never pushes a
   * published topic's backlog out (without room, the counter: a later `since` resyncs).
   */
  position(topic: string, now = Date.now()): TopicPosition {
    const log = this.topics.get(topic);
    if (log && now - log.lastAt <= this.options.maxAgeMs) return String(log.last);
    this.topics.delete(topic);
    this.evict(now);
    if (this.topics.size < this.options.maxTopics) {
      this.topics.set(topic, { floor: this.counter, last: this.counter, entries: [], bytes: 0, lastAt: now });
    }
    return String(this.counter);
  }

  /** Bytes and publications kept for `topic` (a gauge, and the bench's memory check). */
  stats(topic: string): { events: number; bytes: number } {
    const log = this.topics.get(topic);
    return { events: log?.entries.length ?? 0, bytes: log?.bytes ?? 0 };
  }

  private evict(now: number): void {
    const { maxTopics, maxAgeMs } = this.options;
    for (const [topic, log] of this.topics) {
      if (this.topics.size <= maxTopics && now - log.lastAt <= maxAgeMs) break;
      this.topics.delete(topic);
    }
  }
}
