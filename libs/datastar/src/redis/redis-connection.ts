import type { Logger } from '@nestjs/common';
import type { Redis, RedisOptions } from 'ioredis';
import { RedisSigner } from './redis-signer';

/** Prepended to every Redis channel and key this library uses, unless `keyPrefix` says otherwise. */
export const DEFAULT_REDIS_KEY_PREFIX = 'datastar:';

/** How to reach Redis: a URL and/or ioredis options, or two clients of your own. */
export interface RedisConnectionOptions {
  /** e.g. `redis://:password@127.0.0.1:6379/0`. */
  url?: string;
  /** ioredis options for both connections; ours (see `CONNECTION_DEFAULTS`) fill the gaps. */
  options?: RedisOptions;
  /** Prefix of our channels and keys (default `datastar:`), so several apps can share a Redis. */
  keyPrefix?: string;
  /**
   * Required: the key (at least 32 characters, the same in every process) that signs every message
   * we publish (HMAC-SHA256); messages without a valid, fresh signature are dropped and counted.
   */
  secret?: string;
  /** Your own clients (both or neither): used as they are, and never quit by `close()`. */
  publisher?: Redis;
  subscriber?: Redis;
}

type Role = 'publisher' | 'subscriber';

interface PairConfig {
  logger: Logger;
  /** Sent as CLIENT SETNAME, so `CLIENT LIST` shows who holds the connection. */
  name: string;
  /** What the app loses while a connection is down, for the logs. */
  impact: Record<Role, string>;
  onMessage(channel: string, message: string): void;
}

/**
 * Defaults for connections we create. The aim: nothing waits on a dead connection, and our own
 * channel set (not ioredis' memory of it) decides what gets resubscribed.
 */
const CONNECTION_DEFAULTS: RedisOptions = {
  // No offline queue: while disconnected a command fails at once instead of piling up.
  enableOfflineQueue: false,
  // Commands in flight when the connection drops fail at once rather than after 20 retries...
  maxRetriesPerRequest: 0,
  // ...and are not replayed later (a late UI patch is worse than a missed one).
  autoResendUnfulfilledCommands: false,
  autoResubscribe: false,
  // A Redis that accepts connections but never answers must not hold publish() for ever.
  commandTimeout: 5000,
};

const QUIT_TIMEOUT = 1000;
const DROP_LOG_INTERVAL = 10_000;

/**
 * The publisher and subscriber connections an adapter needs, with the chores they share: logging
 * outages once, resubscribing after reconnects, dropping commands while down, and closing.
 * Used by `RedisPubSub` and `RedisTabClaims`; not part of the public API.
 */
export class RedisConnectionPair {
  readonly publisher: Redis;
  readonly subscriber: Redis;
  /** Commands not sent (or failed) because Redis was unavailable. */
  dropped = 0;
  /** Signs what we publish and checks what we receive. */
  readonly signer: RedisSigner;
  private readonly owned: boolean;
  private readonly channels = new Set<string>();
  /** Channels Redis confirmed we are subscribed to, and who waits for a confirmation. */
  private readonly active = new Set<string>();
  private readonly waiting = new Map<string, Array<() => void>>();
  private readonly detachers: Array<() => void> = [];
  private closing = false;
  private droppedUnlogged = 0;
  private lastDropLog = 0;

  constructor(options: RedisConnectionOptions, private readonly config: PairConfig) {
    // Before any connection: a missing secret fails the boot, with what to set.
    this.signer = new RedisSigner(options.secret, config.logger);
    if (!options.publisher !== !options.subscriber) {
      throw new TypeError(
        'Pass both `publisher` and `subscriber` Redis clients (a subscriber connection cannot ' +
          'publish), or neither and a `url`/`options` to let us create them.',
      );
    }
    this.owned = !options.publisher;
    if (options.publisher && options.subscriber) {
      if (options.publisher === options.subscriber) {
        throw new TypeError(
          'The `publisher` and `subscriber` Redis clients must be two connections: use ' +
            'client.duplicate() for the subscriber.',
        );
      }
      this.publisher = options.publisher;
      this.subscriber = options.subscriber;
    } else {
      this.publisher = createClient(options, `${config.name}-pub`);
      this.subscriber = createClient(options, `${config.name}-sub`);
    }
    this.watch(this.publisher, 'publisher', () => undefined);
    this.watch(this.subscriber, 'subscriber', () => this.resubscribe());
    this.attach(this.subscriber, 'message', config.onMessage);
    // A given lazyConnect client would otherwise wait for a first command that never comes.
    for (const client of [this.publisher, this.subscriber]) {
      if (client.status === 'wait') client.connect().catch(() => undefined);
    }
  }

  /** Subscribes the subscriber connection to `channel`, now or as soon as it is (back) up. */
  listen(channel: string): void {
    this.channels.add(channel);
    if (this.subscriber.status === 'ready' && !this.closing) this.subscribe([channel]);
  }

  /** Whether Redis confirmed the subscription to `channel` (and the connection has not dropped since). */
  isListening(channel: string): boolean {
    return this.active.has(channel);
  }

