import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import {
  DEFAULT_REDIS_KEY_PREFIX, RedisConnectionPair, type RedisConnectionOptions,
} from '../pubsub/redis-pubsub';

const TAB_ID = /^[A-Za-z0-9_-]{1,64}$/;
const MAX_SCOPE_LENGTH = 256;
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;

/**
 * The tab id a client sent, if it is safe to use as a dedup key (a string of 1 to 64 letters,
 * digits, `_` or `-`); otherwise `undefined`, meaning "a plain stream, no dedup".
 * @example const tabId = validTabId(signals.tabId)
 */
export function validTabId(value: unknown): string | undefined {
  return typeof value === 'string' && TAB_ID.test(value) ? value : undefined;
}

/** One stream's hold on a (scope, tabId) pair. */
export interface Claim {
  readonly scope: string;
  readonly tabId: string;
  /** True until released or taken over. */
  readonly live: boolean;
  /** Gives the pair up (the stream ended); idempotent, and a no-op once taken over. */
  release(): void;
}

/** A claim as its registry and adapters see it; users only need the `Claim` view. */
export class HeldClaim implements Claim {
  live = true;
  /**
   * Distributed adapters order claims across processes by generation: `undefined` while it is
   * being fetched, 0 when it could not be (older than any real one).
   */
  generation: number | undefined;
  /** The newest generation announced for this pair while ours was still being fetched. */
  newestSeen = 0;

  constructor(
    readonly scope: string,
    readonly tabId: string,
    readonly onTakeover: () => void,
    private readonly onRelease: (claim: HeldClaim) => void,
  ) {}

  release(): void {
    this.onRelease(this);
  }
}

/**
 * Per-tab stream dedup: at most one live claim per (scope, tabId). A new claim ends the previous
 * holder by calling its `onTakeover` exactly once (synchronously when it lives in this process),
 * so reloading a tab leaves exactly one stream for it. The Nest DI token for the adapter in use.
 */
export abstract class TabClaims implements OnApplicationShutdown {
  protected readonly logger = new Logger('DatastarTabClaims');
  private readonly scopes = new Map<string, Map<string, HeldClaim>>();
  private total = 0;
  private readonly releaseClaim = (claim: HeldClaim) => this.end(claim, false);

  /**
   * Takes (scope, tabId) for a stream; `onTakeover` runs once if a newer claim replaces it.
   * @example const claim = claims.claim('chat', tabId, () => subscriber.complete())
   */
  claim(scope: string, tabId: string, onTakeover: () => void): Claim {
    assertScope(scope);
    if (validTabId(tabId) === undefined) {
      throw new TypeError(
        `Invalid tabId ${JSON.stringify(String(tabId).slice(0, 80))}: check it with ` +
          'validTabId() first and open a plain stream (no dedup) when it returns undefined.',
      );
    }
    if (typeof onTakeover !== 'function') {
      throw new TypeError('claim() needs an onTakeover callback that ends the previous stream.');
    }
    const holder = new HeldClaim(scope, tabId, onTakeover, this.releaseClaim);
    let tabs = this.scopes.get(scope);
    if (!tabs) this.scopes.set(scope, (tabs = new Map()));
    const previous = tabs.get(tabId);
    tabs.set(tabId, holder);
    if (previous) previous.live = false;
    else this.total++;
    this.claimed(holder);
    if (previous) this.notify(previous);
    return holder;
  }

  /** Live claims in `scope`, or in all scopes (a gauge for metrics). */
  count(scope?: string): number {
    return scope === undefined ? this.total : (this.scopes.get(scope)?.size ?? 0);
  }

  /**
   * Forgets every claim without calling `onTakeover` (the streams themselves are completed by
   * their owner at shutdown) and releases connections. Claims made afterwards are local only.
   */
  async close(): Promise<void> {
    for (const tabs of this.scopes.values()) for (const holder of tabs.values()) holder.live = false;
    this.scopes.clear();
    this.total = 0;
  }

  onApplicationShutdown(): Promise<void> {
    return this.close();
  }

  /** The adapter's hook: `holder` just became the live claim of its pair in this process. */
  protected claimed(_holder: HeldClaim): void {}

  protected holderOf(scope: string, tabId: string): HeldClaim | undefined {
    return this.scopes.get(scope)?.get(tabId);
  }

  /** Ends a live claim: removes its entry and, for a takeover, tells its holder once. */
  protected end(holder: HeldClaim, takenOver: boolean): void {
    if (!holder.live) return;
    holder.live = false;
    const tabs = this.scopes.get(holder.scope);
    if (tabs?.get(holder.tabId) === holder) {
      tabs.delete(holder.tabId);
      this.total--;
      if (tabs.size === 0) this.scopes.delete(holder.scope);
    }
    if (takenOver) this.notify(holder);
  }

