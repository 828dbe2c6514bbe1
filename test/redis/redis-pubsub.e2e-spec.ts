import { Logger } from '@nestjs/common';
import { Redis } from 'ioredis';
import type { Subscription } from 'rxjs';
import type { MessageEventLike } from '../../libs/datastar/src/protocol/encoder';
import { RedisPubSub } from '../../libs/datastar/src/pubsub/redis-pubsub';
import { RedisSigner } from '../../libs/datastar/src/redis/redis-signer';
import { RedisTabClaims, type Claim } from '../../libs/datastar/src/streams/tab-claims';
import { RedisServer, requireRedisServer } from './redis-server';

// Each instance below stands for one app process: own connections, own origin id.
const binary = requireRedisServer();
const describeRedis = binary ? describe : describe.skip;

const event = (data: string): MessageEventLike => ({ type: 'datastar-patch-elements', data });
/** The app's signing secret: every instance of one app shares it. */
const SECRET = 'test-secret-'.padEnd(40, 'x');
/** Signs as an instance of the app would (what a process that knows the secret sends). */
const signer = new RedisSigner(SECRET, new Logger('test'));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls until `check` holds; fails with what it was waiting for, never hangs. */
async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeout = 5000) {
  const deadline = Date.now() + timeout;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeout} ms waiting for ${what}`);
    await sleep(25);
  }
}

/** Resolves with the promise's value, or rejects if it takes longer than `ms`. */
function within<T>(ms: number, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Still pending after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

describeRedis('Redis fan-out and tab claims (real redis-server)', () => {
  let server: RedisServer;
  let prefix: string;
  let testNumber = 0;
  const opened: Array<{ close(): Promise<void> }> = [];
  const subscriptions: Subscription[] = [];
  const logs: Record<'log' | 'warn' | 'error' | 'debug', jest.SpyInstance> = {} as never;

  const pubsub = () => track(new RedisPubSub({ url: server.url, keyPrefix: prefix, secret: SECRET }));
  const claims = () => track(new RedisTabClaims({ url: server.url, keyPrefix: prefix, secret: SECRET }));
  function track<T extends { close(): Promise<void> }>(instance: T): T {
    opened.push(instance);
    return instance;
  }

  function collect(instance: RedisPubSub, topic: string): MessageEventLike[] {
    const received: MessageEventLike[] = [];
    subscriptions.push(instance.subscribe(topic).subscribe((e) => received.push(e)));
    return received;
  }

  /** Asks Redis itself, on a short-lived connection, for a channel's subscriber count. */
  async function redisCommand<T>(run: (admin: Redis) => Promise<T>): Promise<T> {
    const admin = new Redis(server.url, { maxRetriesPerRequest: 0, enableOfflineQueue: true });
    admin.on('error', () => undefined);
    try {
      return await run(admin);
    } finally {
      await admin.quit().catch(() => admin.disconnect());
    }
  }
  const subscribersOf = async (channel: string) =>
    Number(((await redisCommand((r) => r.pubsub('NUMSUB', channel))) as [string, number])[1]);
  const waitForSubscribers = (channel: string, count: number) =>
    waitFor(`${count} Redis subscribers on ${channel}`, async () => (await subscribersOf(channel)) === count);

  beforeAll(async () => {
    server = await RedisServer.start(binary!);
  });

  afterAll(async () => {
    await server?.dispose();
  });

  beforeEach(() => {
    prefix = `test-${++testNumber}:`;
    for (const level of ['log', 'warn', 'error', 'debug'] as const) {
      logs[level] = jest.spyOn(Logger.prototype, level).mockImplementation(() => undefined);
    }
  });

  afterEach(async () => {
    subscriptions.splice(0).forEach((s) => s.unsubscribe());
    await Promise.all(opened.splice(0).map((instance) => instance.close()));
    jest.restoreAllMocks();
    if (!server.running) await server.restart();
  });

  it('broadcasts between two instances; local subscribers get their own events once, at once', async () => {
    const a = pubsub();
    const b = pubsub();
    const c = pubsub();
    const atA = collect(a, 'room');
    const atB1 = collect(b, 'room');
    const atB2 = collect(b, 'room');
    await waitForSubscribers(`${prefix}topic:room`, 2);

    const x = event('x');
    const publishing = a.publish('room', x);
    expect(atA[0]).toBe(x); // before publish() resolved: no Redis round trip for local streams
    await publishing;
    await waitFor('b to get x', () => atB1.length === 1);
    expect(atB1[0]).toEqual(x);
    expect(atB1[0]).not.toBe(x);
    expect(atB2[0]).toBe(atB1[0]); // parsed once, the same object for every local subscriber

    // c publishes after x: once a receives it, Redis has already echoed x back to a.
    await c.publish('room', event('sentinel'));
    await waitFor('a to get the sentinel', () => atA.length === 2);
    expect(atA.map((e) => e.data)).toEqual(['x', 'sentinel']);
    expect(atB1.map((e) => e.data)).toEqual(['x', 'sentinel']);
  });

  it('keeps each publisher\'s order across processes', async () => {
    const a = pubsub();
    const c = pubsub();
    const b = pubsub();
    const atB = collect(b, 'feed');
    await waitForSubscribers(`${prefix}topic:feed`, 1);
    const sends: Array<Promise<void>> = [];
    for (let i = 0; i < 150; i++) {
      sends.push(a.publish('feed', i % 3 ? event(`a${i}`) : [event(`a${i}.0`), event(`a${i}.1`)]));
      sends.push(c.publish('feed', event(`c${i}`)));
    }
    await Promise.all(sends);
    await waitFor('all 350 events at b', () => atB.length === 350);
    const expectedA = [];
    for (let i = 0; i < 150; i++) expectedA.push(...(i % 3 ? [`a${i}`] : [`a${i}.0`, `a${i}.1`]));
    const data = atB.map((e) => String(e.data));
    expect(data.filter((d) => d.startsWith('a'))).toEqual(expectedA);
    expect(data.filter((d) => d.startsWith('c'))).toEqual(Array.from({ length: 150 }, (_, i) => `c${i}`));
  });

  it('stops listening on Redis when the last local subscriber leaves', async () => {
    const a = pubsub();
    const first = a.subscribe('room').subscribe();
    const second = a.subscribe('room').subscribe();
    await waitForSubscribers(`${prefix}topic:room`, 1);
    first.unsubscribe();
    await sleep(100);
    expect(await subscribersOf(`${prefix}topic:room`)).toBe(1);
    second.unsubscribe();
    await waitForSubscribers(`${prefix}topic:room`, 0);
    expect(a.subscriberCount('room')).toBe(0);
  });

  it('takes a tab over across processes, and back', async () => {
    const t1 = claims();
    const t2 = claims();
    await waitForSubscribers(`${prefix}tab-claims:takeover`, 2);
    const first = jest.fn();
    const other = jest.fn();
    const c1 = t1.claim('chat', 'tab-1', first);
    t1.claim('chat', 'tab-2', other);
    await waitFor('t1 to hold generation 2', async () =>
      (await redisCommand((r) => r.get(`${prefix}tab-claims:generation`))) === '2');

    const second = jest.fn();
    const c2 = t2.claim('chat', 'tab-1', second);
    await waitFor('t1 to be taken over', () => first.mock.calls.length > 0);
    expect(c1.live).toBe(false);
    expect(c2.live).toBe(true);
    expect(t1.count('chat')).toBe(1); // tab-2 only
    expect(t2.count('chat')).toBe(1);

    const third = jest.fn();
    t1.claim('chat', 'tab-1', third);
    await waitFor('t2 to be taken over', () => second.mock.calls.length > 0);
    await sleep(200);
    expect(first).toHaveBeenCalledTimes(1);
    expect(second).toHaveBeenCalledTimes(1);
    expect(third).not.toHaveBeenCalled();
    expect(other).not.toHaveBeenCalled();
    expect(t1.count()).toBe(2);
    expect(t2.count()).toBe(0);
  });

  it('leaves exactly one live holder, the newest generation, after concurrent claims', async () => {
    const instances = [claims(), claims(), claims(), claims()];
    await waitForSubscribers(`${prefix}tab-claims:takeover`, 4);
    const calls: number[] = [];
    const held: Claim[] = [];
    for (let round = 0; round < 5; round++) {
      for (const instance of instances) {
        const index = held.length;
        calls.push(0);
        held.push(instance.claim('chat', 'tab-x', () => calls[index]++));
      }
    }
    const live = () => instances.reduce((sum, instance) => sum + instance.count('chat'), 0);
    await waitFor('19 takeovers', () => calls.reduce((a, b) => a + b, 0) === 19);
    await sleep(300); // late announcements must not end the survivor
    expect(live()).toBe(1);
    expect(calls.every((n) => n <= 1)).toBe(true);
    const survivors = held.filter((c) => c.live);
    expect(survivors).toHaveLength(1);
    const newest = Number(await redisCommand((r) => r.get(`${prefix}tab-claims:generation`)));
    expect((survivors[0] as unknown as { generation: number }).generation).toBe(newest);
  });

  it('lets the newest generation win whatever order the announcements arrive in', async () => {
    const t1 = claims();
    await waitForSubscribers(`${prefix}tab-claims:takeover`, 1);
    const channel = `${prefix}tab-claims:takeover`;
    const announcement = (generation: number, tabId: string) =>
      signer.sign(channel, `${generation} ${JSON.stringify(['chat', tabId, ''])}`);
    const announce = (generation: number, tabId: string) =>
      redisCommand((r) => r.publish(channel, announcement(generation, tabId)));

    // A stale announcement (older than the holder's generation) arriving late is ignored.
    await redisCommand((r) => r.incrby(`${prefix}tab-claims:generation`, 10));
    const settled = jest.fn();
    const holder = t1.claim('chat', 'tab-1', settled);
    await waitFor('a generation', () => (holder as unknown as { generation?: number }).generation !== undefined);
    const mine = (holder as unknown as { generation: number }).generation;
    await announce(mine - 1, 'tab-1');
    await sleep(150);
    expect(settled).not.toHaveBeenCalled();
    await announce(mine + 1000, 'tab-1');
    await waitFor('the newer announcement to win', () => settled.mock.calls.length === 1);

    // A newer announcement arriving while our own generation is still on its way wins too.
    const pending = jest.fn();
    const early = t1.claim('chat', 'tab-2', pending);
    (t1 as unknown as { receive(c: string, m: string): void })
      .receive(channel, announcement(Number.MAX_SAFE_INTEGER, 'tab-2'));
    expect(pending).not.toHaveBeenCalled();
    await waitFor('the pending claim to lose once its generation arrives', () => pending.mock.calls.length === 1);
    expect(early.live).toBe(false);
    expect(t1.count()).toBe(0);
  });

  it('survives Redis being killed: local delivery goes on, then broadcasts resume on restart', async () => {
    const problems: unknown[] = [];
    const onProblem = (reason: unknown) => problems.push(reason);
    process.on('unhandledRejection', onProblem);
    process.on('uncaughtException', onProblem);
    try {
      const a = pubsub();
      const b = pubsub();
      const ta = claims();
      const tb = claims();
      const atA = collect(a, 'room');
      const atB = collect(b, 'room');
      await waitForSubscribers(`${prefix}topic:room`, 2);
      await waitForSubscribers(`${prefix}tab-claims:takeover`, 2);
      await a.publish('room', event('before'));
      await waitFor('b to get "before"', () => atB.some((e) => e.data === 'before'));

      await server.stop('SIGKILL');
      await waitFor('the outage to be logged', () =>
        logs.warn.mock.calls.some(([m]) => /Redis publisher connection (lost|failed)/.test(String(m))));

      const during = event('during');
      const started = Date.now();
      await expect(within(2000, a.publish('room', during))).resolves.toBeUndefined();
      for (let i = 0; i < 50; i++) await within(2000, a.publish('room', event(`down-${i}`)));
      expect(Date.now() - started).toBeLessThan(2000);
      expect(atA).toContain(during);
      expect(atA.filter((e) => String(e.data).startsWith('down-'))).toHaveLength(50);
      expect(a.droppedCount).toBeGreaterThanOrEqual(51);

      // Subscribing during the outage must take effect once Redis is back.
      const lateAtB = collect(b, 'late');
      // Claims keep working within a process while Redis is down.
      const old = jest.fn();
      ta.claim('chat', 'tab-1', old);
      ta.claim('chat', 'tab-1', jest.fn());
      expect(old).toHaveBeenCalledTimes(1);

      await sleep(300); // let a few reconnection attempts fail
      await server.restart(); // same port
      await waitFor('broadcasts to reach b again', async () => {
        await a.publish('room', event('probe'));
        return atB.some((e) => e.data === 'probe');
      }, 15_000);
      await waitForSubscribers(`${prefix}topic:late`, 1);
      await a.publish('late', event('late-1'));
      await waitFor('the topic subscribed during the outage', () => lateAtB.length === 1);
      expect(atB.some((e) => e === during || e.data === 'during')).toBe(false); // dropped, not replayed

      await waitForSubscribers(`${prefix}tab-claims:takeover`, 2);
      const remote = jest.fn();
      const held = ta.claim('chat', 'tab-2', remote);
      await waitFor('a generation for the new claim', () =>
        (held as unknown as { generation?: number }).generation !== undefined);
      tb.claim('chat', 'tab-2', jest.fn());
      await waitFor('cross-process takeover after the restart', () => remote.mock.calls.length === 1);

      expect(logs.log.mock.calls.some(([m]) => /connection is back/.test(String(m)))).toBe(true);
      expect(problems).toEqual([]);
    } finally {
      process.off('unhandledRejection', onProblem);
      process.off('uncaughtException', onProblem);
    }
  });

  it('uses clients it is given, and on close unsubscribes them without quitting them', async () => {
    const publisher = new Redis(server.url);
    const subscriber = publisher.duplicate();
    try {
      expect(() => new RedisPubSub({ publisher, secret: SECRET })).toThrow(/both `publisher` and `subscriber`/);
      expect(() => new RedisPubSub({ publisher, subscriber: publisher, secret: SECRET })).toThrow(/duplicate\(\)/);
      const given = new RedisPubSub({ publisher, subscriber, keyPrefix: prefix, secret: SECRET });
      const other = pubsub();
      const atGiven = collect(given, 'room');
      await waitForSubscribers(`${prefix}topic:room`, 1);
      await other.publish('room', event('hello'));
      await waitFor('the given subscriber to get it', () => atGiven.length === 1);
      await given.close();
      await waitForSubscribers(`${prefix}topic:room`, 0);
      expect(publisher.status).toBe('ready');
      expect(await publisher.ping()).toBe('PONG');
    } finally {
      await Promise.all([publisher.quit(), subscriber.quit()]);
    }
  });

  it('quits its connections on close, and a publish after close is a harmless no-op', async () => {
    const a = pubsub();
    const atA = collect(a, 'room');
    await waitForSubscribers(`${prefix}topic:room`, 1);
    const clients = async () =>
      String(await redisCommand((r) => r.client('LIST') as Promise<string>))
        .split('\n').filter((line) => line.includes('name=datastar-pubsub')).length;
    expect(await clients()).toBe(2);
    await a.close();
    await waitForSubscribers(`${prefix}topic:room`, 0);
    await waitFor('both connections to be gone', async () => (await clients()) === 0);
    await expect(a.publish('room', event('late'))).resolves.toBeUndefined();
    expect(atA).toEqual([]);
  });
  describe('signed messages', () => {
    it('a raw PUBLISH without the secret reaches no subscriber and is counted; a signed one from another process does', async () => {
      const a = pubsub();
      const other = pubsub();
      const atA = collect(a, 'room');
      const channel = `${prefix}topic:room`;
      await waitForSubscribers(channel, 1);
      const payload = JSON.stringify([event('<img src=x onerror=alert(1)>')]);
      const wrongKey = new RedisSigner('another-apps-secret'.padEnd(40, 'y'), new Logger('test'));
      const forged = [
        `someone ${payload}`, // the old, unsigned format
        payload,
        `${'A'.repeat(43)}.${Date.now().toString(36)} someone ${payload}`, // a made-up MAC
        wrongKey.sign(channel, `someone ${payload}`), // signed with another secret
        signer.sign(`${prefix}topic:elsewhere`, `someone ${payload}`), // signed for another channel
        signer.sign(channel, `someone ${payload}`, Date.now() - 5 * 60_000), // a replay, 5 minutes old
      ];
      for (const message of forged) await redisCommand((r) => r.publish(channel, message));
      await other.publish('room', event('signed'));
      await waitFor('the signed message', () => atA.length > 0);
      await sleep(50);
      expect(atA.map((e) => e.data)).toEqual(['signed']);
      expect(a.rejectedCount).toBe(forged.length);
      expect(other.rejectedCount).toBe(0);
      // Logged, but at most once per 10 s however many arrive.
      const warnings = logs.warn.mock.calls.map((call) => String(call[0])).filter((m) => m.includes('signature'));
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/Dropped 1 Redis message\(s\).*Redis ACLs/);
    });

    it('a forged takeover announcement ends no claim and is counted; a signed one does', async () => {
      const t1 = claims();
      const channel = `${prefix}tab-claims:takeover`;
      await waitForSubscribers(channel, 1);
      const onTakeover = jest.fn();
      const held = t1.claim('chat', 'tab-1', onTakeover, 'owner-1');
      await waitFor('a generation', () => (held as unknown as { generation?: number }).generation !== undefined);
      const body = `${Number.MAX_SAFE_INTEGER} ${JSON.stringify(['chat', 'tab-1', 'owner-1'])}`;
      await redisCommand((r) => r.publish(channel, body));
      await redisCommand((r) => r.publish(channel, `${'B'.repeat(43)}.${Date.now().toString(36)} ${body}`));
      await waitFor('both to be refused', () => t1.rejectedCount === 2);
      expect(onTakeover).not.toHaveBeenCalled();
      expect(held.live).toBe(true);
      await redisCommand((r) => r.publish(channel, signer.sign(channel, body)));
      await waitFor('the signed takeover', () => onTakeover.mock.calls.length === 1);
      expect(t1.rejectedCount).toBe(2);
    });

    it('refuses to start without a secret, or with a short one, saying what to set', () => {
      expect(() => new RedisPubSub({ url: server.url })).toThrow(/needs a secret.*pubsub: \{ redis: \{ url, secret: process\.env\.DATASTAR_REDIS_SECRET/);
      expect(() => new RedisTabClaims({ url: server.url })).toThrow(/needs a secret/);
      expect(() => new RedisPubSub({ url: server.url, secret: 'short' })).toThrow(/5 characters long: use at least 32/);
    });
  });
});
