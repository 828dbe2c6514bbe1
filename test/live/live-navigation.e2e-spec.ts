import { LiveSessionsService } from 'nestjs-datastar';
import {
  eventually, openLive, parseEvents, postEvent, postNav, readLivePage, sleep, startApp, type LiveTestApp, type Sse,
} from './fixtures/http';
import { LiveAppModule, probe } from './fixtures/live.app';

const script = (e: Sse) => /<script[^>]*>(.*)<\/script>/.exec(e.get('elements') ?? '')?.[1];

describe('live soft navigation', () => {
  let t: LiveTestApp;
  let sessions: LiveSessionsService;
  beforeAll(async () => {
    t = await startApp(LiveAppModule.register());
    sessions = t.app.get(LiveSessionsService);
  });
  afterAll(() => t.close());
  beforeEach(() => probe.reset());

  it('a -> b: mounts b in the same session, patches the root, pushes history; the stream stays open', async () => {
    const { page, reader, sid } = await openLive(t, '/live/a');
    expect(page.html).toContain('<a href="/live/b" id="to-b" data-live-link data-on:click="');
    const res = await postNav(t, page.token, { to: '/live/b', replace: false });
    expect(res.status).toBe(204); // everything went down the stream

    const [signals, root, history, title] = [await reader.next(), await reader.next(), await reader.next(), await reader.next()];
    // One diff: A's signals removed, B's added, a new token for /live/b.
    const fresh = signals!.signals!._lv as string;
    expect(signals!.signals).toEqual({ onA: null, shared: 'b', onB: true, _lv: fresh });
    expect(root!.get('selector')).toBe('#ds-live-root');
    expect(root!.get('mode')).toBe('inner');
    expect(root!.get('elements')).toContain('<section id="page-b"><h1>B</h1><a href="/live/a" id="to-a"');
    expect(script(history!)).toBe(
      '{const u=new URL("/live/b",window.location.href);if(u.origin===window.location.origin)window.history.pushState(null,"",u.href)}',
    );
    expect(script(title!)).toBe('{const o="",n="Page B";document.title=o&&document.title.includes(o)?document.title.replace(o,()=>n):n}');

    expect(sessions.get(sid)).toMatchObject({ route: '/live/b', path: '/live/b', connected: true });
    expect(probe.terminated).toEqual([{ view: 'a', id: sid, reason: 'navigate' }]);
    expect(probe.mounts.map((m) => [m.view, m.id])).toEqual([['a', sid], ['b', sid]]);

    // The old token cannot drive the new view; a late click on the old view is dropped (409, no reload).
    expect((await postEvent(t, '/live/b', 'x', page.token)).status).toBe(401);
    expect((await postEvent(t, '/live/a', 'bump', page.token)).status).toBe(409);
    // B's timer ticks through handleInfo on the same stream; A's are gone.
    await eventually(() => (probe.ticks.get(`b:${sid}`) ?? 0) >= 2);

    // Back (popstate): no history entry pushed, A mounted again, B terminated.
    expect((await postNav(t, fresh, { to: '/live/a', replace: true, pop: true })).status).toBe(204);
    const back = await reader.until((e) => e.get('elements')?.includes('page-a') === true);
    expect(back.some((e) => script(e)?.includes('history'))).toBe(false);
    expect(probe.terminated.map((e) => e.view)).toEqual(['a', 'b']);
    const ticks = probe.ticks.get(`b:${sid}`);
    await sleep(60);
    expect(probe.ticks.get(`b:${sid}`)).toBe(ticks); // B's timer stopped with B
    await reader.cancel();
  });

  it('replace: true uses history.replaceState; the same path again is a no-op', async () => {
    const { page, reader } = await openLive(t, '/live/a');
    await postNav(t, page.token, { to: '/live/b?tab=2', replace: true });
    const events = await reader.until((e) => script(e)?.includes('history') === true);
    expect(script(events[events.length - 1])).toContain('window.history.replaceState(null,"",u.href)');
    expect(script(events[events.length - 1])).toContain('new URL("/live/b?tab=2"');
    expect(probe.mounts[probe.mounts.length - 1].params).toEqual({ tab: '2' });
    const token = events[0].signals!._lv as string;
    expect((await postNav(t, token, { to: '/live/b?tab=2' })).status).toBe(204);
    expect(probe.mounts.filter((m) => m.view === 'b')).toHaveLength(1);
    await reader.cancel();
  });

  it('ctx.navigate() from an event soft-navigates within the group', async () => {
    const { page, reader, sid } = await openLive(t, '/live/counter');
    expect((await postEvent(t, '/live/counter', 'nav', page.token)).status).toBe(204);
    const events = await reader.until((e) => script(e)?.includes('pushState') === true);
    expect(events.some((e) => e.get('elements')?.includes('page-b'))).toBe(true);
    expect(sessions.get(sid)?.route).toBe('/live/b');
    await reader.cancel();
  });

  it('ctx.navigate() to a page that is not a live view: a full page load, JSON-encoded', async () => {
    const { page, reader, sid } = await openLive(t, '/live/counter');
    await postEvent(t, '/live/counter', 'nav-out', page.token);
    const [load] = await reader.until(() => true);
    expect(script(load)).toBe('window.location.href=new URL("/plain/page?x=1",window.location.href).href');
    expect(sessions.get(sid)?.route).toBe('/live/counter');
    await reader.cancel();
  });

  it.each([
    ['a page that is not a live view', '/plain/page'],
    ['a live view of another group', '/other/x'],
    ['a stateless live view', '/live/stateless'],
  ])('%s: a full page load in the nav response, the session unchanged', async (_label, target) => {
    const { page, reader, sid } = await openLive(t, '/live/a');
    const res = await postNav(t, page.token, { to: target });
    expect(res.status).toBe(200);
    const events = parseEvents(await res.text());
    expect(events.map(script)).toEqual([`window.location.href=new URL(${JSON.stringify(target)},window.location.href).href`]);
    expect(sessions.get(sid)?.route).toBe('/live/a');
    await reader.cancel();
  });

  it('no usable token (missing, forged, ended session): a full page load of the target', async () => {
    const { page } = await openLive(t, '/live/a');
    for (const token of [undefined, 'v1.bad.token', page.token.slice(0, -3) + 'AAA']) {
      const res = await postNav(t, token, { to: '/live/b' });
      expect(res.status).toBe(200);
      expect(parseEvents(await res.text()).map(script)).toEqual(['window.location.href=new URL("/live/b",window.location.href).href']);
    }
  });

  it.each([
    'javascript:alert(document.cookie)',
    'JAVASCRIPT:alert(1)',
    '//evil.com',
    '//evil.com/live/b',
    '/\\evil.com',
    '\\\\evil.com',
    '/..//evil.com',
    'https://evil.com/live/b',
    '/live/b\r\nSet-Cookie: a=1',
    '/live/b\n',
    '/live/b\u0000',
    ' /live/b',
    '',
    42,
    null,
    { toString: '/live/b' },
  ])('hostile target %j: 400, nothing sent, nothing mounted', async (target) => {
    const { page, reader, sid } = await openLive(t, '/live/a');
    const res = await postNav(t, page.token, { to: target });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).not.toContain('text/event-stream');
    expect((await res.json()).message).toMatch(/same-origin path/);
    expect(sessions.get(sid)?.route).toBe('/live/a');
    expect(probe.mounts.map((m) => m.view)).toEqual(['a']);
    await expect(reader.next(100)).rejects.toThrow(/no SSE event/);
    await reader.cancel();
  });

  it('a path that resolves to a live view after dot segments is normalised, never echoed raw', async () => {
    const { page, reader, sid } = await openLive(t, '/live/a');
    expect((await postNav(t, page.token, { to: '/live/x/../b' })).status).toBe(204);
    const events = await reader.until((e) => script(e)?.includes('pushState') === true);
    expect(script(events[events.length - 1])).toContain('new URL("/live/b"');
    expect(sessions.get(sid)?.path).toBe('/live/b');
    await reader.cancel();
  });

  it("runs the target view's guards with the navigation request; a refusal falls back to a full load", async () => {
    const { page, reader, sid } = await openLive(t, '/live/a');
    probe.allowGuard = false;
    const refused = await postNav(t, page.token, { to: '/live/guarded' });
    expect(parseEvents(await refused.text()).map(script)).toEqual(['window.location.href=new URL("/live/guarded",window.location.href).href']);
    expect(probe.guardCalls).toBe(1);
    expect(sessions.get(sid)?.route).toBe('/live/a');

    probe.allowGuard = true;
    expect((await postNav(t, page.token, { to: '/live/guarded' })).status).toBe(204);
    expect(probe.guardCalls).toBe(2);
    await reader.until((e) => e.get('elements')?.includes('id="guarded"') === true);
    expect(sessions.get(sid)?.route).toBe('/live/guarded');
    // The page GET itself is guarded as a normal route.
    probe.allowGuard = false;
    expect((await t.fetch('/live/guarded')).status).toBe(403);
    await reader.cancel();
  });

  it('navigation without an open stream answers in its own response', async () => {
    const page = readLivePage(await (await t.fetch('/live/a')).text());
    const res = await postNav(t, page.token, { to: '/live/b' });
    expect(res.status).toBe(200);
    const events = parseEvents(await res.text());
    expect(events.map((e) => e.event)).toEqual([
      'datastar-patch-signals', 'datastar-patch-elements', 'datastar-patch-elements', 'datastar-patch-elements',
    ]);
    expect(script(events[2])).toContain('pushState');
  });

  it('a custom mount template per view (the shell around /live/b)', async () => {
    const html = await (await t.fetch('/live/b')).text();
    expect(html).toMatch(/^<html><head><title>Page B \(custom shell\)<\/title><\/head><body><nav>nav<\/nav><div id="ds-live" data-signals="/);
    expect(html).toContain('<div id="ds-live-root"><section id="page-b">');
  });
});

