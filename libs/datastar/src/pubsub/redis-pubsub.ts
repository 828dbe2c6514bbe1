import { Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DEFAULT_BACKLOG } from '../datastar.constants';
import type { MessageEventLike } from '../protocol/encoder';
import { parseJsonSafely } from '../protocol/safe-json';
import {
  DEFAULT_REDIS_KEY_PREFIX, RedisConnectionPair, type RedisConnectionOptions,
} from '../redis/redis-connection';
import { MAX_MESSAGE_AGE_MS } from '../redis/redis-signer';
import { DatastarPubSub, toEventList } from './datastar-pubsub';
import { PLAIN, REPLAYABLE } from './local-topics';
import type { ReplayBatch, ResolvedBacklogOptions } from './topic-backlog';
import { comparePositions, type TopicPosition } from './topic-ids';

/**
 * One round trip, atomic: the publication joins the topic's Redis Stream (trimmed to about
 * ARGV[1] entries, expiring after ARGV[2] ms of silence) and goes out on the channel with the id
 * the stream gave it, so the channel's order is the stream's order.
 */
const PUBLISH_SCRIPT = `
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'm', ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('PUBLISH', ARGV[3], id .. ' ' .. ARGV[4])
return id`;

/**
 * Where a topic's Redis Stream stands, for a stream opening on it: its last entry's id. A topic
 * with none gets an anchor entry (field `a`, no publication) so that "nothing yet" is a position
 * like any other: a replay from it must find it, so a trim or an expiry since is a resync. The
 * anchor lives ANCHOR_TTL_MS (a publication extends it): topics named after client input cannot
 * pile keys up for `maxAgeMs`.
 */
const POSITION_SCRIPT = `
local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)[1]
if last then return last[1] end
local id = redis.call('XADD', KEYS[1], '*', 'a', '')
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return id`;

/** An anchor's life: the client's retries span about this long; a stream back later with it resyncs. */
const ANCHOR_TTL_MS = 5 * 60_000;
const STREAM_ID = /^\d{1,16}-\d{1,16}$/;
/** How long a replay waits for the topic's subscription, so nothing falls between the backlog and the live events. */
const LISTEN_TIMEOUT_MS = 2000;
/** Pages of a replay read at most (each `maxEvents` long): past it the stream is resynced. */
const MAX_REPLAY_PAGES = 10;
/** Own publications kept per topic while their echo is on its way (a bound: echoes normally take milliseconds). */
const MAX_AWAITING_ECHO = 1000;
/** How long an own publication waits for its echo before local streams get it anyway. */
const ECHO_WAIT_MS = 2000;

/**
 * Fans events out through Redis pub/sub so streams held by other processes get them too.
 *
 * - This process's plain subscribers get its own publications at once, like `MemoryPubSub`; the
 *   copy Redis echoes back carries our per-instance origin id and is not given to them again.
 * - Every message is signed with `secret` (see `RedisSigner`); one from another process is checked,
 *   then JSON-parsed once and the same objects go to every local subscriber. A message that fails
 *   the check (anyone else who can PUBLISH on our channels) is dropped and counted.
 * - Replay (`backlog`, on by default): each publication is also added to the topic's Redis Stream
 *   (XADD, trimmed with MAXLEN ~, expiring when the topic is silent), in the same script that
 *   publishes it with its stream id. Streams (members that carry ids) get every publication, this
 *   process's too, in the stream's order, with the stream id as `id:`; a stream that reconnects
 *   with `Last-Event-ID`, on any process, reads what it missed with XRANGE once the topic's
 *   subscription is confirmed, so the seam has no gap (live ones wait) and no duplicate (compared
 *   by id); a fresh stream's first id is the stream's last entry, read once subscribed (see
 *   POSITION_SCRIPT). A stored entry is checked like a message, its signed time against its stream id: an old
 *   entry copied to the stream again is refused.
 * - Redis down: publish() still reaches local subscribers and resolves; the broadcast to other
 *   processes is DROPPED (not buffered: a buffer would replay stale UI patches after the outage),
 *   and local streams get it without an id. Drops are logged and counted. Subscriptions are
 *   restored when the connection is back.
 */
