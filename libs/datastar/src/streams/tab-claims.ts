import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { CONTROL_CHARS } from '../datastar.constants';
import {
  DEFAULT_REDIS_KEY_PREFIX, RedisConnectionPair, type RedisConnectionOptions,
} from '../redis/redis-connection';

const TAB_ID = /^[A-Za-z0-9_-]{1,64}$/;
const MAX_SCOPE_LENGTH = 256;

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
  /** Whose tab it is (an opaque key: browser and/or user); '' for a claim bound to nobody. */
  readonly owner: string;
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
    readonly owner: string,
    readonly onTakeover: () => void,
    private readonly onRelease: (claim: HeldClaim) => void,
  ) {}

  release(): void {
    this.onRelease(this);
  }

  /** The key of its pair within its scope: a tab id has no space, so this is unambiguous. */
  get key(): string {
    return tabKey(this.owner, this.tabId);
  }
}

function tabKey(owner: string, tabId: string): string {
  return `${owner} ${tabId}`;
}

/**
 * Per-tab stream dedup: at most one live claim per (scope, owner, tabId). A new claim ends the
 * previous holder by calling its `onTakeover` exactly once (synchronously when it lives in this
 * process), so reloading a tab leaves exactly one stream for it. The owner (the stream registry
 * passes a key of the browser's cookie and the `streams.owner` user) keeps one browser from ending
 * another's streams with a tab id it learnt. The Nest DI token for the adapter in use.
 */
export abstract class TabClaims implements OnApplicationShutdown {
  protected readonly logger = new Logger('DatastarTabClaims');
  private readonly scopes = new Map<string, Map<string, HeldClaim>>();
  private total = 0;
  private readonly releaseClaim = (claim: HeldClaim) => this.end(claim, false);

  /**
   * Takes (scope, owner, tabId) for a stream; `onTakeover` runs once if a newer claim replaces it.
   * Pass an `owner` (who the tab belongs to) whenever the tab id comes from a client: only a claim
   * of the same owner can replace it.
   * @example const claim = claims.claim('chat', tabId, () => subscriber.complete(), userId)
   */
  claim(scope: string, tabId: string, onTakeover: () => void, owner = ''): Claim {
    assertScope(scope);
    assertOwner(owner);
    if (validTabId(tabId) === undefined) {
      throw new TypeError(
        `Invalid tabId ${JSON.stringify(String(tabId).slice(0, 80))}: check it with ` +
          'validTabId() first and open a plain stream (no dedup) when it returns undefined.',
      );
    }
    if (typeof onTakeover !== 'function') {
      throw new TypeError('claim() needs an onTakeover callback that ends the previous stream.');
    }
    const holder = new HeldClaim(scope, tabId, owner, onTakeover, this.releaseClaim);
    let tabs = this.scopes.get(scope);
    if (!tabs) this.scopes.set(scope, (tabs = new Map()));
    const previous = tabs.get(holder.key);
    tabs.set(holder.key, holder);
    if (previous) previous.live = false;
    else this.total++;
    this.claimed(holder);
    if (previous) this.notify(previous);
    return holder;
  }

  /** Messages from other processes refused since start (bad signature); 0 in memory. */
  get rejectedCount(): number {
    return 0;
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

  protected holderOf(scope: string, owner: string, tabId: string): HeldClaim | undefined {
    return this.scopes.get(scope)?.get(tabKey(owner, tabId));
  }

  /** Ends a live claim: removes its entry and, for a takeover, tells its holder once. */
  protected end(holder: HeldClaim, takenOver: boolean): void {
    if (!holder.live) return;
    holder.live = false;
    const tabs = this.scopes.get(holder.scope);
    if (tabs?.get(holder.key) === holder) {
      tabs.delete(holder.key);
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

function assertOwner(owner: unknown): asserts owner is string {
  if (typeof owner !== 'string' || owner.length > MAX_SCOPE_LENGTH || CONTROL_CHARS.test(owner)) {
    throw new TypeError(
      `Invalid claim owner ${JSON.stringify(String(owner).slice(0, 80))}: use a string of at most ` +
        `${MAX_SCOPE_LENGTH} printable characters (a user id, or a hash of one).`,
    );
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
 * Claims that span processes through Redis. Locally it behaves exactly like `MemoryTabClaims`;
 * each claim also takes a generation from Redis and announces it, and a process that holds an
 * older generation for that pair calls its holder's `onTakeover`. The highest generation wins
 * whatever order the announcements arrive in, so concurrent claims leave exactly one holder.
 * While Redis is unreachable claims are local to each process (logged), then cross-process
 * takeover resumes for new claims.
 *
 * Generations come from ONE never-expiring counter (rather than a key per tab with a TTL): it can
 * never restart at 1 under a long-lived holder, so "the higher generation is the newer claim"
 * always holds. The announcement is signed here, after INCR (Redis cannot sign it), so a client
 * that can PUBLISH on our channel cannot end anyone's stream; if the connection drops between the
 * two, the claim stays local, as during any outage.
 */
export class RedisTabClaims extends TabClaims {
  private readonly redis: RedisConnectionPair;
  private readonly counterKey: string;
  private readonly channel: string;
  private isClosed = false;

  override get rejectedCount(): number {
    return this.redis.signer.rejected;
  }

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
    const pair = JSON.stringify([holder.scope, holder.tabId, holder.owner]);
    this.redis
      .command((publisher) => publisher.incr(this.counterKey))
      .then((generation) => {
        const taken = Number(generation ?? 0) || 0;
        if (taken > 0) {
          const message = this.redis.signer.sign(this.channel, `${taken} ${pair}`);
          void this.redis.command((publisher) => publisher.publish(this.channel, message));
        }
        this.settle(holder, taken);
      });
  }

  /** Our generation arrived: a newer one announced meanwhile means we already lost. */
  private settle(holder: HeldClaim, generation: number): void {
    holder.generation = generation;
    if (holder.newestSeen > generation) this.end(holder, true);
  }

  private receive(channel: string, message: string): void {
    if (channel !== this.channel) return;
    const body = this.redis.signer.verify(channel, message);
    if (body === undefined) return;
    const announced = parseAnnouncement(body);
    if (!announced) {
      this.logger.warn(`Ignored a malformed tab takeover message on Redis channel "${channel}".`);
      return;
    }
    const holder = this.holderOf(announced.scope, announced.owner, announced.tabId);
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
  owner: string;
}

function parseAnnouncement(message: string): Announcement | undefined {
  const space = message.indexOf(' ');
  const generation = Number(message.slice(0, space));
  if (space < 1 || !Number.isSafeInteger(generation) || generation < 1) return undefined;
  try {
    const pair: unknown = JSON.parse(message.slice(space + 1));
    if (!Array.isArray(pair) || !pair.every((part) => typeof part === 'string') || pair.length !== 3) {
      return undefined;
    }
    return { generation, scope: pair[0], tabId: pair[1], owner: pair[2] };
  } catch {
    return undefined;
  }
}
