import { Redis } from 'ioredis';
import { DatastarPubSub } from 'nestjs-datastar';
import { ADAPTERS, startApp, type AdapterName, type TestApp } from '../core/fixtures/harness';
import { lastIdOf, numbered, numbersOf, ReplayAppModule } from '../streams/fixtures/replay.app';
import { eventually, SseStream } from '../streams/fixtures/sse-client';
import { RedisServer, requireRedisServer } from './redis-server';

const binary = requireRedisServer();
const describeRedis = binary ? describe : describe.skip;
const SECRET = 'open-position-test-secret-'.padEnd(48, 'x');

/** The Redis Streams id at the end of one of our ids (`<tag>:<ms>-<seq>`). */
const streamIdOf = (id: string) => id.slice(id.lastIndexOf(':') + 1);
const compareStreamIds = (a: string, b: string) => {
  const [a1, a2] = a.split('-').map(Number);
  const [b1, b2] = b.split('-').map(Number);
  return a1 - b1 || a2 - b2;
};

/**
 * With Redis, a stream that opens without `Last-Event-ID` gets its topic's position as its first
 * `id:` once the topic's subscription is confirmed: the last entry of the topic's Redis Stream,
 * or an anchor entry the open adds when there is none, so any process replays from it.
 */
describeRedis('the topic position on open, through Redis Streams (real redis-server)', () => {
  let server: RedisServer;
  let admin: Redis;
  let testNumber = 0;
  let topic: string;
  let prefix: string;
  const apps: TestApp[] = [];
  const opened: SseStream[] = [];
  const start = async (adapter: AdapterName = 'express') => {
    const app = await startApp(ReplayAppModule.register({ pubsub: { redis: { url: server.url, keyPrefix: prefix, secret: SECRET } } }), adapter);
    apps.push(app);
    const redis = (app.app.get(DatastarPubSub) as unknown as { redis: Record<'publisher' | 'subscriber', Redis> }).redis;
    await eventually('the Redis connections', () => redis.publisher.status === 'ready' && redis.subscriber.status === 'ready');
    return app;
  };
  const open = async (app: TestApp, lastEventId?: string) => {
    const stream = await SseStream.open(app.base, '/ds/replay/topic', {
      signals: { topic },
      headers: lastEventId === undefined ? {} : { 'last-event-id': lastEventId },
    });
    opened.push(stream);
    return stream;
  };
  const pubsubOf = (app: TestApp) => app.app.get(DatastarPubSub);
  const subscribed = (app: TestApp, count: number) =>
    eventually(`${count} local subscriber(s) of ${topic}`, () => pubsubOf(app).subscriberCount(topic) === count);
  /** The stream's first block: an id alone, naming a Redis Streams id. */
  const positionOf = async (stream: SseStream) => {
    const first = await stream.until('the position', () => stream.events[0]);
    expect(first).toEqual({ id: expect.stringMatching(/^[\w-]+:\d+-\d+$/), data: [] });
    return first.id!;
  };
  const backlog = () => admin.xrange(`${prefix}backlog:${topic}`, '-', '+');

  beforeAll(async () => {
    server = await RedisServer.start(binary!);
    admin = new Redis(server.url);
  });
  beforeEach(() => {
    topic = `room-${++testNumber}`;
    prefix = `open-${testNumber}:`;
  });
  afterEach(async () => {
    opened.splice(0).forEach((s) => s.close());
    await Promise.all(apps.splice(0).map((app) => app.close()));
  });
  afterAll(async () => {
    admin?.disconnect();
    await server?.dispose();
  });

  it.each(ADAPTERS)('a topic with nothing yet: one anchor entry; back on another process, the stream gets the first publications (%s)', async (adapter) => {
    const [a, b] = [await start(adapter), await start(adapter)];
    const first = await open(a);
    const position = await positionOf(first);
    expect(await positionOf(await open(b))).toBe(position); // the anchor is the position of every stream opening now
    expect((await backlog()).map(([id]) => id)).toEqual([streamIdOf(position)]);
    // An anchor alone lives 5 minutes, not the backlog's hour: opens cannot pile keys up.
    const ttl = await admin.pttl(`${prefix}backlog:${topic}`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(5 * 60_000);
    opened.splice(0).forEach((s) => s.close());
    await Promise.all([subscribed(a, 0), subscribed(b, 0)]);
    for (let n = 1; n <= 3; n++) await pubsubOf(n % 2 ? a : b).publish(topic, numbered(n));
    const back = await open(b, position);
    await subscribed(b, 1);
    await pubsubOf(a).publish(topic, numbered(4));
    await back.until('n 4', () => numbersOf(back.events).at(-1) === 4);
    expect(numbersOf(back.events)).toEqual([1, 2, 3, 4]);
    expect(back.signalPatches().some((s) => 'resynced' in s)).toBe(false);
  });

  it('a topic published before: the id is its last entry, and a stream back with it gets what came after', async () => {
    const [a, b] = [await start(), await start()];
    await pubsubOf(b).publish(topic, numbered(1));
    const first = await open(a);
    const position = await positionOf(first);
    const entries = await backlog();
    expect(entries.map(([id]) => id)).toEqual([streamIdOf(position)]); // no anchor: the topic had a position
    first.close();
    await subscribed(a, 0);
    await pubsubOf(b).publish(topic, numbered(2));
    const back = await open(a, position);
    await back.until('n 2', () => numbersOf(back.events).at(-1) === 2);
    expect(numbersOf(back.events)).toEqual([2]);
  });

  it('a publication that arrives while the position is read goes out after it, with its newer id', async () => {
    const [a, b] = [await start(), await start()];
    await pubsubOf(b).publish(topic, numbered(0));
    // A's position read gets its reply; before A sees it, B publishes and A receives that (a newer id).
    const pubsubA = pubsubOf(a) as unknown as { redis: { publisher: Redis }; delivered: Map<string, string> };
    const publisher = pubsubA.redis.publisher;
    const evaluate = publisher.eval.bind(publisher) as (...args: unknown[]) => Promise<unknown>;
    let raced = false;
    (publisher as unknown as { eval: (...args: unknown[]) => Promise<unknown> }).eval = async (...args) => {
      const reply = await evaluate(...args);
      if (!raced && String(args[0]).includes('XREVRANGE')) {
        raced = true;
        await pubsubOf(b).publish(topic, numbered(1));
        await eventually('A received n 1', () => pubsubA.delivered.has(topic));
      }
      return reply;
    };
    const stream = await open(a);
    const position = await positionOf(stream);
    await stream.until('n 1', () => numbersOf(stream.events).at(-1) === 1);
    expect(raced).toBe(true);
    expect(numbersOf(stream.events)).toEqual([1]);
    const newer = lastIdOf(stream.events)!;
    expect(stream.events.map((e) => e.id)).toEqual([position, newer]);
    expect(compareStreamIds(streamIdOf(newer), streamIdOf(position))).toBeGreaterThan(0);
    // The client resumes after n 1: nothing twice.
    stream.close();
    await subscribed(a, 0);
    await pubsubOf(b).publish(topic, numbered(2));
    const back = await open(a, newer);
    await back.until('n 2', () => numbersOf(back.events).at(-1) === 2);
    expect(numbersOf(back.events)).toEqual([2]);
  });

  it('no id with backlog: false', async () => {
    const app = await startApp(ReplayAppModule.register({ pubsub: { redis: { url: server.url, keyPrefix: prefix, secret: SECRET }, backlog: false } }), 'express');
    apps.push(app);
    const stream = await open(app);
    await subscribed(app, 1);
    const redis = (pubsubOf(app) as unknown as { redis: { isListening(channel: string): boolean } }).redis;
    await eventually('the subscription', () => redis.isListening(`${prefix}topic:${topic}`));
    await pubsubOf(app).publish(topic, numbered(1));
    await stream.until('n 1', () => numbersOf(stream.events).at(-1) === 1);
    expect(stream.events.map((e) => e.id)).toEqual([undefined]);
    expect(await admin.exists(`${prefix}backlog:${topic}`)).toBe(0);
  });
});