export class RedisPubSub extends DatastarPubSub {
  private readonly logger = new Logger('DatastarPubSub');
  private readonly origin = randomUUID();
  private readonly channelPrefix: string;
  private readonly streamPrefix: string;
  private readonly redis: RedisConnectionPair;
  /** Per topic with local members: the newest position its streams got. */
  private readonly delivered = new Map<string, TopicPosition>();
  /**
   * Our own publications stored in Redis whose echo has not come back yet. When Redis goes down
   * with one in flight its echo never comes: the next publish that finds Redis gone hands these
   * to local streams first, so they lose nothing and keep their order.
   */
  private readonly awaitingEcho = new Map<string, { id: TopicPosition; list: readonly MessageEventLike[]; at: number }[]>();
  private readonly echoWatched = new Set<string>();
  /** Per topic: the handling of the latest publish's reply, so replies are handled in publish order. */
  private readonly tails = new Map<string, Promise<void>>();

  constructor(options: RedisConnectionOptions = {}, backlog: ResolvedBacklogOptions | false = DEFAULT_BACKLOG) {
    const keyPrefix = options.keyPrefix ?? DEFAULT_REDIS_KEY_PREFIX;
    // Every process of the app shares the namespace, so any of them can resume any stream.
    super(backlog, keyPrefix);
    this.channelPrefix = `${keyPrefix}topic:`;
    this.streamPrefix = `${keyPrefix}backlog:`;
    this.redis = new RedisConnectionPair(options, {
      logger: this.logger,
      name: 'datastar-pubsub',
      impact: {
        publisher: 'broadcasts reach this process only (local subscribers still get them)',
        subscriber: 'messages from other processes are missed',
      },
      onMessage: (channel, message) => this.receive(channel, message),
    });
  }

  /** Broadcasts not sent to Redis because it was unavailable, since this instance started. */
  get droppedCount(): number {
    return this.redis.dropped;
  }

  override get rejectedCount(): number {
    return this.redis.signer.rejected;
  }

  override async publish(
    topic: string,
    events: MessageEventLike | readonly MessageEventLike[],
  ): Promise<void> {
    const list = toEventList(topic, events);
    if (this.closed || list.length === 0) return;
    // Serialise first: an event that cannot cross processes reaches nobody, not half the app.
    const channel = this.channelPrefix + topic;
    const payload = this.redis.signer.sign(channel, `${this.origin} ${serialise(topic, list)}`);
    const backlog = this.backlog;
    if (!backlog) {
      this.deliver(topic, list);
      await this.redis.command((publisher) => publisher.publish(channel, payload));
      return;
    }
    this.deliver(topic, list, undefined, PLAIN);
    // About maxBytes: as many entries of this size as fit, within maxEvents.
    const keep = Math.max(1, Math.min(backlog.maxEvents, Math.floor(backlog.maxBytes / Buffer.byteLength(payload))));
    // Sent at once (commands stay pipelined); the replies are handled in publish order, so local
    // streams get a failed publish (Redis went down) after the ones before it, never before.
    const reply = this.redis.command((publisher) =>
      publisher.eval(PUBLISH_SCRIPT, 1, this.streamPrefix + topic, keep, backlog.maxAgeMs, channel, payload));
    const previous = this.tails.get(topic);
    const handled = (previous ? previous.then(() => reply) : reply).then((id) => this.stored(topic, channel, list, id));
    this.tails.set(topic, handled);
    await handled;
    if (this.tails.get(topic) === handled) this.tails.delete(topic);
  }

