import { DatastarPubSub, LiveSessionsService, patchElements } from 'nestjs-datastar';
import {
  eventually, openLive, postEvent, readLivePage, sidOf, sleep, SseReader, startApp, type LiveTestApp, streamHeaders,
} from './fixtures/http';
import { LiveAppModule, probe } from './fixtures/live.app';

describe('live session lifecycle', () => {
  let t: LiveTestApp;
  let sessions: LiveSessionsService;
  beforeAll(async () => {
    // One test client opens 1,000 pages: above the default cap of sessions waiting per client.
    t = await startApp(LiveAppModule.register({ idleTimeoutMs: 300, graceMs: 250, maxPendingPerClient: 2000 }));
    sessions = t.app.get(LiveSessionsService);
  });
  afterAll(() => t.close());
  beforeEach(() => probe.reset());

  it('1,000 sessions whose stream never opens are all reaped after idleTimeoutMs', async () => {
    const start = sessions.count();
    const sids: string[] = [];
    const paths = ['/live/counter', '/live/timer', '/live/ordered', '/live/b'];
    for (let batch = 0; batch < 20; batch++) {
      const pages = await Promise.all(
        Array.from({ length: 50 }, (_, i) => t.fetch(paths[(batch * 50 + i) % paths.length]).then((r) => r.text())),
      );
      sids.push(...pages.map((html) => sidOf(readLivePage(html).token)));
    }
    expect(new Set(sids).size).toBe(1000);
    expect(sessions.count()).toBeGreaterThan(start); // some may already be reaped: the batches take time
    await eventually(() => sessions.count() === start, 5000);
    // Every view's terminate() ran with 'idle' (the counter, timer and B views record it).
    const recorded = probe.terminated.filter((e) => sids.includes(e.id));
    expect(recorded).toHaveLength(750);
    expect(recorded.every((e) => e.reason === 'idle')).toBe(true);
    // Their timers died with them: no tick after the reaping.
    const ticks = [...probe.ticks.values()].reduce((a, b) => a + b, 0);
    await sleep(60);
    expect([...probe.ticks.values()].reduce((a, b) => a + b, 0)).toBe(ticks);
  });

  it('a dropped stream ends the session after graceMs, not before', async () => {
    const { reader, sid } = await openLive(t, '/live/counter');
    await eventually(() => sessions.get(sid)?.connected === true);
    await reader.cancel();
    await eventually(() => sessions.get(sid)?.state === 'disconnected');
    await sleep(100);
    expect(sessions.get(sid)?.state).toBe('disconnected');
    expect(probe.terminated).toEqual([]);
    await eventually(() => sessions.get(sid) === undefined, 2000);
    expect(probe.terminated).toEqual([{ view: 'counter', id: sid, reason: 'disconnect', count: 0 }]);
  });

  it('a stream back within graceMs keeps the session and gets the whole state again', async () => {
    const { page, reader, sid } = await openLive(t, '/live/counter');
    await postEvent(t, '/live/counter', 'increment', page.token, {});
    expect((await reader.next())!.signals).toEqual({ count: 1 });
    await reader.cancel();
    await eventually(() => sessions.get(sid)?.state === 'disconnected');
    // Meanwhile an event is answered in its own response.
    expect((await postEvent(t, '/live/counter', 'increment', page.token, {})).status).toBe(200);
    const again = new SseReader(await fetch(`${t.base}/ds/_stream`, { headers: streamHeaders(page.token) }));
    const [signals, root] = [await again.next(), await again.next()];
    expect(signals!.signals).toEqual({ count: 2, profile: { name: 'ann', tags: ['a'] }, _lv: page.token });
    expect(root!.get('selector')).toBe('#ds-live-root');
    expect(root!.get('elements')).toContain('<span id="label">Count</span>');
    await sleep(300); // past graceMs: still alive
    expect(sessions.get(sid)?.state).toBe('connected');
    expect(probe.terminated).toEqual([]);
    await again.cancel();
  });

  it('a second stream for the session replaces the first', async () => {
    const { page, reader, sid } = await openLive(t, '/live/counter');
    const second = new SseReader(await fetch(`${t.base}/ds/_stream`, { headers: streamHeaders(page.token) }));
    expect(await reader.ended()).toBe(true);
    await postEvent(t, '/live/counter', 'increment', page.token, {});
    // The newer stream starts with the whole state, then the increment.
    const events = await second.until((e) => e.signals?.count === 1);
    expect(events.length).toBeGreaterThanOrEqual(1);
    expect(sessions.get(sid)?.state).toBe('connected');
    await second.cancel();
  });

  it('timers (sendEvery, sendAfter) stop when the session terminates', async () => {
    const { reader, sid } = await openLive(t, '/live/timer');
    await reader.until((e) => Number(e.signals?.ticks) >= 3);
    expect(await sessions.terminate(sid)).toBe(true);
    expect(await reader.ended()).toBe(true);
    const ticks = probe.ticks.get(sid);
    await sleep(80); // 8 intervals of 10 ms
    expect(probe.ticks.get(sid)).toBe(ticks);
    // Only this session: the previous test's session may end (its grace period) while this one runs.
    expect(probe.terminated.filter((t) => t.id === sid)).toEqual([{ view: 'timer', id: sid, reason: 'terminated' }]);
    expect(await sessions.terminate(sid)).toBe(false);
  });

  it('handleInfo runs one message at a time per session, in publication order, under concurrent publishers', async () => {
    const pubsub = t.app.get(DatastarPubSub);
    const one = await openLive(t, '/live/ordered');
    const two = await openLive(t, '/live/ordered');
    const published: number[] = [];
    await Promise.all(
      Array.from({ length: 120 }, async (_, n) => {
        await sleep(Math.floor(Math.random() * 6));
        published.push(n);
        await pubsub.publish('ordered', { data: { n } });
      }),
    );
    for (const { sid, reader } of [one, two]) {
      await reader.until((e) => e.signals?.last === published[published.length - 1], 5000);
      const mine = probe.infos.filter((i) => i.id === sid);
      // start/end strictly alternate: never two callbacks of one session at once
      expect(mine.map((i) => i.phase)).toEqual(published.flatMap(() => ['start', 'end']));
      expect(mine.filter((i) => i.phase === 'start').map((i) => i.n)).toEqual(published);
      await reader.cancel();
    }
  });

  it('forwarded publications reach the stream as they are; LiveSessionsService.send reaches handleInfo', async () => {
    const pubsub = t.app.get(DatastarPubSub);
    const { reader, sid } = await openLive(t, '/live/ordered');
    await pubsub.publish('forwarded', patchElements('<p id="news">hi</p>'));
    expect((await reader.next())!.get('elements')).toBe('<p id="news">hi</p>');
    expect(sessions.send(sid, { topic: 'direct', event: { data: { n: 7 } } })).toBe(true);
    expect((await reader.until((e) => e.signals !== undefined))[0].signals).toEqual({ last: 7 });
    expect(sessions.send('nope', 1)).toBe(false);
    const info = sessions.get(sid)!;
    expect(info).toMatchObject({ route: '/live/ordered', path: '/live/ordered', group: 'default', state: 'connected', connected: true, pendingTasks: 0 });
    expect(sessions.list().some((s) => s.id === sid)).toBe(true);
    expect(sessions.count('/live/ordered')).toBeGreaterThanOrEqual(1);
    const before = [pubsub.subscriberCount('ordered'), pubsub.subscriberCount('forwarded')];
    await sessions.terminate(sid);
    expect([pubsub.subscriberCount('ordered'), pubsub.subscriberCount('forwarded')]).toEqual(before.map((n) => n - 1));
    // Once the earlier tests' dropped sessions are past their grace, no subscription is left at all.
    await eventually(() => pubsub.subscriberCount('ordered') + pubsub.subscriberCount('forwarded') === 0, 2000);
    await reader.cancel();
  });
});

describe('live sessions at shutdown', () => {
  it('app.close() ends open session streams at once and terminates every session with "shutdown"', async () => {
    probe.reset();
    const t = await startApp(LiveAppModule.register());
    const { reader, sid } = await openLive(t, '/live/counter');
    const pending = readLivePage(await (await t.fetch('/live/timer')).text());
    const started = Date.now();
    await t.close();
    expect(Date.now() - started).toBeLessThan(2000);
    // Dropped after a retry hint, not ended cleanly: the client retries and the session resumes.
    expect(await reader.end()).toBe('reset');
    expect(probe.terminated.map((e) => [e.id, e.reason]).sort()).toEqual(
      [[sid, 'shutdown'], [sidOf(pending.token), 'shutdown']].sort(),
    );
  });
});
