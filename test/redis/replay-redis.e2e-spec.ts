import { Logger } from '@nestjs/common';
import { Redis } from 'ioredis';
import { DatastarPubSub } from 'nestjs-datastar';
import { ADAPTERS, startApp, type AdapterName, type TestApp } from '../core/fixtures/harness';
import { lastIdOf, numbered, numbersOf, ReplayAppModule } from '../streams/fixtures/replay.app';
import { eventually, setsSignal, SseStream } from '../streams/fixtures/sse-client';
import { RedisSigner } from '../../libs/datastar/src/redis/redis-signer';
import { RedisServer, requireRedisServer } from './redis-server';

const binary = requireRedisServer();
const describeRedis = binary ? describe : describe.skip;
const SECRET = 'replay-test-secret-'.padEnd(48, 'x');
const signer = new RedisSigner(SECRET, new Logger('test'));

/**
 * Replay through Redis Streams: two app instances (each with its own connections, as two
 * processes have) share one Redis; a stream that comes back to EITHER of them with
 * `Last-Event-ID` gets what any of them published meanwhile.
 */
describeRedis('replay by Last-Event-ID through Redis Streams (real redis-server)', () => {
  let server: RedisServer;
  let testNumber = 0;
  let topic: string;
  const apps: TestApp[] = [];
  const opened: SseStream[] = [];
  const start = async (adapter: AdapterName, keyPrefix: string, backlog?: { maxEvents: number }) => {
    const app = await startApp(ReplayAppModule.register({ pubsub: { redis: { url: server.url, keyPrefix, secret: SECRET }, backlog } }), adapter);
    apps.push(app);
    // Until its connections are up, an instance publishes to its own streams only, without ids.
    const redis = (app.app.get(DatastarPubSub) as unknown as { redis: Record<'publisher' | 'subscriber', Redis> }).redis;
    await eventually('the Redis connections', () => redis.publisher.status === 'ready' && redis.subscriber.status === 'ready');
    return app;
  };
  const open = async (app: TestApp, lastEventId?: string, path = '/ds/replay/topic') => {
    const stream = await SseStream.open(app.base, path, {
      signals: { topic },
      headers: lastEventId === undefined ? {} : { 'last-event-id': lastEventId },
    });
    opened.push(stream);
    return stream;
  };
  const pubsubOf = (app: TestApp) => app.app.get(DatastarPubSub);
  const subscribed = (app: TestApp, count: number) =>
    eventually(`${count} local subscriber(s) of ${topic}`, () => pubsubOf(app).subscriberCount(topic) === count);
  /** Redis has `count` subscriptions to the topic's channel (a fresh stream gets what is published after its own). */
  const listening = async (prefix: string, count: number) => {
    const admin = new Redis(server.url);
    try {
      await eventually(`${count} Redis subscriber(s) of ${topic}`, async () =>
        Number(((await admin.pubsub('NUMSUB', `${prefix}topic:${topic}`)) as [string, number])[1]) === count);
    } finally {
      admin.disconnect();
    }
  };

  beforeAll(async () => {
    server = await RedisServer.start(binary!);
  });
  beforeEach(() => (topic = `room-${++testNumber}`));
  afterEach(async () => {
    opened.splice(0).forEach((s) => s.close());
    await Promise.all(apps.splice(0).map((app) => app.close()));
  });
  afterAll(() => server?.dispose());

  it.each(ADAPTERS)('what A and B published while the stream was down replays on B, in order, once, then live (%s)', async (adapter) => {
    const prefix = `replay-${testNumber}:`;
    const [a, b] = [await start(adapter, prefix), await start(adapter, prefix)];
    const first = await open(a);
    await listening(prefix, 1);
    await pubsubOf(b).publish(topic, numbered(1));
    await first.until('n 1', () => numbersOf(first.events).at(-1) === 1);
    expect(lastIdOf(first.events)).toMatch(/^[\w-]+:\d+-\d+$/); // the Redis Streams id, tagged
    first.close();
    await subscribed(a, 0);
    for (let n = 2; n <= 7; n++) await pubsubOf(n % 2 ? a : b).publish(topic, numbered(n));
    const back = await open(b, lastIdOf(first.events));
    await subscribed(b, 1);
    await pubsubOf(a).publish(topic, numbered(8));
    await back.until('n 8', () => numbersOf(back.events).at(-1) === 8);
    expect(numbersOf(back.events)).toEqual([2, 3, 4, 5, 6, 7, 8]);
    expect(back.signalPatches().some((s) => 'resynced' in s)).toBe(false);
  });

  it('the backlog no longer reaches back (MAXLEN): resync, then live', async () => {
    const prefix = `replay-${testNumber}:`;
    const [a, b] = [await start('express', prefix, { maxEvents: 2 }), await start('express', prefix, { maxEvents: 2 })];
    const first = await open(a);
    await subscribed(a, 1);
    await pubsubOf(a).publish(topic, numbered(1));
    await first.until('n 1', () => numbersOf(first.events).at(-1) === 1);
    first.close();
    await subscribed(a, 0);
    // MAXLEN ~ trims whole nodes: enough entries that the first one is surely gone.
    for (let n = 2; n <= 400; n++) await pubsubOf(b).publish(topic, numbered(n));
    const back = await open(b, lastIdOf(first.events));
    await back.waitFor('the resync', setsSignal('resynced', topic));
    await subscribed(b, 1);
    await pubsubOf(a).publish(topic, numbered(401));
    await back.until('n 401', () => numbersOf(back.events).at(-1) === 401);
    expect(numbersOf(back.events)).toEqual([401]);
  });

  it.each([
    ['unsigned', () => 'forged [{"type":"datastar-patch-signals","data":"signals {\\"n\\":666}"}]'],
    // Signed with the app's secret long ago and added again now: its time no longer matches its new stream id.
    ['an old signed one copied', (channel: string) => signer.sign(channel, `other-process ${JSON.stringify([numbered(666)])}`, Date.now() - 120_000)],
  ])('an entry someone else put in the stream (%s) is never replayed: resync, counted', async (_, entry) => {
    const prefix = `replay-${testNumber}:`;
    const a = await start('express', prefix);
    const first = await open(a);
    await listening(prefix, 1);
    await pubsubOf(a).publish(topic, numbered(1));
    await first.until('n 1', () => numbersOf(first.events).at(-1) === 1);
    first.close();
    await subscribed(a, 0);
    const admin = new Redis(server.url);
    try {
      await admin.xadd(`${prefix}backlog:${topic}`, '*', 'm', entry(`${prefix}topic:${topic}`));
    } finally {
      admin.disconnect();
    }
    const rejected = pubsubOf(a).rejectedCount;
    const back = await open(a, lastIdOf(first.events));
    await back.waitFor('the resync', setsSignal('resynced', topic));
    expect(numbersOf(back.events)).toEqual([]);
    expect(pubsubOf(a).rejectedCount).toBe(rejected + 1);
  });

  it('exactly once across reconnects to either process while both keep publishing', async () => {
    const prefix = `replay-${testNumber}:`;
    const [a, b] = [await start('fastify', prefix), await start('express', prefix)];
    const TOTAL = 300;
    let stream = await open(a);
    await listening(prefix, 1);
    let published = 0;
    const publishing = (async () => {
      while (published < TOTAL) {
        const n = ++published;
        await pubsubOf(n % 2 ? a : b).publish(topic, numbered(n));
      }
    })();
    const received: number[] = [];
    let reconnects = 0;
    for (;;) {
      const wanted = Math.min(TOTAL, (received.at(-1) ?? 0) + 15);
      await stream.until(`n ${wanted} (after ${received.length} events, ${reconnects} reconnects)`, () => (numbersOf(stream.events).at(-1) ?? 0) >= wanted, 10_000);
      stream.close();
      await stream.ended;
      received.push(...numbersOf(stream.events));
      if (received.at(-1) === TOTAL || ++reconnects > 100) break;
      stream = await open(reconnects % 2 ? b : a, lastIdOf(stream.events));
    }
    await publishing;
    expect(reconnects).toBeGreaterThan(5);
    expect(received).toEqual(Array.from({ length: TOTAL }, (_, i) => i + 1));
  });
});