  /** After a publish's reply: its id, or undefined when Redis could not take it. */
  private stored(topic: string, channel: string, list: readonly MessageEventLike[], id: unknown): void {
    // Redis unavailable: local streams get it live, without an id (it cannot be replayed).
    if (id === undefined) {
      this.flushAwaitingEcho(topic);
      return this.deliver(topic, list, undefined, REPLAYABLE);
    }
    // Listening: the echo brings it, in the stream's order. Not yet: nothing from others can overtake it.
    if (!this.redis.isListening(channel)) return this.deliverInOrder(topic, list, String(id));
    if (!this.hasMembers(topic, REPLAYABLE)) return;
    const awaiting = this.awaitingEcho.get(topic) ?? [];
    if (awaiting.length >= MAX_AWAITING_ECHO) awaiting.shift();
    awaiting.push({ id: String(id), list, at: Date.now() });
    this.awaitingEcho.set(topic, awaiting);
    this.watchEcho(topic);
  }

  /** An echo lost with a dying subscriber, and no later publish to notice: deliver it anyway (one timer per topic). */
  private watchEcho(topic: string): void {
    if (this.echoWatched.has(topic)) return;
    this.echoWatched.add(topic);
    setTimeout(() => {
      this.echoWatched.delete(topic);
      this.flushAwaitingEcho(topic, Date.now() - ECHO_WAIT_MS);
      if (this.awaitingEcho.get(topic)?.length) this.watchEcho(topic);
    }, ECHO_WAIT_MS).unref();
  }

  /** Hands local streams the own publications still waiting for their echo (those stored before `until`). */
  private flushAwaitingEcho(topic: string, until = Infinity): void {
    const awaiting = this.awaitingEcho.get(topic);
    if (!awaiting) return;
    while (awaiting.length && awaiting[0].at <= until) {
      const { id, list } = awaiting.shift()!;
      this.deliverInOrder(topic, list, id);
    }
    if (awaiting.length === 0 && this.awaitingEcho.get(topic) === awaiting) this.awaitingEcho.delete(topic);
  }

  override async close(): Promise<void> {
    this.completeAll();
    await this.redis.close();
  }

  protected override topicOpened(topic: string): void {
    this.redis.listen(this.channelPrefix + topic);
  }

  protected override topicClosed(topic: string): void {
    this.redis.unlisten(this.channelPrefix + topic);
    this.delivered.delete(topic);
    this.awaitingEcho.delete(topic);
  }

  protected override async replay(topic: string, from: TopicPosition): Promise<ReplayBatch | undefined> {
    const backlog = this.backlog;
    if (!backlog || !STREAM_ID.test(from)) return undefined;
    const channel = this.channelPrefix + topic;
    await this.redis.whenListening(channel, LISTEN_TIMEOUT_MS);
    const batch: Array<ReplayBatch[number]> = [];
    let start = from;
    for (let page = 0; page < MAX_REPLAY_PAGES; page++) {
      const entries = await this.redis.command((publisher) =>
        publisher.xrange(this.streamPrefix + topic, start, '+', 'COUNT', backlog.maxEvents));
      if (entries === undefined) return undefined;
      // The first page must start at `from` itself: otherwise what followed it was trimmed away.
      if (page === 0 && entries[0]?.[0] !== from) return undefined;
      for (const [id, fields] of entries) {
        if (fields[0] === 'a' && fields.length === 2 && fields[1] === '') continue; // an anchor: nothing to send
        const events = this.open(channel, id, fields[1] ?? '', false);
        if (!events) return undefined;
        batch.push({ position: id, events: events.list });
      }
      if (entries.length < backlog.maxEvents) return batch;
      start = `(${entries[entries.length - 1][0]}`;
    }
    return undefined;
  }

  /** Read once the topic's subscription is confirmed: whatever is published after the read comes live. */
  protected override async position(topic: string): Promise<TopicPosition | undefined> {
    const backlog = this.backlog;
    if (!backlog) return undefined;
    await this.redis.whenListening(this.channelPrefix + topic, LISTEN_TIMEOUT_MS);
    const id = await this.redis.command((publisher) =>
      publisher.eval(POSITION_SCRIPT, 1, this.streamPrefix + topic, Math.min(backlog.maxAgeMs, ANCHOR_TTL_MS)));
    return typeof id === 'string' && STREAM_ID.test(id) ? id : undefined;
  }

