/** Live sessions on several processes: who owns each session (a Redis lease) and how the others reach it (signed pub/sub). */
import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { DATASTAR_SETTINGS, type DatastarSettings } from '../core/datastar-settings';
import type { Redis } from 'ioredis';
import type { DatastarEvent, Signals } from '../protocol';
import { DEFAULT_REDIS_KEY_PREFIX, RedisConnectionPair } from '../redis/redis-connection';
import { LIVE_FORWARD_FAILED } from './live.messages';

/** What a process asks of a session's owner. `rid` names the request across retries: the owner runs it once. */
export type LiveForwarded =
  | { op: 'event'; sid: string; rid: string; route: string; path: string; name: string; signals: Signals }
  | { op: 'nav'; sid: string; rid: string; to: string; replace: boolean; pop: boolean; user?: unknown; data?: Record<string, unknown> }
  /** The session's stream opened at `to`: save, move the lease there, and let the session go. */
  | { op: 'handover'; sid: string; to: string };

/** The owner's answer: the events for the request's own response, an HTTP refusal, or "not mine (any more)". */
export type LiveForwardedReply =
  | { events: DatastarEvent[] }
  | { status: number; body: string | object }
  | { moved: true }
  | { ok: true };

/** How a forwarded request ended, seen from the process that sent it. */
export type LiveForwardOutcome =
  | { reply: LiveForwardedReply }
  /** The owner's process is gone (nobody listens on its channel): its lease may be taken. */
  | { gone: true }
  /** No answer in `forwardTimeoutMs`, or Redis could not be reached. */
  | { timeout: true };

