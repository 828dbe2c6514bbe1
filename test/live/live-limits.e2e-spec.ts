/**
 * Live sessions cannot be exhausted: sessions waiting for their stream are capped (in total and
 * per client: 429 with Retry-After), run no timer, subscription or handleInfo until the stream
 * attaches, are dropped after idleTimeoutMs, and a session never keeps signals over maxSignalBytes.
 */
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { DatastarPubSub, LiveSessionsService } from 'nestjs-datastar';
import {
  eventually, openLive, postEvent, readLivePage, sidOf, sleep, SseReader, startApp, streamHeaders, type LiveTestApp,
} from './fixtures/http';
import { LiveAppModule, probe } from './fixtures/live.app';

const IDLE_MS = 2000;

describe.each(['express', 'fastify'])('live session limits (%s)', (adapter) => {
  let t: LiveTestApp;
  let sessions: LiveSessionsService;
  beforeAll(async () => {
    const module = LiveAppModule.register({
      maxPendingSessions: 6,
      maxPendingPerClient: 3,
      idleTimeoutMs: IDLE_MS,
      // Loopback is one address for every test client: a header tells them apart.
      clientKey: (req) => req.headers['x-client'] ?? req.ip,
    });
    t = await startApp(module, adapter === 'fastify' ? new FastifyAdapter() : undefined);
    sessions = t.app.get(LiveSessionsService);
  });
  afterAll(() => t.close());
  beforeEach(async () => {
    await sessions.terminateAll(); // frees every waiting slot
    probe.reset();
  });

  const load = (path: string, client: string) => t.fetch(path, { headers: { 'x-client': client } });
  const tokenOf = async (res: Response) => readLivePage(await res.text()).token;

  async function expect429(res: Response, scope: RegExp) {
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe(String(IDLE_MS / 1000));
    expect(res.headers.get('content-type')).not.toContain('text/event-stream');
    expect((await res.json()).message).toMatch(scope);
  }

  it('past maxPendingPerClient a page GET gets 429 with Retry-After; another client is not blocked; an opened stream frees a slot', async () => {
    const before = probe.mounts.length;
    const tokens: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await load('/live/counter', 'a');
      expect(res.status).toBe(200);
      tokens.push(await tokenOf(res));
    }
    await expect429(await load('/live/counter', 'a'), /waiting for their stream from this client: retry in 2 s/);
    expect(probe.mounts.length - before).toBe(3); // the refused one mounted nothing
    expect((await load('/live/counter', 'b')).status).toBe(200);
    expect(sessions.count()).toBe(4);

    // The stream of one of a's pages attaches: that session no longer waits, a has a slot again.
    const stream = new SseReader(await t.fetch('/ds/_stream', { headers: streamHeaders(tokens[0]) }));
    await eventually(() => sessions.get(sidOf(tokens[0]))?.connected === true);
    expect((await load('/live/counter', 'a')).status).toBe(200);
    await expect429(await load('/live/counter', 'a'), /from this client/);
    await stream.cancel();
  });

  it('past maxPendingSessions every client gets 429 with Retry-After; an ended session frees its slot', async () => {
    const tokens: string[] = [];
    for (const client of ['c', 'c', 'd', 'd', 'e', 'e']) {
      const res = await load('/live/counter', client);
      expect(res.status).toBe(200);
      tokens.push(await tokenOf(res));
    }
    await expect429(await load('/live/counter', 'f'), /waiting for their stream on this server: retry in 2 s/);
    // Stateless views keep no session: never refused.
    expect((await load('/live/stateless', 'f')).status).toBe(200);
    await sessions.terminate(sidOf(tokens[0]));
    expect((await load('/live/counter', 'f')).status).toBe(200);
  });

  it('a session whose stream never opened runs no timer, subscription or handleInfo, and is dropped after idleTimeoutMs', async () => {
    const pubsub = t.app.get(DatastarPubSub);
    const timer = sidOf(await tokenOf(await load('/live/timer', 'g')));
    const ordered = sidOf(await tokenOf(await load('/live/ordered', 'g')));
    expect(sessions.send(timer, 'tick')).toBe(true); // accepted, held for the stream
    await pubsub.publish('ordered', { data: { n: 1 } });
    await sleep(150); // 15 intervals of the timer view's 10 ms sendEvery
    expect(probe.ticks.get(timer)).toBeUndefined();
    expect(probe.infos).toEqual([]);
    expect(pubsub.subscriberCount('ordered')).toBe(0);
    expect(sessions.get(timer)?.state).toBe('pending');

    await eventually(() => sessions.get(timer) === undefined && sessions.get(ordered) === undefined, IDLE_MS + 3000);
    expect(probe.terminated).toEqual([{ view: 'timer', id: timer, reason: 'idle' }]);
    expect(probe.ticks.get(timer)).toBeUndefined();
  });

  it('once the stream attaches, timers, subscriptions and the messages held for it reach handleInfo', async () => {
    const pubsub = t.app.get(DatastarPubSub);
    const timer = readLivePage(await (await load('/live/timer', 'h')).text());
    const reader = new SseReader(await t.fetch('/ds/_stream', { headers: streamHeaders(timer.token) }));
    await reader.until((e) => Number(e.signals?.ticks) >= 3);
    expect(probe.ticks.get(sidOf(timer.token))).toBeGreaterThanOrEqual(3);
    await reader.cancel();

    const ordered = readLivePage(await (await load('/live/ordered', 'h')).text());
    const sid = sidOf(ordered.token);
    expect(sessions.send(sid, { topic: 'direct', event: { data: { n: 5 } } })).toBe(true);
    const stream = new SseReader(await t.fetch('/ds/_stream', { headers: streamHeaders(ordered.token) }));
    await stream.until((e) => e.signals?.last === 5); // the held message, first thing after the attach
    await eventually(() => pubsub.subscriberCount('ordered') === 1);
    await pubsub.publish('ordered', { data: { n: 7 } });
    await stream.until((e) => e.signals?.last === 7);
    expect(probe.infos.filter((i) => i.id === sid && i.phase === 'start').map((i) => i.n)).toEqual([5, 7]);
    await stream.cancel();
  });

  it('an event whose signals would exceed maxSignalBytes gets 413; the session keeps its state', async () => {
    const { page, reader, sid } = await openLive(t, '/live/counter');
    const wide = { count: 5, profile: { name: 'eve', tags: Array.from({ length: 700 }, () => 'x'.repeat(100)) } }; // ~72 KB
    const refused = await postEvent(t, '/live/counter', 'increment', page.token, wide);
    expect(refused.status).toBe(413);
    expect(refused.headers.get('content-type')).not.toContain('text/event-stream');
    expect((await refused.json()).message).toMatch(/over live\.maxSignalBytes \(65536\): keep large data on the server/);
    // 900 KB in one signal (under the 1 MiB body limit): refused as well.
    const huge = await postEvent(t, '/live/counter', 'increment', page.token, { count: 1, profile: { name: 'x'.repeat(900_000) } });
    expect(huge.status).toBe(413);

    // A new stream gets the whole state: what mount() set, nothing of the refused events.
    const again = new SseReader(await t.fetch('/ds/_stream', { headers: streamHeaders(page.token) }));
    const [signals] = await again.until((e) => e.signals !== undefined);
    expect(signals.signals).toEqual({ count: 0, profile: { name: 'ann', tags: ['a'] }, _lv: page.token });
    expect(sessions.get(sid)?.state).toBe('connected');
    // Signals under the limit are taken as before.
    expect((await postEvent(t, '/live/counter', 'increment', page.token, { count: 41 })).status).toBe(204);
    expect((await again.until((e) => e.signals !== undefined)).pop()!.signals).toEqual({ count: 42 });
    await again.cancel();
    await reader.cancel();
  });
});

describe('live session limits: defaults', () => {
  it('a client may hold 50 sessions waiting for their stream; the 51st page GET gets 429', async () => {
    const t = await startApp(LiveAppModule.register());
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 51; i++) statuses.push((await t.fetch('/live/a')).status);
      expect(statuses.slice(0, 50).every((s) => s === 200)).toBe(true);
      expect(statuses[50]).toBe(429);
      const res = await t.fetch('/live/a');
      expect(res.headers.get('retry-after')).toBe('15');
    } finally {
      await t.close();
    }
  });
});
