/**
 * Live views on several processes (issue 11, item 4): two app instances, each with its own Redis
 * connections (as two processes have), share a real redis-server and nothing else. Any request
 * may land on either: events and navigation that land on the process that does not hold the
 * session are forwarded to the one that does; the stream takes the session where it opens. Counts
 * stay exact, effects keep their order, nothing is lost or applied twice.
 */
import { Logger, Module, type DynamicModule } from '@nestjs/common';
import { Redis } from 'ioredis';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { join } from 'node:path';
import { DatastarModule, LiveSessionsService, type DatastarLiveOptions } from 'nestjs-datastar';
import { LiveCluster } from '../../libs/datastar/src/live/live-cluster';
import { RedisSigner } from '../../libs/datastar/src/redis/redis-signer';
import { RedisServer, requireRedisServer } from '../redis/redis-server';
import {
  eventually, liveHeaders, parseEvents, postEvent, postNav, readLivePage, sidOf, SseReader, startApp, streamHeaders,
  type LivePage, type LiveTestApp, type Sse,
} from './fixtures/http';
import { ALL_VIEWS, probe, ProbeGuard } from './fixtures/live.app';

const binary = requireRedisServer();
const describeRedis = binary ? describe : describe.skip;
const ADAPTERS = [
  ['express', () => undefined],
  ['fastify', () => new FastifyAdapter()],
] as const;

@Module({})
class ClusterAppModule {
  static register(url: string, keyPrefix: string, live: DatastarLiveOptions = {}): DynamicModule {
    return {
      module: ClusterAppModule,
      imports: [
        DatastarModule.forRoot({
          views: join(__dirname, 'fixtures', 'views'),
          live: { secret: 'x'.repeat(40), ...live },
          pubsub: { redis: { url, keyPrefix, secret: 'r'.repeat(40) } },
          exposeErrors: true,
        }),
      ],
      providers: [ProbeGuard],
      controllers: ALL_VIEWS,
    };
  }
}

/** The signals of the patches in `events`, merged in order (what the browser ends up with). */
const signalsOf = (events: Sse[]) => Object.assign({}, ...events.filter((e) => e.signals).map((e) => e.signals));
/** The counts a stream showed, in order. */
const countsIn = (events: Sse[]) => events.filter((e) => typeof e.signals?.count === 'number').map((e) => e.signals!.count as number);

