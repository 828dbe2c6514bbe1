import type { OnApplicationShutdown } from '@nestjs/common';
import type { Observable } from 'rxjs';
import { randomUUID } from 'node:crypto';
import { CONTROL_CHARS, DEFAULT_BACKLOG } from '../datastar.constants';
import type { MessageEventLike } from '../protocol/encoder';
import { EVERYONE, LocalTopics } from './local-topics';
import type { ReplayBatch, ResolvedBacklogOptions } from './topic-backlog';
import { TopicIds, type TopicPosition } from './topic-ids';
import { TopicObservable } from './topic-observable';
import type { TopicSubscribeOptions } from './topic-resume';

/** Longest accepted topic name, in UTF-16 code units. */
export const MAX_TOPIC_LENGTH = 256;

/** Throws a `TypeError` that says how to fix `topic` unless it is a usable topic name. */
export function assertTopic(topic: unknown): asserts topic is string {
  if (typeof topic !== 'string' || topic.length === 0) {
    throw new TypeError(`Pub/sub topic must be a non-empty string, got ${describe(topic)}.`);
  }
  if (topic.length > MAX_TOPIC_LENGTH) {
    throw new TypeError(
      `Pub/sub topic "${topic.slice(0, 32)}..." is ${topic.length} characters long; ` +
        `use at most ${MAX_TOPIC_LENGTH} (hash long identifiers into the name).`,
    );
  }
  if (CONTROL_CHARS.test(topic)) {
    throw new TypeError(
      `Pub/sub topic ${JSON.stringify(topic)} contains a control character; ` +
        'use printable characters only (e.g. "chat:room-1").',
    );
  }
}

/** Validates `publish()` arguments and returns the events as a list, never copying an event. */
export function toEventList(
  topic: unknown,
  events: MessageEventLike | readonly MessageEventLike[],
): readonly MessageEventLike[] {
  assertTopic(topic);
  const list: readonly unknown[] = Array.isArray(events) ? events : [events];
  for (const event of list) {
    if (event === null || typeof event !== 'object' || Array.isArray(event)) {
      throw new TypeError(
        `Cannot publish ${describe(event)} to "${topic}": publish MessageEvent objects ` +
          "such as patchElements('<div id=\"x\"></div>'), or an array of them.",
      );
    }
  }
  return list as readonly MessageEventLike[];
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.slice(0, 32));
  return value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value;
}

/**
 * Topic-based fan-out of Datastar events to streams; the Nest DI token for whichever adapter the
 * app uses (in-memory by default, Redis to span processes).
 *
 * The in-process half (`LocalTopics`) is shared so every adapter keeps the same promises: events
 * arrive in publication order on every subscriber of a topic, and all local subscribers get the
 * very same event objects, so a writer can cache encoded bytes per object and encode once for
 * thousands of streams. Treat published events as immutable for that reason.
 */
export abstract class DatastarPubSub implements OnApplicationShutdown {
  private readonly topics: LocalTopics;

  /**
   * `backlog`: what each topic keeps for streams that come back with `Last-Event-ID` (false: no
   * backlog, events carry no ids). `namespace` tells this backlog's ids from any other's.
   */
  constructor(
    protected readonly backlog: ResolvedBacklogOptions | false = DEFAULT_BACKLOG,
    namespace: string = randomUUID(),
  ) {
    this.topics = new LocalTopics(
      {
        opened: (topic) => this.topicOpened(topic),
        closed: (topic) => this.topicClosed(topic),
        replay: (topic, from) => this.replay(topic, from),
        position: (topic) => this.position(topic),
      },
      backlog ? new TopicIds(namespace) : undefined,
    );
  }

  /**
   * Sends events to every subscriber of `topic` (in this process before the promise is returned,
   * and in others when the adapter spans processes). Rejects only for invalid arguments.
   * @example await pubsub.publish('chat', patchElements('<li>hi</li>', { selector: '#messages', mode: 'append' }))
   */
  abstract publish(topic: string, events: MessageEventLike | readonly MessageEventLike[]): Promise<void>;

  /** Completes every subscription and releases connections; safe to call more than once. */
  abstract close(): Promise<void>;

  /**
   * The events published on `topic` from now on; unsubscribing removes every trace of it.
   * Returned as is from an `@OnEvent()` handler, the stream is written straight from the topic.
   * Feeding a stream (returned, or merged into what a handler returns), each event carries an
   * `id:` and a stream that reconnects with `Last-Event-ID` first gets what it missed, in order,
   * exactly once; `options.onResync` says what to send when the backlog no longer reaches back.
   * @example return merge(tabEvents$, pubsub.subscribe('chat', { onResync: () => renderAll() }))
   */
  subscribe(topic: string, options?: TopicSubscribeOptions): Observable<MessageEventLike> {
    assertTopic(topic);
    return new TopicObservable(this.topics, topic, options);
  }

  /**
   * Messages from other processes refused since start: unsigned, forged or replayed ones (0 for an
   * adapter that does not cross processes). A counter for metrics and alerts.
   */
  get rejectedCount(): number {
    return 0;
  }

  /** How many subscriptions `topic` has in this process (a gauge for metrics). */
  subscriberCount(topic: string): number {
    return this.topics.count(topic);
  }

  /** Nest calls this after `beforeApplicationShutdown`, when streams are already completed. */
  onApplicationShutdown(): Promise<void> {
    return this.close();
  }

  protected get closed(): boolean {
    return this.topics.closed;
  }

  /** The adapter's hook: the first local subscriber of `topic` arrived. */
  protected topicOpened(_topic: string): void {}

  /** The adapter's hook: the last local subscriber of `topic` left. */
  protected topicClosed(_topic: string): void {}

  /**
   * The adapter's backlog: publications of `topic` from `from` on (`from` itself when still kept),
   * or undefined when it no longer reaches back that far (the stream is resynced).
   */
  protected replay(_topic: string, _from: TopicPosition): ReplayBatch | undefined | Promise<ReplayBatch | undefined> {
    return undefined;
  }

  /**
   * The adapter's backlog: where `topic` stands now, sent as the first `id:` of a stream that opens
   * without `Last-Event-ID` (undefined: none). A topic with no publication yet needs one too, from
   * which the backlog replays everything it gets next.
   */
  protected position(_topic: string): TopicPosition | undefined | Promise<TopicPosition | undefined> {
    return undefined;
  }

  /**
   * Hands `events` to this process's subscribers of `topic`, synchronously, in one global order;
   * `position`: the publication's place in the backlog; `audience`: `PLAIN`, `REPLAYABLE` or both.
   */
  protected deliver(topic: string, events: readonly MessageEventLike[], position?: TopicPosition, audience = EVERYONE): void {
    this.topics.deliver(topic, events, position, audience);
  }

  /** Whether this process has members of `topic` that `audience` names. */
  protected hasMembers(topic: string, audience: number): boolean {
    return this.topics.has(topic, audience);
  }

  /** Completes every local subscription and refuses new ones; for `close()`. */
  protected completeAll(): void {
    this.topics.close();
  }
}