  /** Resolves once `channel` is listened to, or after `timeout` ms (Redis down): whichever comes first. */
  whenListening(channel: string, timeout: number): Promise<void> {
    if (this.active.has(channel) || this.closing) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, timeout);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      const list = this.waiting.get(channel) ?? [];
      list.push(done);
      this.waiting.set(channel, list);
    });
  }

  unlisten(channel: string): void {
    if (!this.channels.delete(channel)) return;
    this.active.delete(channel);
    if (this.subscriber.status === 'ready' && !this.closing) {
      this.subscriber.unsubscribe(channel).catch((error) => this.commandFailed(error));
    }
  }

  /**
   * Runs a command on the publisher connection; resolves `undefined` instead of failing or
   * waiting when Redis is unavailable. `send` is called synchronously, so commands issued one
   * after another reach Redis in that order.
   */
  async command<T>(send: (publisher: Redis) => Promise<T>): Promise<T | undefined> {
    if (this.closing) return undefined;
    if (this.publisher.status !== 'ready') return this.drop();
    try {
      return await send(this.publisher);
    } catch (error) {
      return this.drop(error as Error);
    }
  }

  /** Quits connections we created; only detaches from (and unsubscribes) clients you gave. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    if (this.owned) {
      // Listeners stay attached: a late 'error' on a dying socket must still be handled.
      await Promise.all([quit(this.publisher), quit(this.subscriber)]);
    } else {
      if (this.channels.size > 0 && this.subscriber.status === 'ready') {
        await this.subscriber.unsubscribe(...this.channels).catch(() => undefined);
      }
      for (const detach of this.detachers) detach();
    }
    this.channels.clear();
    this.active.clear();
    for (const list of this.waiting.values()) for (const done of list) done();
    this.waiting.clear();
  }

  private resubscribe(): void {
    if (this.channels.size === 0 || this.closing) return;
    this.subscribe([...this.channels]);
  }

  private subscribe(channels: string[]): void {
    this.subscriber.subscribe(...channels).then(() => {
      for (const channel of channels) {
        if (!this.channels.has(channel)) continue;
        this.active.add(channel);
        for (const done of this.waiting.get(channel) ?? []) done();
        this.waiting.delete(channel);
      }
    }, (error) => this.commandFailed(error));
  }

  private drop(error?: Error): undefined {
    this.dropped++;
    this.droppedUnlogged++;
    const now = Date.now();
    // Logged at most every 10 s: a chat under load during an outage must not flood the logs.
    if (now - this.lastDropLog >= DROP_LOG_INTERVAL) {
      this.config.logger.warn(
        `${this.droppedUnlogged} Redis command(s) dropped (${error?.message ?? 'not connected'}): ` +
          `${this.config.impact.publisher} until Redis is reachable again.`,
      );
      this.lastDropLog = now;
      this.droppedUnlogged = 0;
    }
    return undefined;
  }

  private commandFailed(error: Error): void {
    // The next 'ready' resubscribes everything, so a failed (UN)SUBSCRIBE heals itself.
    if (!this.closing) this.config.logger.debug(`Redis subscriber command failed: ${error.message}`);
  }

  /** Logs each outage once (lost, then back) instead of once per reconnection attempt. */
  private watch(client: Redis, role: Role, onReady: () => void): void {
    const { logger, impact } = this.config;
    let up = client.status === 'ready';
    let downSince = 0;
    this.attach(client, 'ready', () => {
      if (downSince && !this.closing) {
        logger.log(`Redis ${role} connection is back after ${Date.now() - downSince} ms.`);
      }
      up = true;
      downSince = 0;
      onReady();
    });
    const lost = (reason: string) => {
      if (this.closing || downSince) return;
      downSince = Date.now();
      logger.warn(
        `Redis ${role} connection ${reason}; reconnecting with ioredis' retryStrategy. ` +
          `Meanwhile ${impact[role]}.`,
      );
    };
    this.attach(client, 'close', () => {
      if (up) lost('lost');
      up = false;
      // Subscriptions end with the connection; 'ready' makes them again.
      if (role === 'subscriber') this.active.clear();
    });
    this.attach(client, 'error', (error: Error) => {
      if (downSince || this.closing) return logger.debug(`Redis ${role}: ${error.message}`);
      lost(up ? `failed (${error.message})` : `cannot be opened (${error.message})`);
    });
    this.attach(client, 'end', () => {
      if (this.closing) return;
      logger.error(
        `Redis ${role} connection ended: the retryStrategy gave up, so ${impact[role]} until ` +
          'the app restarts. Make retryStrategy return a delay to keep retrying.',
      );
    });
  }

  private attach(client: Redis, event: string, listener: (...args: any[]) => void): void {
    client.on(event, listener);
    this.detachers.push(() => client.off(event, listener));
  }
}

function createClient(options: RedisConnectionOptions, connectionName: string): Redis {
  const Redis = loadIoredis();
  const merged: RedisOptions = {
    ...CONNECTION_DEFAULTS,
    connectionName,
    ...options.options,
    // Nothing else would ever call connect(): the connection must open by itself.
    lazyConnect: false,
  };
  return options.url ? new Redis(options.url, merged) : new Redis(merged);
}

/** ioredis is an optional peer dependency: load it only when a Redis adapter is really built. */
function loadIoredis(): typeof import('ioredis').Redis {
  try {
    return (require('ioredis') as typeof import('ioredis')).Redis;
  } catch (error) {
    throw new Error(
      'The Redis adapters need the `ioredis` package: run `npm install ioredis` ' +
        `(${(error as Error).message}).`,
    );
  }
}

/** QUIT politely when connected, then make sure the socket and any reconnect timer are gone. */
async function quit(client: Redis): Promise<void> {
  const opening = ['connecting', 'connect', 'ready'].includes(client.status);
  let timer: NodeJS.Timeout | undefined;
  const bounded = <T>(promise: Promise<T>) =>
    Promise.race([promise, new Promise<void>((resolve) => (timer = setTimeout(resolve, QUIT_TIMEOUT)))])
      .finally(() => clearTimeout(timer));
  if (client.status === 'ready') await bounded(client.quit().catch(() => undefined));
  const ended = opening && client.status !== 'end'
    ? new Promise<void>((resolve) => client.once('end', () => resolve()))
    : undefined;
  client.disconnect();
  if (ended) await bounded(ended);
}
