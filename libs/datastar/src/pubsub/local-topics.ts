import type { Subscriber, TeardownLogic } from 'rxjs';
import type { MessageEventLike } from '../protocol/encoder';
import { encodeOnce, type SseCloseListener, type SseWriter } from '../protocol/sse-writer';
import type { ReplayBatch } from './topic-backlog';
import { comparePositions, type ResumePoint, type TopicIds, type TopicPosition } from './topic-ids';
import type { TopicResume } from './topic-resume';

/** What a stream attached straight to a topic is told. */
export interface TopicWriterHooks {
  /** Before each publication is written: e.g. flush what tracker calls queued, to keep their order. */
  beforeEach?: () => void;
  /** The topic sends nothing more (the pub/sub closed). The writer is still open. */
  end: () => void;
}

/** The adapter's hooks: a topic got its first local member, or lost its last one; the backlog. */
export interface TopicLifecycle {
  opened(topic: string): void;
  closed(topic: string): void;
  /**
   * The publications of `topic` from `from` on (`from` itself when still kept), or undefined when
   * the backlog no longer reaches back to it.
   */
  replay?(topic: string, from: TopicPosition): ReplayBatch | undefined | Promise<ReplayBatch | undefined>;
  /**
   * Where `topic` stands now, for a stream that opens on it (a topic with no publication yet has
   * a position too: the backlog replays from it what comes next), or undefined when unknown.
   */
  position?(topic: string): TopicPosition | undefined | Promise<TopicPosition | undefined>;
}

/** Who a delivery is for: plain members, members that carry ids (`replayable`), or both. */
export const PLAIN = 1;
export const REPLAYABLE = 2;
export const EVERYONE = PLAIN | REPLAYABLE;

/**
 * One local member of a topic: an RxJS subscriber, or a stream's writer attached directly. Both
 * kinds carry every field, so the fan-out loop sees a single object shape. An attached writer
 * tells the member itself when it closes: no closure per open stream (bench: fanout).
 */
class Member implements SseCloseListener {
  /** Catching up from the backlog, or reading the position to announce: live publications wait here meanwhile. */
  pending: Publication[] | undefined = undefined;
  /**
   * Caught up to here: a live publication up to it was replayed already (with Redis, the live
   * copy may arrive after the backlog read). Cleared by the first newer one.
   */
  replayedTo: TopicPosition | undefined = undefined;

  constructor(
    readonly topics: LocalTopics,
    readonly topic: string,
    /** The publication sequence number when it joined: it gets only later publications. */
    readonly since: number,
    readonly subscriber: Subscriber<MessageEventLike> | undefined,
    readonly writer: SseWriter | undefined,
    readonly hooks: TopicWriterHooks | undefined,
    /** Gets `id:`s, and the deliveries meant for members that do (`REPLAYABLE`). */
    readonly audience: number,
  ) {}

  writerClosed(): void {
    this.topics.remove(this);
  }
}

interface Publication {
  readonly topic: string;
  readonly events: readonly MessageEventLike[];
  readonly sequence: number;
  /** Its place in the topic's backlog, when it has one: members that carry ids get it as `id:`s. */
  readonly position: TopicPosition | undefined;
  readonly audience: number;
  /** The events with their ids, and the encoded bytes of each form: made once, for every member. */
  identified?: readonly MessageEventLike[];
  bytes?: Buffer;
  identifiedBytes?: Buffer;
}

/**
 * The in-process half of every pub/sub adapter, and the one home of its topic state: who listens
 * to which topic here, the order publications go out in, and a returning stream's catch-up.
 *
 * Events arrive in publication order on every member of a topic, and all of them get the very
 * same event objects. An attached writer gets one buffer per publication, encoded once for all
 * of them: no subscriber chain, closure or copy per stream (bench: fanout). Members that feed a
 * stream (`replayable`) get each event with an `id:` naming its place in the topic's backlog;
 * one that comes back with `Last-Event-ID` first gets what it missed, then the live events, with
 * no gap and no duplicate at the seam (live ones wait while the backlog is read).
 */
export class LocalTopics {
  private readonly members = new Map<string, Set<Member>>();
  private readonly queue: Publication[] = [];
  private draining = false;
  private sequence = 0;
  private isClosed = false;