/** Sets the lease to ARGV[1] when it is free, already ARGV[1]'s, or ARGV[3]'s; returns the owner after. */
const TAKE = `local v = redis.call('GET', KEYS[1])
if v == false or v == ARGV[1] or (ARGV[3] ~= '' and v == ARGV[3]) then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return ARGV[1]
end
return v`;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end return 0`;
/** Extends the leases still ARGV[1]'s; returns the (1-based) indexes of those that are not. */
const RENEW = `local lost = {}
for i, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[1] then redis.call('PEXPIRE', key, ARGV[2]) else lost[#lost + 1] = i end
end
return lost`;
/** Leases renewed per script call: one call must not hold Redis long. */
const RENEW_BATCH = 500;
/** How long a request waits for the connection at boot (a restarted process reconnects in milliseconds). */
const READY_WAIT_MS = 2_000;

/**
 * With `pubsub.redis`, a live session belongs to one process at a time: the holder of the lease
 * `<prefix>live:owner:<id>` (`SET ... PX`, renewed while the process keeps the session). Other
 * processes send it their requests on its channel `<prefix>live:process:<owner>`, signed like every
 * message we publish, and get the answer on theirs. A publish nobody receives means the owner's
 * process is gone (its connection closed): its leases may be taken at once. Without Redis nothing
 * here runs: a single process never leaves its memory for a live request.
 */
@Injectable()
export class LiveCluster implements OnApplicationShutdown {
  /** This process among the app's processes: its pid and a random part (several apps may share a pid). */
  readonly id = `${process.pid}.${randomBytes(9).toString('base64url')}`;
  private readonly logger = new Logger('DatastarLive');
  private pair?: RedisConnectionPair;
  private prefix = '';
  /** Sessions whose lease this process holds. */
  private readonly held = new Set<string>();
  private readonly waiting = new Map<string, (reply: LiveForwardedReply) => void>();
  private serve?: (request: LiveForwarded) => Promise<LiveForwardedReply>;
  private lost?: (sid: string) => void;
  private renewTimer?: NodeJS.Timeout;
  private sequence = 0;
  private stopped = false;

  constructor(@Inject(DATASTAR_SETTINGS) private readonly settings: DatastarSettings) {}

  /** True with `pubsub.redis` (once open): sessions have owners, requests may be forwarded. */
  get enabled(): boolean {
    return this.pair !== undefined;
  }

  /** The connections the Redis session store shares (its subscriber is this class's). */
  get connection(): RedisConnectionPair | undefined {
    return this.pair;
  }

  /** `serve` runs what other processes forward here; `lost` is told of sessions whose lease another took. */
  handle(serve: (request: LiveForwarded) => Promise<LiveForwardedReply>, lost: (sid: string) => void): void {
    this.serve = serve;
    this.lost = lost;
  }

  /** At boot, with live views and `pubsub.redis`: connects and listens on this process's channel. */
  open(): void {
    const redis = this.settings.redis;
    if (!redis || this.pair) return;
    this.prefix = `${redis.keyPrefix ?? DEFAULT_REDIS_KEY_PREFIX}live:`;
    this.pair = new RedisConnectionPair(redis, {
      logger: this.logger,
      name: 'datastar-live',
      impact: {
        publisher: 'live sessions are not saved, resumed, nor reached from other processes',
        subscriber: 'requests other processes forward to this one wait, then are refused (503)',
      },
      onMessage: (channel, message) => this.received(channel, message),
    });
    this.pair.listen(this.channel(this.id));
    const every = Math.max(100, Math.floor(this.settings.live.ownerLeaseMs / 3));
    this.renewTimer = setInterval(() => void this.renew(), every);
    this.renewTimer.unref?.();
  }

  /** A new request id: stays with the request through every forward and retry. */
  requestId(): string {
    return `${this.id}.${(++this.sequence).toString(36)}`;
  }

  /** Takes the lease of `sid` if it is free (or ours); the owner after, undefined when Redis cannot say. */
  claim(sid: string): Promise<string | undefined> {
    return this.take(sid, this.id, '');
  }

  /** Takes the lease from `from`, whose process is gone; the owner after. */
  steal(sid: string, from: string): Promise<string | undefined> {
    return this.take(sid, this.id, from);
  }

  /** Moves our lease (or a free one) to process `to`; false when another holds it. */
  async transfer(sid: string, to: string): Promise<boolean> {
    const owner = await this.take(sid, to, this.id);
    if (owner === to) this.held.delete(sid);
    return owner === to;
  }

  /** Lets the lease go (the session left this process); nothing to do for one we do not hold. */
  release(sid: string): void {
    if (!this.held.delete(sid)) return;
    const key = this.key(sid);
    void this.pair?.command((redis) => redis.eval(RELEASE, 1, key, this.id));
  }

  /** Sends `request` to process `owner` and waits for its answer (at most `forwardTimeoutMs`). */
  forward(owner: string, request: LiveForwarded): Promise<LiveForwardOutcome> {
    const pair = this.pair;
    if (!pair || this.stopped) return Promise.resolve({ timeout: true });
    const key = (++this.sequence).toString(36);
    const channel = this.channel(owner);
    return new Promise((resolve) => {
      const done = (outcome: LiveForwardOutcome) => {
        clearTimeout(timer);
        this.waiting.delete(key);
        resolve(outcome);
      };
      const timer = setTimeout(() => {
        // A silent owner that is gone meanwhile (killed while it held the request): its lease may be taken.
        void this.listening(owner).then((alive) => done(alive === false ? { gone: true } : { timeout: true }));
      }, this.settings.live.forwardTimeoutMs);
      this.waiting.set(key, (reply) => done({ reply }));
      const body = JSON.stringify({ t: 'req', from: this.id, key, request });
      void pair.command((redis) => redis.publish(channel, pair.signer.sign(channel, body))).then((receivers) => {
        if (receivers === 0) done({ gone: true });
        else if (receivers === undefined) done({ timeout: true });
      });
    });
  }

  /** Before the sessions end at shutdown: requests sent here from now on find nobody (their senders take over). */
  stop(): void {
    this.stopped = true;
    this.pair?.unlisten(this.channel(this.id));
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.renewTimer);
    for (const answer of this.waiting.values()) answer({ moved: true });
    const pair = this.pair;
    this.pair = undefined;
    await pair?.close();
  }

  private async take(sid: string, owner: string, from: string): Promise<string | undefined> {
    const ttl = String(this.settings.live.ownerLeaseMs);
    // Never hold a lease while the others cannot reach us (a process that just started).
    if (this.pair) await Promise.all([whenReady(this.pair.publisher), this.pair.whenListening(this.channel(this.id), READY_WAIT_MS)]);
    const after = await this.pair?.command((redis) => redis.eval(TAKE, 1, this.key(sid), owner, ttl, from));
    if (typeof after !== 'string') return undefined;
    if (after === this.id) this.held.add(sid);
    return after;
  }

  /** Whether process `owner` still listens on its channel; undefined when Redis cannot say. */
  private async listening(owner: string): Promise<boolean | undefined> {
    const channel = this.channel(owner);
    const reply = await this.pair?.command((redis) => redis.pubsub('NUMSUB', channel));
    return Array.isArray(reply) ? Number(reply[1]) > 0 : undefined;
  }

  /** Keeps our leases alive; those another process took meanwhile (we were thought gone) are let go here. */
  private async renew(): Promise<void> {
    const sids = [...this.held];
    const ttl = String(this.settings.live.ownerLeaseMs);
    for (let i = 0; i < sids.length; i += RENEW_BATCH) {
      const batch = sids.slice(i, i + RENEW_BATCH);
      const lost = await this.pair?.command((redis) => redis.eval(RENEW, batch.length, ...batch.map((sid) => this.key(sid)), this.id, ttl));
      if (!Array.isArray(lost)) return; // Redis unreachable: keep what we hold until it is back
      for (const index of lost) {
        const sid = batch[Number(index) - 1];
        if (sid !== undefined && this.held.delete(sid)) this.lost?.(sid);
      }
    }
  }

  private received(channel: string, message: string): void {
    const body = this.pair?.signer.verify(channel, message);
    if (body === undefined) return;
    let parsed: { t?: unknown; from?: unknown; key?: unknown; request?: LiveForwarded; reply?: LiveForwardedReply };
    try {
      parsed = JSON.parse(body);
    } catch {
      return this.pair?.signer.refuse(channel);
    }
    if (typeof parsed.key !== 'string') return;
    if (parsed.t === 'res' && parsed.reply) {
      this.waiting.get(parsed.key)?.(parsed.reply);
    } else if (parsed.t === 'req' && typeof parsed.from === 'string' && parsed.request && typeof parsed.request.sid === 'string') {
      void this.answer(parsed.from, parsed.key, parsed.request);
    }
  }

  private async answer(from: string, key: string, request: LiveForwarded): Promise<void> {
    let reply: LiveForwardedReply;
    try {
      reply = this.stopped || !this.serve ? { moved: true } : await this.serve(request);
    } catch (error) {
      this.logger.error(LIVE_FORWARD_FAILED(request.op, (error as Error)?.message ?? String(error)));
      reply = { status: 500, body: { statusCode: 500, message: 'Internal server error' } };
    }
    const pair = this.pair;
    const channel = this.channel(from);
    const body = JSON.stringify({ t: 'res', key, reply });
    void pair?.command((redis) => redis.publish(channel, pair.signer.sign(channel, body)));
  }

  private key(sid: string): string {
    return `${this.prefix}owner:${sid}`;
  }

  private channel(owner: string): string {
    return `${this.prefix}process:${owner}`;
  }
}

/** Waits (briefly) for a connection that is still opening: a page reconnecting right after a restart. */
export async function whenReady(client: Redis): Promise<void> {
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