describe('live views under a global prefix', () => {
  it('pages, stream, events and navigation all carry the prefix', async () => {
    const t = await startApp(LiveAppModule.register(), undefined, (app) => app.setGlobalPrefix('v1'));
    try {
      const { page, reader } = await openLive(t, '/v1/live/a');
      expect(page.init).toContain('@get("/v1/ds/_stream"');
      expect(page.html).toContain('@post(&quot;/v1/live/a/_event/bump&quot;');
      expect(page.html).toContain('@post(&quot;/v1/ds/_nav&quot;');
      expect((await postEvent(t, '/v1/live/a', 'bump', page.token)).status).toBe(204);
      expect((await reader.next())!.get('elements')).toContain('<h1>A 2</h1>');
      expect((await postNav(t, page.token, { to: '/v1/live/b' }, '/v1/ds/_nav')).status).toBe(204);
      const events = await reader.until((e) => script(e)?.includes('pushState') === true);
      expect(script(events[events.length - 1])).toContain('new URL("/v1/live/b"');
      // Outside the prefix there is no live view: a full load.
      const res = await postNav(t, page.token, { to: '/live/b' }, '/v1/ds/_nav');
      expect(res.status).toBe(200);
      await reader.cancel();
    } finally {
      await t.close();
    }
  });
});