  private notify(holder: HeldClaim): void {
    try {
      holder.onTakeover();
    } catch (error) {
      // The new claim stands whatever the old stream's cleanup does.
      this.logger.error(
        `onTakeover for tab "${holder.tabId}" in "${holder.scope}" threw: ${(error as Error).message}`,
        (error as Error).stack,
      );
    }
  }
}

function assertScope(scope: unknown): asserts scope is string {
  if (
    typeof scope !== 'string' || scope.length === 0 || scope.length > MAX_SCOPE_LENGTH ||
    CONTROL_CHARS.test(scope)
  ) {
    throw new TypeError(
      `Invalid claim scope ${JSON.stringify(String(scope).slice(0, 80))}: use a non-empty ` +
        `string of at most ${MAX_SCOPE_LENGTH} printable characters, e.g. the stream's route.`,
    );
  }
}

/** Claims within one process: a Map, takeover synchronous, nothing to install. */
@Injectable()
export class MemoryTabClaims extends TabClaims {}

/**
 * One atomic step per claim: take the next generation from ONE global counter and announce it.
 * A single never-expiring counter (rather than a key per tab with a TTL) can never restart at 1
 * under a long-lived holder, so "the higher generation is the newer claim" always holds; and
 * INCR + PUBLISH in one script means no generation is taken without being announced.
 */
const CLAIM_SCRIPT = `
local generation = redis.call('INCR', KEYS[1])
redis.call('PUBLISH', ARGV[1], generation .. ' ' .. ARGV[2])
return generation`;

/**
 * Claims that span processes through Redis. Locally it behaves exactly like `MemoryTabClaims`;
 * each claim also takes a generation from Redis and announces it, and a process that holds an
 * older generation for that pair calls its holder's `onTakeover`. The highest generation wins
 * whatever order the announcements arrive in, so concurrent claims leave exactly one holder.
 * While Redis is unreachable claims are local to each process (logged), then cross-process
 * takeover resumes for new claims.
 */
export class RedisTabClaims extends TabClaims {
  private readonly redis: RedisConnectionPair;
  private readonly counterKey: string;
  private readonly channel: string;
  private isClosed = false;

  constructor(options: RedisConnectionOptions = {}) {
    super();
    const prefix = `${options.keyPrefix ?? DEFAULT_REDIS_KEY_PREFIX}tab-claims:`;
    this.counterKey = `${prefix}generation`;
    this.channel = `${prefix}takeover`;
    this.redis = new RedisConnectionPair(options, {
      logger: this.logger,
      name: 'datastar-tab-claims',
      impact: {
        publisher: 'new tab claims cannot take over streams held by other processes',
        subscriber: 'claims made by other processes cannot take over streams held here',
      },
      onMessage: (channel, message) => this.receive(channel, message),
    });
    this.redis.listen(this.channel);
  }

  override async close(): Promise<void> {
    this.isClosed = true;
    await super.close();
    await this.redis.close();
  }

  protected override claimed(holder: HeldClaim): void {
    if (this.isClosed) {
      holder.generation = 0;
      return;
    }
    const pair = JSON.stringify([holder.scope, holder.tabId]);
    this.redis
      .command((publisher) => publisher.eval(CLAIM_SCRIPT, 1, this.counterKey, this.channel, pair))
      .then((generation) => this.settle(holder, Number(generation ?? 0) || 0));
  }

  /** Our generation arrived: a newer one announced meanwhile means we already lost. */
  private settle(holder: HeldClaim, generation: number): void {
    holder.generation = generation;
    if (holder.newestSeen > generation) this.end(holder, true);
  }

  private receive(channel: string, message: string): void {
    if (channel !== this.channel) return;
    const announced = parseAnnouncement(message);
    if (!announced) {
      this.logger.warn(`Ignored a malformed tab takeover message on Redis channel "${channel}".`);
      return;
    }
    const holder = this.holderOf(announced.scope, announced.tabId);
    if (!holder) return;
    // Still fetching our own generation: remember the newest rival and decide in settle().
    if (holder.generation === undefined) {
      holder.newestSeen = Math.max(holder.newestSeen, announced.generation);
    } else if (announced.generation > holder.generation) {
      this.end(holder, true);
    }
  }
}

interface Announcement {
  generation: number;
  scope: string;
  tabId: string;
}

function parseAnnouncement(message: string): Announcement | undefined {
  const space = message.indexOf(' ');
  const generation = Number(message.slice(0, space));
  if (space < 1 || !Number.isSafeInteger(generation) || generation < 1) return undefined;
  try {
    const pair: unknown = JSON.parse(message.slice(space + 1));
    if (!Array.isArray(pair) || typeof pair[0] !== 'string' || typeof pair[1] !== 'string') {
      return undefined;
    }
    return { generation, scope: pair[0], tabId: pair[1] };
  } catch {
    return undefined;
  }
}
