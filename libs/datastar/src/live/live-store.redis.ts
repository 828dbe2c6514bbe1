/** Live sessions in Redis: any process of the app can take a session back. */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { LiveSessionStore } from '../interfaces/datastar-live-options.interface';
import { DEFAULT_REDIS_KEY_PREFIX, type RedisConnectionOptions, type RedisConnectionPair } from '../redis/redis-connection';
import { whenReady } from './live-cluster';

const MAC_LENGTH = 43; // base64url of 32 bytes
/** Domain separation: a MAC of this store cannot be taken for another use of the secret. */
const CONTEXT = 'nestjs-datastar live session\n';

/**
 * `SET <prefix>live:session:<id> <mac>.<value> PX <ttl>`. Values are signed with
 * `pubsub.redis.secret` (HMAC-SHA256 over the key and the value), so a client that can write
 * to Redis but lacks the secret cannot hand a process a session state of its making.
 * While Redis is unreachable sessions are neither saved nor resumed (logged); they go on in memory.
 * No count cap (`maxStoredSessions` is the embedded store's): every key expires with its TTL, and
 * Redis's `maxmemory` bounds the rest; counting keys would cost a round trip per save.
 */
export class RedisSessionStore implements LiveSessionStore {
  private readonly prefix: string;
  private readonly key: Buffer;

  /** `redis`: the connections of `LiveCluster`, which opens and closes them. */
  constructor(private readonly redis: RedisConnectionPair, options: RedisConnectionOptions) {
    this.prefix = `${options.keyPrefix ?? DEFAULT_REDIS_KEY_PREFIX}live:session:`;
    this.key = Buffer.from(options.secret!, 'utf8'); // checked by the pair's signer
  }

  async get(id: string): Promise<string | undefined> {
    await whenReady(this.redis.publisher);
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

  private mac(key: string, value: string): string {
    return createHmac('sha256', this.key).update(CONTEXT).update(key).update('\n').update(value).digest('base64url');
  }
}
