/** Live sessions in Redis: any process of the app can take a session back. */
import { Logger } from '@nestjs/common';
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { LiveSessionStore } from '../interfaces/datastar-live-options.interface';
import { DEFAULT_REDIS_KEY_PREFIX, RedisConnectionPair, type RedisConnectionOptions } from '../redis/redis-connection';

/** How long a read waits for the connection at boot (a restarted process reconnects in milliseconds). */
const READY_WAIT_MS = 2_000;
const MAC_LENGTH = 43; // base64url of 32 bytes
/** Domain separation: a MAC of this store cannot be taken for another use of the secret. */
const CONTEXT = 'nestjs-datastar live session\n';

/**
 * `SET <prefix>live:session:<id> <mac>.<value> PX <ttl>`. Values are signed with
 * `pubsub.redis.secret` (HMAC-SHA256 over the key and the value), so a client that can write
 * to Redis but lacks the secret cannot hand a process a session state of its making.
 * While Redis is unreachable sessions are neither saved nor resumed (logged); they go on in memory.
 */
export class RedisSessionStore implements LiveSessionStore {
  private readonly redis: RedisConnectionPair;
  private readonly prefix: string;
  private readonly key: Buffer;

  constructor(options: RedisConnectionOptions) {
    this.redis = new RedisConnectionPair(options, {
      logger: new Logger('DatastarLive'),
      name: 'datastar-live',
      impact: {
        publisher: 'live sessions are not saved (a restart loses their changes) nor resumed',
        subscriber: 'nothing is lost (this connection is not used yet)',
      },
      onMessage: () => undefined,
    });
    this.prefix = `${options.keyPrefix ?? DEFAULT_REDIS_KEY_PREFIX}live:session:`;
    this.key = Buffer.from(options.secret!, 'utf8'); // checked by the pair's signer
  }

  async get(id: string): Promise<string | undefined> {
    await this.ready();
    const key = this.prefix + id;
    const signed = await this.redis.command((redis) => redis.get(key));
    if (typeof signed !== 'string' || signed.charAt(MAC_LENGTH) !== '.') return undefined;
    const value = signed.slice(MAC_LENGTH + 1);
    const given = Buffer.from(signed.slice(0, MAC_LENGTH));
    const expected = Buffer.from(this.mac(key, value));
    return given.length === expected.length && timingSafeEqual(given, expected) ? value : undefined;
  }

  async set(id: string, value: string, ttlMs: number): Promise<void> {
    const key = this.prefix + id;
    await this.redis.command((redis) => redis.set(key, `${this.mac(key, value)}.${value}`, 'PX', Math.ceil(ttlMs)));
  }

  async delete(id: string): Promise<void> {
    await this.redis.command((redis) => redis.del(this.prefix + id));
  }

  close(): Promise<void> {
    return this.redis.close();
  }

  private mac(key: string, value: string): string {
    return createHmac('sha256', this.key).update(CONTEXT).update(key).update('\n').update(value).digest('base64url');
  }

  /** Waits (briefly) for a connection that is still opening: a page reconnecting right after a restart. */
  private async ready(): Promise<void> {
    const client = this.redis.publisher;
    if (client.status === 'ready' || client.status === 'end') return;
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        client.off('ready', done);
        resolve();
      };
      const timer = setTimeout(done, READY_WAIT_MS);
      client.once('ready', done);
    });
  }
}
