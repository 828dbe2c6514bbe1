import type { Subscriber, TeardownLogic } from 'rxjs';
import type { MessageEventLike } from '../protocol/encoder';
import { encodeOnce, type SseWriter } from '../protocol/sse-writer';

/** What a stream attached straight to a topic is told. */
export interface TopicWriterHooks {
  /** Before each publication is written: e.g. flush what tracker calls queued, to keep their order. */
  beforeEach?: () => void;
  /** The topic sends nothing more (the pub/sub closed). The writer is still open. */
  end: () => void;
}

/** The adapter's hooks: a topic got its first local member, or lost its last one. */
export interface TopicLifecycle {
  opened(topic: string): void;
  closed(topic: string): void;
}

/**
 * One local member of a topic: an RxJS subscriber, or a stream's writer attached directly. Both
 * kinds carry every field, so the fan-out loop sees a single object shape.
 */
interface Member {
  /** The publication sequence number when it joined: it gets only later publications. */
  readonly since: number;
  readonly subscriber: Subscriber<MessageEventLike> | undefined;
  readonly writer: SseWriter | undefined;
  readonly hooks: TopicWriterHooks | undefined;
}

interface Publication {
  readonly topic: string;
  readonly events: readonly MessageEventLike[];
  readonly sequence: number;
}

/**
 * The in-process half of every pub/sub adapter, and the one home of its topic state: who listens
 * to which topic here, and the order publications go out in.
 *
 * Events arrive in publication order on every member of a topic, and all of them get the very
 * same event objects. An attached writer gets one buffer per publication, encoded once for all
 * of them: no subscriber chain, closure or copy per stream (bench: fanout).
 */
export class LocalTopics {
  private readonly members = new Map<string, Set<Member>>();
  private readonly queue: Publication[] = [];
  private draining = false;
  private sequence = 0;
  private isClosed = false;

  constructor(private readonly lifecycle: TopicLifecycle) {}

  get closed(): boolean {
    return this.isClosed;
  }

  /** Local members of `topic`. */
  count(topic: string): number {
    return this.members.get(topic)?.size ?? 0;
  }

  /** Adds an RxJS subscriber; the teardown removes every trace of it. */
  join(topic: string, subscriber: Subscriber<MessageEventLike>): TeardownLogic {
    // Shutting down: end at once rather than hold a stream nobody will ever feed.
    if (this.isClosed) return subscriber.complete();
    const member: Member = { since: this.sequence, subscriber, writer: undefined, hooks: undefined };
    const joined = this.add(topic, member);
    return () => this.remove(topic, joined, member);
  }

  /** Writes the topic's publications straight to `writer` until it closes. */
  attach(topic: string, writer: SseWriter, hooks: TopicWriterHooks): void {
    if (writer.closed) return;
    if (this.isClosed) return hooks.end();
    const member: Member = { since: this.sequence, subscriber: undefined, writer, hooks };
    const joined = this.add(topic, member);
    writer.onClose(() => this.remove(topic, joined, member));
  }

  /**
   * Hands `events` to the members of `topic`, synchronously. A member that publishes while being
   * called is queued behind the current publication instead of overtaking it, so every member
   * sees one global order.
   */
  deliver(topic: string, events: readonly MessageEventLike[]): void {
    if (events.length === 0 || !this.members.has(topic)) return;
    this.queue.push({ topic, events, sequence: ++this.sequence });
    if (this.draining) return;
    this.draining = true;
    try {
      for (let next = this.queue.shift(); next; next = this.queue.shift()) this.fanOut(next);
    } finally {
      this.draining = false;
    }
  }

  /** Ends every member and refuses new ones. */
  close(): void {
    this.isClosed = true;
    this.queue.length = 0;
    const all = [...this.members.values()];
    this.members.clear();
    for (const members of all) {
      for (const member of members) {
        if (member.writer) member.hooks!.end();
        else member.subscriber!.complete();
      }
    }
  }

  private add(topic: string, member: Member): Set<Member> {
    let members = this.members.get(topic);
    if (!members) {
      members = new Set();
      this.members.set(topic, members);
      this.lifecycle.opened(topic);
    }
    members.add(member);
    return members;
  }

  private remove(topic: string, members: Set<Member>, member: Member): void {
    members.delete(member);
    // After close() the map was cleared: nothing to remove, nothing to tell the adapter.
    if (members.size === 0 && this.members.get(topic) === members) {
      this.members.delete(topic);
      this.lifecycle.closed(topic);
    }
  }

  private fanOut({ topic, events, sequence }: Publication): void {
    const members = this.members.get(topic);
    if (!members) return;
    let bytes: Buffer | undefined;
    for (const member of members) {
      if (member.since >= sequence) continue;
      const writer = member.writer;
      if (writer) {
        member.hooks!.beforeEach?.();
        writer.writeBytes((bytes ??= encodeAll(events)));
        continue;
      }
      const subscriber = member.subscriber!;
      for (const event of events) {
        if (subscriber.closed) break;
        subscriber.next(event);
      }
    }
  }
}

function encodeAll(events: readonly MessageEventLike[]): Buffer {
  return events.length === 1 ? encodeOnce(events[0]) : Buffer.concat(events.map(encodeOnce));
}
