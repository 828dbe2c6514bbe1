import { FastifyAdapter } from '@nestjs/platform-fastify';
import { LiveSessionsService } from 'nestjs-datastar';
import {
  eventually, openLive, parseEvents, postEvent, postNav, readLivePage, sidOf, sleep, SseReader, startApp, type LiveTestApp, type Sse,
  streamHeaders,
} from './fixtures/http';
import { LiveAppModule, probe } from './fixtures/live.app';

const ADAPTERS = [
  ['express', () => undefined],
  ['fastify', () => new FastifyAdapter()],
] as const;

const consoleArgs = (e: Sse) => {
  const html = e.get('elements') ?? '';
  const m = /console\.(\w+)\((.*)\)<\/script>/.exec(html);
  return m ? { level: m[1], args: JSON.parse(`[${m[2]}]`) } : undefined;
};

describe.each(ADAPTERS)('live views (%s)', (_name, adapter) => {
  let t: LiveTestApp;
  let sessions: LiveSessionsService;
  beforeAll(async () => {
    t = await startApp(LiveAppModule.register(), adapter());
    sessions = t.app.get(LiveSessionsService);
  });
  afterAll(() => t.close());
  beforeEach(() => probe.reset());

  it('GET renders mount + render inside the shell: token, signals, data-init stream, no cache', async () => {
    const res = await t.fetch('/live/counter?start=5');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('no-store');
    const page = readLivePage(await res.text());
    expect(page.signals).toEqual({ count: 5, profile: { name: 'ann', tags: ['a'] }, _lv: page.token });
    expect(page.token).toMatch(/^v1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    expect(page.init).toBe(`@get("/ds/_stream",{"headers":{"x-live-token":"${page.token}"},"payload":{},"openWhenHidden":true})`);
    expect(page.html).toContain('<title>Counter</title>');
    expect(page.html).toContain('<div id="ds-live-root"><div id="counter"><span id="label">Count</span>');
    expect(page.html).toContain('data-on:click="@post(&quot;/live/counter/_event/increment&quot;,{&quot;headers&quot;:{&quot;x-live-token&quot;:$_lv}})"');
    expect(page.html).toContain('<div id="ds-flash" aria-live="polite"></div>');
    // The 401 fallback the client follows: a datastar-fetch listener that reloads.
    expect(page.html).toMatch(/data-on:datastar-fetch="[^"]*status === &#39;401&#39;[^"]*window\.location\.reload\(\)/);
    expect(page.html).toContain('data-on:popstate__window=');
    const sid = sidOf(page.token);
    expect(sessions.get(sid)).toMatchObject({ route: '/live/counter', path: '/live/counter', state: 'pending', connected: false });
    expect(probe.mounts).toEqual([{ view: 'counter', id: sid, params: { start: '5' } }]);
  });

  it('route params reach mount(), decoded', async () => {
    const res = await t.fetch('/live/users/a%20b?tab=x');
    expect(await res.text()).toContain('<p id="user">user a b</p>');
    expect(probe.mounts[0].params).toEqual({ id: 'a b', tab: 'x' });
  });

  it('stream + event: the event answers 204 and the stream gets only the changed signal', async () => {
    const { page, reader, sid } = await openLive(t, '/live/counter');
    await eventually(() => sessions.get(sid)?.connected === true);
    const res = await postEvent(t, '/live/counter', 'increment', page.token, { count: 0, profile: { name: 'ann', tags: ['a'] } });
    expect(res.status).toBe(204);
    const [event] = await reader.until(() => true);
    expect(event.event).toBe('datastar-patch-signals');
    expect(event.lines).toEqual(['signals {"count":1}']); // no profile, no token, no root render (its HTML did not change)

    // Nested: only the changed leaf travels.
    await postEvent(t, '/live/counter', 'rename', page.token, { newName: 'bob' });
    expect((await reader.next())!.lines).toEqual(['signals {"profile":{"name":"bob"}}']);

    // The browser's own values count as sent: posting count=7 then setting it to 8 sends 8, not a full set.
    await postEvent(t, '/live/counter', 'increment', page.token, { count: 7 });
    expect((await reader.next())!.lines).toEqual(['signals {"count":8}']);

    // An assign that changes the HTML re-renders the root (inner, morphed by the client).
    await postEvent(t, '/live/counter', 'label', page.token, { label: 'Total' });
    const render = (await reader.next())!;
    expect(render.event).toBe('datastar-patch-elements');
    expect(render.get('selector')).toBe('#ds-live-root');
    expect(render.get('mode')).toBe('inner');
    expect(render.get('elements')).toContain('<span id="label">Total</span>');

    // Same label again: rendered, identical, nothing sent.
    await postEvent(t, '/live/counter', 'label', page.token, { label: 'Total' });
    await postEvent(t, '/live/counter', 'increment', page.token, {});
    expect((await reader.next())!.lines).toEqual(['signals {"count":9}']);
    await reader.cancel();
  });

  it('an event before the stream opened is answered in its own response', async () => {
    const res = await t.fetch('/live/counter');
    const page = readLivePage(await res.text());
    const answer = await postEvent(t, '/live/counter', 'increment', page.token, { count: 0 });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toBe('text/event-stream');
    const events = parseEvents(await answer.text());
    expect(events.map((e) => e.lines)).toEqual([['signals {"count":1}']]);
    // ...and the stream opened later starts from there (nothing replayed).
    const stream = await fetch(`${t.base}/ds/_stream`, { headers: streamHeaders(page.token) });
    expect(stream.status).toBe(200);
    await postEvent(t, '/live/counter', 'increment', page.token, {});
    const reader = new SseReader(stream);
    expect((await reader.next())!.lines).toEqual(['signals {"count":2}']);
    await reader.cancel();
  });

  it('a failing callback is logged, shown in the browser console, and the session keeps its last good state', async () => {
    const { page, reader } = await openLive(t, '/live/counter');
    await postEvent(t, '/live/counter', 'increment', page.token, {});
    expect((await reader.next())!.signals).toEqual({ count: 1 });

    expect((await postEvent(t, '/live/counter', 'boom', page.token, {})).status).toBe(204);
    const failure = consoleArgs((await reader.next())!);
    expect(failure).toEqual({ level: 'error', args: ['[datastar] live view /live/counter: handleEvent("boom") failed: kaboom'] });
    expect(t.logger.errors().some((l) => l.includes('handleEvent("boom") failed: kaboom'))).toBe(true);

    expect((await postEvent(t, '/live/counter', 'bad-render', page.token, {})).status).toBe(204);
    expect(consoleArgs((await reader.next())!)?.args[0]).toMatch(/handleEvent\("bad-render"\) failed: .*length/);

    // Neither the signal (999), the assign ('broken'), the flash, nor the null items survived.
    await postEvent(t, '/live/counter', 'dump', page.token, {});
    expect(consoleArgs((await reader.next())!)).toEqual({ level: 'info', args: [{ label: 'Count', count: 1, items: [] }] });
    await postEvent(t, '/live/counter', 'increment', page.token, {});
    expect((await reader.next())!.lines).toEqual(['signals {"count":2}']);
    await reader.cancel();
  });

  it('ctx.flash() appends an escaped message to #ds-flash that removes itself', async () => {
    const { page, reader } = await openLive(t, '/live/counter');
    await postEvent(t, '/live/counter', 'flash', page.token, {});
    const flash = (await reader.next())!;
    expect(flash.get('selector')).toBe('#ds-flash');
    expect(flash.get('mode')).toBe('append');
    expect(flash.get('elements')).toBe(
      '<div class="ds-flash ds-flash-info" role="status" data-init="setTimeout(() => el.remove(), 4000)">Saved &lt;b&gt;!&lt;/b&gt;</div>',
    );
    await reader.cancel();
  });

  it('stateless view: no session, no stream; mount() runs per event and the answer is the diff', async () => {
    const before = sessions.count();
    const res = await t.fetch('/live/stateless');
    const page = readLivePage(await res.text());
    expect(page.init).toBeUndefined();
    expect(sessions.count()).toBe(before);
    const answer = await postEvent(t, '/live/stateless', 'add', page.token, { total: 10, untouched: 'same' });
    expect(answer.status).toBe(200);
    const events = parseEvents(await answer.text());
    // total 10 came from the page, +5: only it travels; the root HTML changed too.
    expect(events.map((e) => e.event)).toEqual(['datastar-patch-signals', 'datastar-patch-elements']);
    expect(events[0].signals).toEqual({ total: 15 });
    expect(events[1].get('elements')).toBe('<p id="sl">15</p>');
    // The stream refuses a stateless token: there is no session behind it.
    expect((await t.fetch('/ds/_stream', { headers: streamHeaders(page.token) })).status).toBe(401);
  });

  it('a session ends when its view asks (ctx.terminate), and its token then gets 401', async () => {
    const { page, reader, sid } = await openLive(t, '/live/counter');
    expect((await postEvent(t, '/live/counter', 'stop', page.token, {})).status).toBe(204);
    expect(await reader.ended()).toBe(true);
    expect(sessions.get(sid)).toBeUndefined();
    expect(probe.terminated).toEqual([{ view: 'counter', id: sid, reason: 'terminated', count: 0 }]);
    expect((await postEvent(t, '/live/counter', 'increment', page.token, {})).status).toBe(401);
  });

  it('events of one session run one at a time, in arrival order', async () => {
    const { page, reader } = await openLive(t, '/live/counter');
    const answers = await Promise.all([
      postEvent(t, '/live/counter', 'slow', page.token, { ms: 80, tag: 'a' }),
      sleep(10).then(() => postEvent(t, '/live/counter', 'slow', page.token, { ms: 1, tag: 'b' })),
      sleep(20).then(() => postEvent(t, '/live/counter', 'slow', page.token, { ms: 0, tag: 'c' })),
    ]);
    expect(answers.map((a) => a.status)).toEqual([204, 204, 204]);
    // Run concurrently, b and c would finish (and patch) first.
    const events = [await reader.next(), await reader.next(), await reader.next()];
    expect(events.map((e) => e!.signals)).toEqual([{ trail: ['a'] }, { trail: ['a', 'b'] }, { trail: ['a', 'b', 'c'] }]);
    await reader.cancel();
  });

  it('soft navigation a -> b over this adapter: one stream, history pushed; hostile target 400', async () => {
    const { page, reader, sid } = await openLive(t, '/live/a');
    expect((await postNav(t, page.token, { to: '/live/b' })).status).toBe(204);
    const events = await reader.until((e) => e.get('elements')?.includes('pushState') === true);
    expect(events[0].signals).toMatchObject({ onA: null, onB: true, shared: 'b' });
    expect(events[1].get('elements')).toContain('<section id="page-b">');
    expect(sessions.get(sid)).toMatchObject({ route: '/live/b', connected: true });
    expect((await postNav(t, events[0].signals!._lv as string, { to: '//evil.com' })).status).toBe(400);
    await reader.cancel();
  });

  it('an unknown event of a view without handleEvent is 404, a bad event name 400', async () => {
    const res = await t.fetch('/live/a');
    const page = readLivePage(await res.text());
    const other = readLivePage(await (await t.fetch('/live/guarded')).text());
    expect((await postEvent(t, '/live/guarded', 'x', other.token, {})).status).toBe(404);
    expect((await postEvent(t, '/live/a', 'bad%20name', page.token, {})).status).toBe(400);
  });
});

describe('live views in production', () => {
  it('hide error details from the browser unless exposeErrors, and refuse to boot without a secret', async () => {
    const t = await startApp(LiveAppModule.register({}, { exposeErrors: false }));
    try {
      const { page, reader } = await openLive(t, '/live/counter');
      await postEvent(t, '/live/counter', 'boom', page.token, {});
      await postEvent(t, '/live/counter', 'increment', page.token, {});
      // A generic console.error with an error id, no details; then the increment's patch.
      const hidden = consoleArgs((await reader.next())!);
      expect(hidden?.level).toBe('error');
      const id = /\(error ([0-9a-f]{8}):/.exec(String(hidden?.args[0]))?.[1];
      expect(id).toBeDefined();
      expect(String(hidden?.args[0])).not.toContain('kaboom');
      expect((await reader.next())!.lines).toEqual(['signals {"count":1}']);
      expect(t.logger.errors().some((l) => l.includes('kaboom') && l.includes(`[error ${id}]`))).toBe(true);
      await reader.cancel();
    } finally {
      await t.close();
    }
    const env = process.env.NODE_ENV;
    process.env.NODE_ENV = 'production';
    try {
      await expect(startApp(LiveAppModule.register({ secret: undefined }))).rejects.toThrow(/need a token secret in production/);
    } finally {
      process.env.NODE_ENV = env;
    }
    await expect(startApp(LiveAppModule.register({ secret: 'short' }))).rejects.toThrow(/at least 32 random characters/);
  });

  it('warn once about a generated secret outside production', async () => {
    const t = await startApp(LiveAppModule.register({ secret: undefined }));
    try {
      expect(t.logger.warnings().filter((w) => w.includes('No live.secret configured'))).toHaveLength(1);
      const { page, reader } = await openLive(t, '/live/counter');
      expect((await postEvent(t, '/live/counter', 'increment', page.token, {})).status).toBe(204);
      await reader.cancel();
    } finally {
      await t.close();
    }
  });
});
