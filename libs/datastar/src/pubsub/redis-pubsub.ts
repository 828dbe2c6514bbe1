import { Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { MessageEventLike } from '../protocol/encoder';
import { parseJsonSafely } from '../protocol/safe-json';
import {
  DEFAULT_REDIS_KEY_PREFIX, RedisConnectionPair, type RedisConnectionOptions,
} from '../redis/redis-connection';
import { DatastarPubSub, toEventList } from './datastar-pubsub';

/**
 * Fans events out through Redis pub/sub so streams held by other processes get them too.
 *
 * - This process's subscribers get its own publications at once, like `MemoryPubSub`; the copy
 *   Redis echoes back carries our per-instance origin id and is skipped unparsed.
 * - Every message is signed with `secret` (see `RedisSigner`); one from another process is checked,
 *   then JSON-parsed once and the same objects go to every local subscriber. A message that fails
 *   the check (anyone else who can PUBLISH on our channels) is dropped and counted.
 * - Redis down: publish() still reaches local subscribers and resolves; the broadcast to other
 *   processes is DROPPED (not buffered: Redis pub/sub is at-most-once anyway, and a buffer would
 *   replay stale UI patches after the outage). Drops are logged and counted. Subscriptions are
 *   restored when the connection is back.
 */
export class RedisPubSub extends DatastarPubSub {
  private readonly logger = new Logger('DatastarPubSub');
  private readonly origin = randomUUID();
  private readonly channelPrefix: string;
  private readonly redis: RedisConnectionPair;

  constructor(options: RedisConnectionOptions = {}) {
    super();
    this.channelPrefix = `${options.keyPrefix ?? DEFAULT_REDIS_KEY_PREFIX}topic:`;
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
    this.deliver(topic, list);
    await this.redis.command((publisher) => publisher.publish(channel, payload));
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
  }

  private receive(channel: string, message: string): void {
    if (!channel.startsWith(this.channelPrefix)) return;
    // Our own publication echoed back: its subscribers here got it at once.
    if (message.startsWith(`${this.origin} `, message.indexOf(' ') + 1)) return;
    const body = this.redis.signer.verify(channel, message);
    if (body === undefined) return;
    const topic = channel.slice(this.channelPrefix.length);
    // Everyone left between SUBSCRIBE and this message: not worth a parse.
    if (this.subscriberCount(topic) === 0) return;
    const events = parseEvents(body);
    if (events) return this.deliver(topic, events);
    this.logger.warn(
      `Ignored a malformed message on Redis channel "${channel}": is another program ` +
        'publishing there? Give this app its own keyPrefix.',
    );
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