describeRedis.each(ADAPTERS)('live views on two processes sharing Redis (%s)', (_name, adapter) => {
  let server: RedisServer;
  let run = 0;
  const apps: LiveTestApp[] = [];
  const readers: SseReader[] = [];

  beforeAll(async () => {
    server = await RedisServer.start(binary!);
  });
  afterAll(() => server.dispose());
  beforeEach(() => probe.reset());
  afterEach(async () => {
    await Promise.all(readers.splice(0).map((r) => r.cancel()));
    await Promise.all(apps.splice(0).map((t) => t.close()));
  });

  /** Two instances of the app on their own prefix (tests do not see each other's sessions). */
  async function pair(live: DatastarLiveOptions = {}): Promise<[LiveTestApp, LiveTestApp]> {
    const prefix = `cluster${++run}:`;
    const started: LiveTestApp[] = [];
    for (let i = 0; i < 2; i++) {
      const t = await startApp(ClusterAppModule.register(server.url, prefix, live), adapter());
      apps.push(t);
      started.push(t);
      const connection = t.app.get(LiveCluster).connection!;
      await eventually(() => connection.publisher.status === 'ready' && connection.subscriber.status === 'ready');
    }
    return started as [LiveTestApp, LiveTestApp];
  }

  async function page(t: LiveTestApp, path = '/live/counter'): Promise<LivePage> {
    const res = await t.fetch(path);
    expect(res.status).toBe(200);
    return readLivePage(await res.text());
  }

  async function stream(t: LiveTestApp, token: string): Promise<SseReader> {
    const res = await t.fetch('/ds/_stream', { headers: streamHeaders(token), signal: undefined });
    expect(res.status).toBe(200);
    const reader = new SseReader(res);
    readers.push(reader);
    return reader;
  }

  const where = (t: LiveTestApp, sid: string) => t.app.get(LiveSessionsService).get(sid);

  it('the stream on B takes the session the page made on A; events round-robined over A and B count exactly, in order', async () => {
    const [a, b] = await pair();
    const p = await page(a);
    const sid = sidOf(p.token);
    expect(where(a, sid)).toBeDefined();
    const reader = await stream(b, p.token);
    await reader.until((e) => e.signals?.count === 0);
    expect(where(a, sid)).toBeUndefined(); // handed over: the session lives on B only
    expect(where(b, sid)).toMatchObject({ route: '/live/counter', connected: true });

    // One at a time, alternating: each answered 204 (its patch went down B's stream), each counted once, in order.
    for (let n = 0; n < 10; n++) {
      expect((await postEvent(n % 2 ? b : a, '/live/counter', 'increment', p.token)).status).toBe(204);
    }
    // Many at once, alternating: all applied, none twice.
    const burst = await Promise.all(
      Array.from({ length: 30 }, (_, n) => postEvent(n % 2 ? b : a, '/live/counter', 'increment', p.token)),
    );
    expect(burst.map((r) => r.status)).toEqual(Array(30).fill(204));
    const seen = await reader.until((e) => e.signals?.count === 40);
    expect(countsIn(seen)).toEqual(Array.from({ length: 40 }, (_, n) => n + 1));
    expect(probe.mounts.filter((m) => m.id === sid)).toHaveLength(1);
  });

  it('ownership moves mid-session (the stream reopens on the other process): effects stay ordered and exactly-once', async () => {
    const [a, b] = await pair();
    const p = await page(a);
    const sid = sidOf(p.token);
    await stream(a, p.token);
    await eventually(() => where(a, sid)?.connected === true);

    // Slow events in sequence, alternating processes, while the stream moves to B and back to A.
    const slow = (t: LiveTestApp, tag: number) =>
      t.fetch('/live/counter/_event/slow', { method: 'POST', headers: liveHeaders(p.token), body: JSON.stringify({ tag, ms: 5 }) });
    const moves: Array<Promise<SseReader>> = [];
    for (let n = 0; n < 12; n++) {
      if (n === 4) moves.push(stream(b, p.token)); // concurrently with the event in flight
      if (n === 8) moves.push(stream(a, p.token));
      const res = await slow(n % 2 ? a : b, n);
      expect([200, 204]).toContain(res.status);
    }
    const [, back] = await Promise.all(moves);
    await eventually(() => where(a, sid)?.connected === true && where(b, sid) === undefined);

    // Concurrent clicks on both while the stream moves once more: every one counted once.
    const clicks = Array.from({ length: 20 }, (_, n) => postEvent(n % 2 ? a : b, '/live/counter', 'increment', p.token));
    const last = stream(b, p.token);
    const statuses = (await Promise.all(clicks)).map((r) => r.status);
    expect(statuses.every((s) => s === 200 || s === 204)).toBe(true);
    const final = await last;
    await eventually(() => where(b, sid)?.connected === true);
    expect((await postEvent(a, '/live/counter', 'increment', p.token)).status).toBe(204);
    const state = signalsOf(await final.until((e) => e.signals?.count === 21));
    expect(state.count).toBe(21);
    // The whole state came first (the stream may have missed anything): the trail is there, in send order.
    expect(state.trail).toEqual(Array.from({ length: 12 }, (_, n) => String(n)));
    expect(await back.ended()).toBe(true); // the session left A: A's stream ended
    expect(probe.terminated.filter((e) => e.id === sid).map((e) => e.reason)).toEqual(['moved', 'moved', 'moved']);
  });

  it('navigation landing on the other process: its guards run there, the owner mounts the view, a late click on the old view gets 409', async () => {
    const [a, b] = await pair();
    const p = await page(a, '/live/a');
    const sid = sidOf(p.token);
    const reader = await stream(a, p.token);
    await eventually(() => where(a, sid)?.connected === true);

    expect((await postNav(b, p.token, { to: '/live/b' })).status).toBe(204);
    await reader.until((e) => e.signals?.onB === true);
    expect(where(a, sid)).toMatchObject({ route: '/live/b', connected: true });
    expect(where(b, sid)).toBeUndefined();

    const guarded = await postNav(b, p.token, { to: '/live/guarded' });
    expect(guarded.status).toBe(204);
    await reader.until((e) => e.lines.some((l) => l.includes('id="guarded"')));
    expect(probe.guardCalls).toBe(1);
    expect(where(a, sid)).toMatchObject({ route: '/live/guarded' });

    // A refusal of the owner comes back as it is: the token is for /live/a, the session left it.
    const stale = await b.fetch('/live/a/_event/bump', { method: 'POST', headers: liveHeaders(p.token), body: '{}' });
    expect(stale.status).toBe(409);
    expect(probe.mounts.filter((m) => m.id === sid).map((m) => m.view)).toEqual(['a', 'b']);
  });

  it('a forwarded request delivered twice (a retry after its answer was lost) runs once, even after the session moved', async () => {
    const [a, b] = await pair();
    const p = await page(a);
    const sid = sidOf(p.token);
    const reader = await stream(a, p.token);
    await eventually(() => where(a, sid)?.connected === true);
    const admin = new Redis(server.url);
    const signer = new RedisSigner('r'.repeat(40), new Logger('test'));
    const prefix = `cluster${run}:live:`;
    // What B sends A for a click, as B would send it again: same request id.
    const deliver = (to: LiveTestApp, key: string) => {
      const channel = `${prefix}process:${to.app.get(LiveCluster).id}`;
      const request = { op: 'event', sid, rid: 'retried-1', route: '/live/counter', path: '/live/counter', name: 'increment', signals: {} };
      return admin.publish(channel, signer.sign(channel, JSON.stringify({ t: 'req', from: 'nobody', key, request })));
    };
    /** A marker event after them: what the stream shows before it is what they did. */
    const marker = (t: LiveTestApp, tag: string) =>
      t.fetch('/live/counter/_event/slow', { method: 'POST', headers: liveHeaders(p.token), body: JSON.stringify({ tag, ms: 1 }) });
    try {
      expect(await deliver(a, '1')).toBe(1);
      expect(await deliver(a, '2')).toBe(1);
      expect((await marker(b, 'first')).status).toBe(204);
      expect(countsIn(await reader.until((e) => Array.isArray(e.signals?.trail)))).toEqual([1]);

      // The session moves to B (its stream opens there): the id came with it, in the stored state.
      const moved = await stream(b, p.token);
      await moved.until((e) => e.signals?.count === 1);
      expect(await deliver(b, '3')).toBe(1);
      expect((await marker(a, 'second')).status).toBe(204);
      expect(countsIn(await moved.until((e) => (e.signals?.trail as string[] | undefined)?.length === 2))).toEqual([]);
    } finally {
      admin.disconnect();
    }
  });

  it('the owner closes (a deploy): the other process takes the session from the store, count kept', async () => {
    const [a, b] = await pair();
    const p = await page(a);
    const sid = sidOf(p.token);
    const reader = await stream(a, p.token);
    for (let n = 1; n <= 3; n++) expect((await postEvent(b, '/live/counter', 'increment', p.token)).status).toBe(204);
    await reader.until((e) => e.signals?.count === 3);
    await a.close();
    apps.splice(apps.indexOf(a), 1);

    // No stream open: the click is applied on B and its patch comes back in its own answer.
    const answer = await postEvent(b, '/live/counter', 'increment', p.token);
    expect(answer.status).toBe(200);
    expect(signalsOf(parseEvents(await answer.text()))).toMatchObject({ count: 4 });
    const again = await stream(b, p.token);
    expect(signalsOf(await again.until((e) => e.signals?.count === 4))).toMatchObject({ count: 4 });
    expect(where(b, sid)).toMatchObject({ connected: true });
    expect(probe.mounts.filter((m) => m.id === sid)).toHaveLength(1);
  });
});
