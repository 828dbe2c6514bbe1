import { createHash } from 'node:crypto';
import { MAX_LAST_EVENT_ID_LENGTH } from '../datastar.constants';
import type { MessageEventLike } from '../protocol/encoder';
import { IdentifiedEvent } from '../protocol/sse-writer';

/**
 * A publication's place in its topic, as the backlog numbers it: `7` in memory, a Redis Streams
 * id (`1700000000000-3`) with Redis. Ordered by `comparePositions`.
 */
export type TopicPosition = string;

/** Where a stream resumes: after `position`, or after event `index` of that publication (a batch cut short). */
export interface ResumePoint {
  readonly position: TopicPosition;
  readonly index?: number;
}

const POSITION = /^\d{1,16}(?:-\d{1,16})?$/;
const INDEX = /^\d{1,6}$/;

/** Negative, zero or positive as `a` comes before, with or after `b`. */
export function comparePositions(a: TopicPosition, b: TopicPosition): number {
  const [a1, a2 = '0'] = a.split('-');
  const [b1, b2 = '0'] = b.split('-');
  return Number(a1) - Number(b1) || Number(a2) - Number(b2);
}

/**
 * The `id:`s of a topic's events, opaque to the client: `<tag>:<position>` on a publication's last
 * event, `<tag>:<position>:<index>` on the ones before it, so a batch cut short resumes where it
 * was cut. The tag hashes the topic with the backlog's namespace (a process's random epoch in
 * memory, the key prefix with Redis): an id from another topic, or from a backlog that is gone
 * (a restarted process), is foreign and never taken for a position here.
 */
export class TopicIds {
  private lastTopic?: string;
  private lastTag?: string;

  constructor(private readonly namespace: string) {}

  /** `events` with the ids of publication `position` of `topic`. */
  identify(topic: string, position: TopicPosition, events: readonly MessageEventLike[]): MessageEventLike[] {
    const prefix = this.idOf(topic, position);
    const last = events.length - 1;
    return events.map((event, i) => new IdentifiedEvent(event, i === last ? prefix : `${prefix}:${i}`));
  }

  /** The id of `position` of `topic` (as a whole publication: a stream holding it resumes after it). */
  idOf(topic: string, position: TopicPosition): string {
    return `${this.tagOf(topic)}:${position}`;
  }

  /** The point `lastEventId` names in `topic`, or undefined when it names none (malformed, foreign). */
  parse(topic: string, lastEventId: string): ResumePoint | undefined {
    if (lastEventId.length > MAX_LAST_EVENT_ID_LENGTH) return undefined;
    const [tag, position, index, ...rest] = lastEventId.split(':');
    if (rest.length || tag !== this.tagOf(topic) || !POSITION.test(position ?? '')) return undefined;
    if (index === undefined) return { position };
    return INDEX.test(index) ? { position, index: Number(index) } : undefined;
  }

  private tagOf(topic: string): string {
    // The last topic's tag kept: a broadcast or a burst of streams opening asks for one topic in a row.
    if (topic !== this.lastTopic) {
      this.lastTag = createHash('sha256').update(`${this.namespace}\n${topic}`).digest('base64url').slice(0, 10);
      this.lastTopic = topic;
    }
    return this.lastTag!;
  }
}
