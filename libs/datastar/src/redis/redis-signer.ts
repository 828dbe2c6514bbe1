import type { Logger } from '@nestjs/common';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { REDIS_MESSAGES_REJECTED, REDIS_SECRET_REQUIRED, REDIS_SECRET_TOO_SHORT } from '../datastar.messages';

/** Shortest accepted `pubsub.redis.secret`. */
export const MIN_REDIS_SECRET_LENGTH = 32;
/**
 * A message older (or further in the future) than this is refused: Redis pub/sub delivers in
 * milliseconds, so an old one is a replay. Allows for modest clock skew between hosts.
 */
export const MAX_MESSAGE_AGE_MS = 60_000;
const REJECT_LOG_INTERVAL = 10_000;
const MAC_LENGTH = 43; // base64url of 32 bytes

/**
 * Signs what this library publishes to Redis and checks what it receives, so a client that can
 * PUBLISH on our channels (but does not know the app's secret) reaches no stream. A message is
 * `<mac>.<time> <body>`, the MAC (HMAC-SHA256) covering the channel, the time and the body: a
 * signed message cannot be moved to another channel, nor replayed after `MAX_MESSAGE_AGE_MS`.
 * Refused messages are counted and logged at most every 10 s.
 */
export class RedisSigner {
  /** Messages refused since this instance started (bad or missing signature, too old). */
  rejected = 0;
  private rejectedUnlogged = 0;
  private lastRejectLog = 0;
  private readonly key: Buffer;

  constructor(secret: unknown, private readonly logger: Logger) {
    if (typeof secret !== 'string' || secret === '') throw new Error(REDIS_SECRET_REQUIRED);
    if (secret.length < MIN_REDIS_SECRET_LENGTH) throw new Error(REDIS_SECRET_TOO_SHORT(secret.length));
    this.key = Buffer.from(secret, 'utf8');
  }

  sign(channel: string, body: string, now = Date.now()): string {
    const time = now.toString(36);
    return `${this.mac(channel, time, body)}.${time} ${body}`;
  }

  /** The body of a correctly signed, fresh message; otherwise undefined (counted and logged). */
  verify(channel: string, message: string, now = Date.now()): string | undefined {
    const space = message.indexOf(' ');
    const dot = message.indexOf('.');
    if (space !== -1 && dot === MAC_LENGTH && dot < space) {
      const time = message.slice(dot + 1, space);
      const body = message.slice(space + 1);
      const sent = Buffer.from(message.slice(0, dot));
      const expected = Buffer.from(this.mac(channel, time, body));
      const at = parseInt(time, 36);
      if (
        sent.length === expected.length && timingSafeEqual(sent, expected) &&
        Number.isSafeInteger(at) && Math.abs(now - at) <= MAX_MESSAGE_AGE_MS
      ) {
        return body;
      }
    }
    this.reject(channel);
    return undefined;
  }

  /** Counts (and logs) a message refused for a reason the signature cannot see. */
  refuse(channel: string): void {
    this.reject(channel);
  }

  private mac(channel: string, time: string, body: string): string {
    return createHmac('sha256', this.key).update(`${channel}\n${time}\n`).update(body).digest('base64url');
  }

  private reject(channel: string): void {
    this.rejected++;
    this.rejectedUnlogged++;
    const now = Date.now();
    // A flood of forged messages must not become a flood of log lines.
    if (now - this.lastRejectLog >= REJECT_LOG_INTERVAL) {
      this.logger.warn(REDIS_MESSAGES_REJECTED(this.rejectedUnlogged, channel));
      this.lastRejectLog = now;
      this.rejectedUnlogged = 0;
    }
  }
}
