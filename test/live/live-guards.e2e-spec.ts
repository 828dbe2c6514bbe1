/**
 * Soft navigation runs the target view's effective guards (a global APP_GUARD here), with the
 * request pointed at the target: a refusal is a full page load (where the guard answers as
 * usual), never the target's HTML, signals or token.
 */
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { LiveSessionsService } from 'nestjs-datastar';
import {
  liveHeaders, openLive, parseEvents, postNav, startApp, type LiveTestApp, type Sse,
} from './fixtures/http';
import { ADMIN_HTML, ADMIN_SIGNAL, CREDENTIAL, GuardedLiveModule, guardProbe } from './fixtures/guarded.app';

const script = (e: Sse) => /<script[^>]*>(.*)<\/script>/.exec(e.get('elements') ?? '')?.[1];
const FULL_LOAD_ADMIN = 'window.location.href=new URL("/live/admin",window.location.href).href';
const credential = { 'x-credential': CREDENTIAL };

describe.each(['express', 'fastify'])('live navigation under a global guard (%s)', (adapter) => {
  let t: LiveTestApp;
  let sessions: LiveSessionsService;
  beforeAll(async () => {
    t = await startApp(GuardedLiveModule, adapter === 'fastify' ? new FastifyAdapter() : undefined);
    sessions = t.app.get(LiveSessionsService);
  });
  afterAll(() => t.close());
  beforeEach(() => guardProbe.reset());

  const goEvent = (token: string, headers: Record<string, string> = {}) =>
    t.fetch('/live/public/_event/go', { method: 'POST', headers: liveHeaders(token, headers), body: '{}' });

  /** Nothing of the admin view in `text`, and the admin view never mounted. */
  function expectNothingOfAdmin(text: string) {
    expect(text).not.toContain(ADMIN_HTML);
    expect(text).not.toContain(ADMIN_SIGNAL);
    expect(text).not.toContain('_lv');
    expect(guardProbe.adminMounts).toEqual([]);
  }

  /** The guard ran for the target page: its URL and path, never the `_nav` or event route. */
  function expectGuardSawAdmin() {
    const admin = guardProbe.seen.filter((s) => s.url === '/live/admin');
    expect(admin).toHaveLength(1);
    expect(admin[0]).toMatchObject({
      url: '/live/admin', path: '/live/admin', originalUrl: '/live/admin', route: '/live/admin', method: 'GET', params: {},
    });
    if (adapter === 'fastify') expect(admin[0].rawUrl).toBe('/live/admin');
    expect(guardProbe.seen.some((s) => s.url.includes('_nav'))).toBe(false);
  }

  it('the admin page itself is refused without the credential (the guard is real)', async () => {
    expect((await t.fetch('/live/admin')).status).toBe(403);
    expect((await t.fetch('/live/admin', { headers: credential })).status).toBe(200);
  });

  it('_nav to a view the global guard refuses: a full page load, no admin HTML or token, mount never ran', async () => {
    const { page, reader, sid } = await openLive(t, '/live/public');
    guardProbe.reset();
    const res = await postNav(t, page.token, { to: '/live/admin' });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(parseEvents(text).map(script)).toEqual([FULL_LOAD_ADMIN]);
    expectNothingOfAdmin(text);
    expectGuardSawAdmin();
    expect(sessions.get(sid)?.route).toBe('/live/public');
    await expect(reader.next(150)).rejects.toThrow(/no SSE event/); // nothing went down the stream either
    await reader.cancel();
  });

  it('ctx.navigate() from an event to a view the global guard refuses: a full page load, mount never ran', async () => {
    const { page, reader, sid } = await openLive(t, '/live/public');
    guardProbe.reset();
    expect((await goEvent(page.token)).status).toBe(204);
    const [load] = await reader.until(() => true);
    expect(script(load)).toBe(FULL_LOAD_ADMIN);
    expectNothingOfAdmin(load.lines.join('\n'));
    expectGuardSawAdmin();
    expect(sessions.get(sid)?.route).toBe('/live/public');
    await reader.cancel();
  });

  it('ctx.navigate() from an event without an open stream: the full load comes in the answer', async () => {
    const html = await (await t.fetch('/live/public')).text();
    const token = JSON.parse(/data-signals="([^"]*)"/.exec(html)![1].replace(/&quot;/g, '"'))._lv;
    guardProbe.reset();
    const res = await goEvent(token);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(parseEvents(text).map(script)).toEqual([FULL_LOAD_ADMIN]);
    expectNothingOfAdmin(text);
  });

  it('ctx.navigate() from handleInfo (no request to run the guards with): a guarded view loads in full', async () => {
    const { reader, sid } = await openLive(t, '/live/public');
    expect(sessions.send(sid, 'go')).toBe(true);
    const [load] = await reader.until(() => true);
    expect(script(load)).toBe(FULL_LOAD_ADMIN);
    expectNothingOfAdmin(load.lines.join('\n'));
    await reader.cancel();
  });

  it("the guard sees the target's route params and query", async () => {
    const { page, reader } = await openLive(t, '/live/public');
    guardProbe.reset();
    expect((await postNav(t, page.token, { to: '/live/users/7?tab=2' })).status).toBe(204);
    expect(guardProbe.seen).toEqual([{
      url: '/live/users/7?tab=2', path: '/live/users/7', originalUrl: '/live/users/7?tab=2', route: '/live/users/:id',
      rawUrl: adapter === 'fastify' ? '/live/users/7?tab=2' : undefined, method: 'GET', params: { id: '7' }, query: { tab: '2' },
    }]);
    await reader.until((e) => e.get('elements')?.includes('id="user"') === true);
    await reader.cancel();
  });

  it('with the credential both soft-navigate; mount gets the user the guard set', async () => {
    const viaNav = await openLive(t, '/live/public');
    guardProbe.reset();
    expect((await postNav(t, viaNav.page.token, { to: '/live/admin' }, undefined)).status).toBe(200); // no credential: full load
    const res = await t.fetch('/ds/_nav', {
      method: 'POST', headers: liveHeaders(viaNav.page.token, credential), body: JSON.stringify({ to: '/live/admin' }),
    });
    expect(res.status).toBe(204);
    const events = await viaNav.reader.until((e) => e.get('elements')?.includes(ADMIN_HTML) === true);
    expect(events[0].signals).toMatchObject({ secret: ADMIN_SIGNAL, onPublic: null });
    expect(sessions.get(viaNav.sid)?.route).toBe('/live/admin');
    expect(guardProbe.adminMounts).toEqual([{ user: { name: 'admin' } }]);
    await viaNav.reader.cancel();

    const viaEvent = await openLive(t, '/live/public');
    guardProbe.reset();
    expect((await goEvent(viaEvent.page.token, credential)).status).toBe(204);
    await viaEvent.reader.until((e) => e.get('elements')?.includes(ADMIN_HTML) === true);
    expect(sessions.get(viaEvent.sid)?.route).toBe('/live/admin');
    expectGuardSawAdmin();
    expect(guardProbe.adminMounts).toEqual([{ user: { name: 'admin' } }]);
    await viaEvent.reader.cancel();
  });
});