  private receive(channel: string, message: string): void {
    if (!channel.startsWith(this.channelPrefix)) return;
    const topic = channel.slice(this.channelPrefix.length);
    if (!this.backlog) return this.receivePlain(channel, topic, message);
    const space = message.indexOf(' ');
    const id = message.slice(0, space);
    // Everyone left between SUBSCRIBE and this message: not worth a check or a parse.
    if (this.subscriberCount(topic) === 0) return;
    const opened = this.open(channel, id, message.slice(space + 1), true);
    if (!opened) return;
    // Our own publication: plain subscribers here had it at once.
    if (!opened.own) this.deliver(topic, opened.list, undefined, PLAIN);
    this.deliverInOrder(topic, opened.list, id);
  }

  /** Without a backlog: messages are `<signed payload>` as published. */
  private receivePlain(channel: string, topic: string, message: string): void {
    // Our own publication echoed back: its subscribers here got it at once.
    if (message.startsWith(`${this.origin} `, message.indexOf(' ') + 1)) return;
    const body = this.redis.signer.verify(channel, message);
    if (body === undefined || this.subscriberCount(topic) === 0) return;
    const events = parseEvents(body);
    if (events) return this.deliver(topic, events);
    this.malformed(channel);
  }

  /**
   * A stored or echoed publication, checked: a valid signature whose time matches the stream id
   * (a copy added again later gets a newer id), and for a live one (`fresh`), a recent id.
   */
  private open(channel: string, id: string, payload: string, fresh: boolean): { list: MessageEventLike[]; own: boolean } | undefined {
    const at = Number(id.slice(0, id.indexOf('-')));
    const signer = this.redis.signer;
    if (!STREAM_ID.test(id) || (fresh && Math.abs(Date.now() - at) > MAX_MESSAGE_AGE_MS)) {
      signer.refuse(channel);
      return undefined;
    }
    const body = signer.verify(channel, payload, at);
    if (body === undefined) return undefined;
    const list = parseEvents(body);
    if (!list) return this.malformed(channel);
    return { list, own: body.startsWith(`${this.origin} `) };
  }

  /** Streams get a topic's publications once each, in the stream's order (echo or reply, whichever came first). */
  private deliverInOrder(topic: string, events: readonly MessageEventLike[], id: TopicPosition): void {
    const last = this.delivered.get(topic);
    if (last !== undefined && comparePositions(id, last) <= 0) return;
    if (!this.hasMembers(topic, REPLAYABLE)) return;
    this.delivered.set(topic, id);
    this.deliver(topic, events, id, REPLAYABLE);
    const awaiting = this.awaitingEcho.get(topic);
    if (awaiting) {
      while (awaiting.length && comparePositions(awaiting[0].id, id) <= 0) awaiting.shift();
      if (awaiting.length === 0) this.awaitingEcho.delete(topic);
    }
  }

  private malformed(channel: string): undefined {
    this.logger.warn(
      `Ignored a malformed message on Redis channel "${channel}": is another program ` +
        'publishing there? Give this app its own keyPrefix.',
    );
    return undefined;
  }
}

function serialise(topic: string, events: readonly MessageEventLike[]): string {
  try {
    return JSON.stringify(events);
  } catch (error) {
    throw new TypeError(
      `Cannot publish to "${topic}" through Redis: the events are not JSON-serialisable ` +
        `(${(error as Error).message}); publish plain strings and objects only.`,
    );
  }
}

function parseEvents(message: string): MessageEventLike[] | undefined {
  try {
    const parsed = parseJsonSafely(message.slice(message.indexOf(' ') + 1));
    if (!Array.isArray(parsed)) return undefined;
    for (const event of parsed) {
      if (event === null || typeof event !== 'object' || Array.isArray(event)) return undefined;
    }
    return parsed as MessageEventLike[];
  } catch {
    return undefined;
  }
}