  /** `ids`: undefined when the adapter keeps no backlog (no ids, no replay). */
  constructor(
    private readonly lifecycle: TopicLifecycle,
    private readonly ids?: TopicIds,
  ) {}

  get closed(): boolean {
    return this.isClosed;
  }

  /** Local members of `topic`. */
  count(topic: string): number {
    return this.members.get(topic)?.size ?? 0;
  }

  /** Whether any local member of `topic` gets the deliveries meant for `audience`. */
  has(topic: string, audience: number): boolean {
    for (const member of this.members.get(topic) ?? []) if (member.audience & audience) return true;
    return false;
  }

  /** Adds an RxJS subscriber; the teardown removes every trace of it. */
  join(topic: string, subscriber: Subscriber<MessageEventLike>, resume?: TopicResume): TeardownLogic {
    // Shutting down: end at once rather than hold a stream nobody will ever feed.
    if (this.isClosed) return subscriber.complete();
    const member = this.member(topic, subscriber, undefined, undefined, resume);
    this.add(member, resume);
    return () => this.remove(member);
  }

  /** Writes the topic's publications straight to `writer` until it closes. */
  attach(topic: string, writer: SseWriter, hooks: TopicWriterHooks, resume?: TopicResume): void {
    if (writer.closed) return;
    if (this.isClosed) return hooks.end();
    const member = this.member(topic, undefined, writer, hooks, resume);
    this.add(member, resume);
    writer.addCloseListener(member);
  }

