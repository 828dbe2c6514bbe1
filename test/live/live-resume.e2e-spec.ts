/**
 * Live sessions that resume (issue 11, item 3), in-process on both adapters: a session whose
 * stream stayed away longer than graceMs leaves memory but not the store; the next event, stream
 * or navigation takes it back without mount(), with its timers, and what the browser missed
 * arrives. A session that cannot be resumed (expired, terminated, never connected) gets 401, and
 * the page carries the notice it shows after the reload.
 */
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LiveSessionsService, type DatastarLiveOptions, type LiveSessionRecord, type LiveSessionStore } from 'nestjs-datastar';
import {
  eventually, openLive, parseEvents, postEvent, readLivePage, sidOf, sleep, SseReader, startApp, streamHeaders,
  type LiveTestApp, type Sse,
} from './fixtures/http';
import { LiveAppModule, probe } from './fixtures/live.app';

const ADAPTERS = [
  ['express', () => undefined],
  ['fastify', () => new FastifyAdapter()],
] as const;

/** The signals of the patches in `events`, merged in order (what the browser ends up with). */
const signalsOf = (events: Sse[]) => Object.assign({}, ...events.filter((e) => e.signals).map((e) => e.signals));

describe.each(ADAPTERS)('live sessions that resume (%s)', (_name, adapter) => {
  let dir: string;
  const apps: LiveTestApp[] = [];

  beforeEach(() => {
    probe.reset();
    dir = mkdtempSync(join(tmpdir(), 'live-resume-'));
  });
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((t) => t.close()));
    rmSync(dir, { recursive: true, force: true });
  });

  async function start(live: DatastarLiveOptions = {}): Promise<{ t: LiveTestApp; sessions: LiveSessionsService }> {
    const t = await startApp(LiveAppModule.register({ storeDir: dir, graceMs: 20, ...live }), adapter());
    apps.push(t);
    return { t, sessions: t.app.get(LiveSessionsService) };
  }

  /** Opens the session stream again, as the client's retry does (the page's first token). */
  async function reopen(t: LiveTestApp, token: string): Promise<SseReader> {
    const res = await t.fetch('/ds/_stream', { headers: streamHeaders(token) });
    expect(res.status).toBe(200);
    return new SseReader(res);
  }

  /** The stream drops and stays away past graceMs: the session leaves this process's memory. */
  async function dropPastGrace(sessions: LiveSessionsService, reader: SseReader, sid: string): Promise<void> {
    await reader.cancel();
    await eventually(() => sessions.get(sid) === undefined);
  }

  it('an event after a long drop takes the session back (no mount), answers with its patch; the stream gets the whole state', async () => {
    const { t, sessions } = await start();
    const { page, reader, sid } = await openLive(t, '/live/counter');
    for (let i = 0; i < 2; i++) expect((await postEvent(t, '/live/counter', 'increment', page.token)).status).toBe(204);
    await reader.until((e) => e.signals?.count === 2);
    await dropPastGrace(sessions, reader, sid);
    expect(probe.terminated).toEqual([expect.objectContaining({ id: sid, reason: 'disconnect', count: 2 })]);

    // The click made while the stream is down: applied, and its patch comes back in its own answer.
    const answer = await postEvent(t, '/live/counter', 'increment', page.token);
    expect(answer.status).toBe(200);
    expect(signalsOf(parseEvents(await answer.text()))).toMatchObject({ count: 3 });
    expect(sessions.get(sid)).toMatchObject({ route: '/live/counter', connected: false });
    expect(probe.mounts.filter((m) => m.id === sid)).toHaveLength(1);

    // The stream comes back: the browser may have missed anything, so it gets the whole state.
    const again = await reopen(t, page.token);
    const first = await again.until((e) => e.signals !== undefined);
    expect(first.at(-1)!.signals).toMatchObject({ count: 3, profile: { name: 'ann', tags: ['a'] } });
    expect((await postEvent(t, '/live/counter', 'increment', page.token)).status).toBe(204);
    await again.until((e) => e.signals?.count === 4);
    await again.cancel();
  });

  it('timers come back with the session, and soft navigation is kept (the stream resumes the view it was on)', async () => {
    const { t, sessions } = await start();
    const { page, reader, sid } = await openLive(t, '/live/a');
    const nav = await t.fetch('/ds/_nav', {
      method: 'POST', headers: { 'content-type': 'application/json', 'datastar-request': 'true', 'x-live-token': page.token },
      body: JSON.stringify({ to: '/live/b' }),
    });
    expect(nav.status).toBe(204);
    await eventually(() => (probe.ticks.get(`b:${sid}`) ?? 0) >= 2);
    await dropPastGrace(sessions, reader, sid);
    const ticks = probe.ticks.get(`b:${sid}`)!;

    const again = await reopen(t, page.token); // the page's first token: for /live/a, same group
    await again.until((e) => e.signals?.onB === true);
    await eventually(() => probe.ticks.get(`b:${sid}`)! >= ticks + 2);
    expect(sessions.get(sid)).toMatchObject({ route: '/live/b', path: '/live/b', connected: true });
    expect(probe.mounts.filter((m) => m.id === sid).map((m) => m.view)).toEqual(['a', 'b']);
    await again.cancel();
  });

  it('expired in the store: 401 on the event and the stream, nothing resumed; the page carries the reload notice', async () => {
    const { t, sessions } = await start({ sessionTtlMs: 30 });
    const { page, reader, sid } = await openLive(t, '/live/counter');
    expect(page.html).toContain('dsLiveLost');
    expect((await postEvent(t, '/live/counter', 'increment', page.token)).status).toBe(204);
    await dropPastGrace(sessions, reader, sid);
    await sleep(60);
    expect((await postEvent(t, '/live/counter', 'increment', page.token)).status).toBe(401);
    expect((await t.fetch('/ds/_stream', { headers: streamHeaders(page.token) })).status).toBe(401);
    expect(sessions.count()).toBe(0);
  });

  it('evicted from the store past maxStoredSessions: 401 like an expired one, also after a restart; the newer session resumes', async () => {
    const { t, sessions } = await start({ maxStoredSessions: 1 });
    const old = await openLive(t, '/live/counter');
    expect(old.page.html).toContain('dsLiveLost');
    expect((await postEvent(t, '/live/counter', 'increment', old.page.token)).status).toBe(204);
    await dropPastGrace(sessions, old.reader, old.sid);
    const kept = await openLive(t, '/live/counter'); // its record takes the only place
    expect((await postEvent(t, '/live/counter', 'increment', kept.page.token)).status).toBe(204);
    expect((await postEvent(t, '/live/counter', 'increment', old.page.token)).status).toBe(401);
    expect((await t.fetch('/ds/_stream', { headers: streamHeaders(old.page.token) })).status).toBe(401);
    expect(sessions.get(old.sid)).toBeUndefined();
    await kept.reader.cancel();
    await apps.splice(0).pop()!.close();

    const restarted = await start({ maxStoredSessions: 10 });
    expect((await postEvent(restarted.t, '/live/counter', 'increment', old.page.token)).status).toBe(401);
    const answer = await postEvent(restarted.t, '/live/counter', 'increment', kept.page.token);
    expect(signalsOf(parseEvents(await answer.text()))).toMatchObject({ count: 2 });
  });

  it('a session that was terminated, or whose page never connected, is forgotten: 401', async () => {
    const { t, sessions } = await start({ idleTimeoutMs: 30 });
    const { page, reader, sid } = await openLive(t, '/live/counter');
    await sessions.terminate(sid);
    expect((await postEvent(t, '/live/counter', 'increment', page.token)).status).toBe(401);
    await reader.cancel();

    const idle = readLivePage(await (await t.fetch('/live/counter')).text());
    await eventually(() => sessions.get(sidOf(idle.token)) === undefined);
    expect(probe.terminated.map((e) => [e.id, e.reason])).toEqual([[sid, 'terminated'], [sidOf(idle.token), 'idle']]);
    expect((await postEvent(t, '/live/counter', 'increment', idle.token)).status).toBe(401);
  });

  it('a folder that cannot be written: a warning at boot, sessions resume from memory', async () => {
    const file = join(dir, 'not-a-folder');
    writeFileSync(file, '');
    const { t, sessions } = await start({ storeDir: join(file, 'sessions') });
    expect(t.logger.warnings().filter((w) => w.includes('kept in memory only'))).toHaveLength(1);
    const { page, reader, sid } = await openLive(t, '/live/counter');
    expect((await postEvent(t, '/live/counter', 'increment', page.token)).status).toBe(204);
    await dropPastGrace(sessions, reader, sid);
    const answer = await postEvent(t, '/live/counter', 'increment', page.token);
    expect(signalsOf(parseEvents(await answer.text()))).toMatchObject({ count: 2 });
  });

  it('a store and serializer of the app: records go through them, and come back from them', async () => {
    const kept = new Map<string, { value: string; ttlMs: number }>();
    const store: LiveSessionStore = {
      get: async (id) => kept.get(id)?.value,
      set: async (id, value, ttlMs) => void kept.set(id, { value, ttlMs }),
      delete: (id) => void kept.delete(id),
    };
    const serializer = {
      serialize: (record: LiveSessionRecord) => `v1:${JSON.stringify(record)}`,
      deserialize: (text: string) => JSON.parse(text.slice(3)) as LiveSessionRecord,
    };
    const { t, sessions } = await start({ store, serializer, sessionTtlMs: 60_000 });
    const { page, reader, sid } = await openLive(t, '/live/counter');
    expect((await postEvent(t, '/live/counter', 'increment', page.token)).status).toBe(204);
    await reader.until((e) => e.signals?.count === 1);
    const saved = kept.get(sid)!;
    expect(saved.ttlMs).toBe(60_000);
    expect(serializer.deserialize(saved.value)).toMatchObject({ v: 1, id: sid, route: '/live/counter', signals: { count: 1 }, connected: true });
    await dropPastGrace(sessions, reader, sid);
    const answer = await postEvent(t, '/live/counter', 'increment', page.token);
    expect(signalsOf(parseEvents(await answer.text()))).toMatchObject({ count: 2 });
    await sessions.terminate(sid);
    expect(kept.has(sid)).toBe(false);
  });
});