  /**
   * Hands `events` to the members of `topic` that `audience` names, synchronously. A member that
   * publishes while being called is queued behind the current publication instead of overtaking
   * it, so every member sees one global order.
   */
  deliver(topic: string, events: readonly MessageEventLike[], position?: TopicPosition, audience = EVERYONE): void {
    if (events.length === 0 || !this.members.has(topic)) return;
    this.queue.push({ topic, events, sequence: ++this.sequence, position, audience });
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

  /** @internal A member leaves: every trace of it goes. */
  remove(member: Member): void {
    const members = this.members.get(member.topic);
    // After close() the map was cleared: nothing to remove, nothing to tell the adapter.
    if (!members?.delete(member) || members.size) return;
    this.members.delete(member.topic);
    this.lifecycle.closed(member.topic);
  }

  private member(
    topic: string, subscriber: Subscriber<MessageEventLike> | undefined, writer: SseWriter | undefined,
    hooks: TopicWriterHooks | undefined, resume: TopicResume | undefined,
  ): Member {
    const audience = this.ids && resume?.replayable ? REPLAYABLE : PLAIN;
    return new Member(this, topic, this.sequence, subscriber, writer, hooks, audience);
  }

  private add(member: Member, resume: TopicResume | undefined): void {
    const topic = member.topic;
    let members = this.members.get(topic);
    if (!members) {
      members = new Set();
      this.members.set(topic, members);
      this.lifecycle.opened(topic);
    }
    members.add(member);
    if (member.audience !== REPLAYABLE) return;
    if (resume!.lastEventId !== undefined) this.catchUp(topic, member, members, resume!);
    else if (resume!.writer) this.announce(topic, member, members, resume!.writer);
  }

  /**
   * A fresh stream's first `id:`: the topic's position, in a block of its own (the client keeps it
   * as `Last-Event-ID` and dispatches nothing), so a stream cut before its first publication still
   * resumes. Written to the stream itself, not through the user's pipe (which may drop or map
   * what it does not know). Live publications wait while the adapter reads the position, so it
   * never goes out after a newer id.
   */
  private announce(topic: string, member: Member, members: Set<Member>, writer: SseWriter): void {
    const send = (position: TopicPosition | undefined) => {
      if (position !== undefined) writer.writeBytes(Buffer.from(`id: ${this.ids!.idOf(topic, position)}\n\n`));
    };
    let position: ReturnType<NonNullable<TopicLifecycle['position']>>;
    try {
      position = this.lifecycle.position?.(topic);
    } catch {
      return;
    }
    if (!(position instanceof Promise)) return send(position);
    member.pending = [];
    const finish = (read: TopicPosition | undefined) => {
      const pending = member.pending ?? [];
      member.pending = undefined;
      if (!members.has(member) || this.isClosed) return;
      send(read);
      for (const publication of pending) this.deliverTo(member, publication);
    };
    position.then(finish, () => finish(undefined));
  }

  /**
   * Sends what the member missed since its `Last-Event-ID`, then what arrived meanwhile and is
   * newer; or, when the backlog cannot say (gone, foreign or malformed id), the `onResync` events.
   */
  private catchUp(topic: string, member: Member, members: Set<Member>, resume: TopicResume): void {
    const from = this.ids!.parse(topic, resume.lastEventId!);
    member.pending = [];
    const finish = (batch: ReplayBatch | undefined) => {
      const pending = member.pending ?? [];
      member.pending = undefined;
      if (!members.has(member) || this.isClosed) return;
      // A batch cut short needs its own publication back to resume inside it.
      const usable = from && batch && (from.index === undefined || batch[0]?.position === from.position);
      let last = from?.position;
      if (usable) {
        for (const publication of batch) last = this.replayOne(topic, member, from, publication) ?? last;
      } else {
        this.resync(member, resume);
      }
      if (usable) member.replayedTo = last;
      for (const publication of pending) this.deliverTo(member, publication);
    };
    if (!from || !this.lifecycle.replay) return finish(undefined);
    let batch: ReturnType<NonNullable<TopicLifecycle['replay']>>;
    try {
      batch = this.lifecycle.replay(topic, from.position);
    } catch {
      return finish(undefined);
    }
    if (batch instanceof Promise) batch.then(finish, () => finish(undefined));
    else finish(batch);
  }

  /** Sends one publication of a replay, or what is left of it after `from`; returns its position. */
  private replayOne(
    topic: string, member: Member, from: ResumePoint, { position, events }: ReplayBatch[number],
  ): TopicPosition | undefined {
    const order = comparePositions(position, from.position);
    if (order < 0 || (order === 0 && from.index === undefined)) return undefined;
    const skip = order === 0 ? from.index! + 1 : 0;
    const identified = this.ids!.identify(topic, position, events).slice(skip);
    if (identified.length) this.write(member, identified, undefined);
    return position;
  }

  private resync(member: Member, resume: TopicResume): void {
    const events = resume.onResync?.();
    if (!events) return;
    const list = (Array.isArray(events) ? events : [events]) as readonly MessageEventLike[];
    if (list.length) this.write(member, list, undefined);
  }

  private fanOut(publication: Publication): void {
    const members = this.members.get(publication.topic);
    if (!members) return;
    for (const member of members) {
      if (member.since >= publication.sequence || !(member.audience & publication.audience)) continue;
      if (member.pending) member.pending.push(publication);
      else this.deliverTo(member, publication);
    }
  }

  private deliverTo(member: Member, publication: Publication): void {
    const replayedTo = member.replayedTo;
    if (replayedTo !== undefined && publication.position !== undefined) {
      if (comparePositions(publication.position, replayedTo) <= 0) return;
      member.replayedTo = undefined;
    }
    this.send(member, publication, publication.events);
  }

  /** A live publication: with ids for a member that carries them, when it has a position. */
  private send(member: Member, publication: Publication, events: readonly MessageEventLike[]): void {
    if (member.audience === REPLAYABLE && publication.position !== undefined) {
      publication.identified ??= this.ids!.identify(publication.topic, publication.position, events);
      if (member.writer) return this.write(member, undefined, (publication.identifiedBytes ??= encodeAll(publication.identified)));
      return this.write(member, publication.identified, undefined);
    }
    if (member.writer) return this.write(member, undefined, (publication.bytes ??= encodeAll(events)));
    this.write(member, events, undefined);
  }

  /** To a writer: `bytes` when given (shared by every writer), else `events` encoded. */
  private write(member: Member, events: readonly MessageEventLike[] | undefined, bytes: Buffer | undefined): void {
    const writer = member.writer;
    if (writer) {
      member.hooks!.beforeEach?.();
      writer.writeBytes(bytes ?? encodeAll(events!));
      return;
    }
    const subscriber = member.subscriber!;
    for (const event of events!) {
      if (subscriber.closed) break;
      subscriber.next(event);
    }
  }
}

function encodeAll(events: readonly MessageEventLike[]): Buffer {
  return events.length === 1 ? encodeOnce(events[0]) : Buffer.concat(events.map(encodeOnce));
}
