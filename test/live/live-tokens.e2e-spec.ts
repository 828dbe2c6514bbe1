import { LiveSessionsService, LiveTokens } from 'nestjs-datastar';
import {
  eventually, openLive, postEvent, readLivePage, sidOf, sleep, startApp, type LiveTestApp, streamHeaders,
} from './fixtures/http';
import { LiveAppModule, probe } from './fixtures/live.app';

const SECRET = 'x'.repeat(40); // the fixture app's secret

/** A refusal is a plain 401 (never an SSE byte), with a message that says to reload. */
async function expect401(res: Response): Promise<void> {
  const text = await res.text();
  expect({ status: res.status, sse: res.headers.get('content-type')?.includes('text/event-stream') ?? false }).toEqual({ status: 401, sse: false });
  expect(JSON.parse(text).message).toMatch(/^Live token refused \(\w+\): reload the page/);
}

const stream = (t: LiveTestApp, token?: string, query = '') =>
  t.fetch(`/ds/_stream${query}`, { headers: token === undefined ? { 'datastar-request': 'true' } : streamHeaders(token) });

describe('live tokens over HTTP', () => {
  let t: LiveTestApp;
  let sessions: LiveSessionsService;
  beforeAll(async () => {
    t = await startApp(LiveAppModule.register());
    sessions = t.app.get(LiveSessionsService);
  });
  afterAll(() => t.close());
  beforeEach(() => probe.reset());

  const page = async (path = '/live/counter') => readLivePage(await (await t.fetch(path)).text());

  it('no token: 401 on the stream and on events', async () => {
    await expect401(await stream(t));
    await expect401(await postEvent(t, '/live/counter', 'increment', ''));
  });

  it('a forged signature: 401, and the session is untouched', async () => {
    const { token } = await page();
    const forged = token.slice(0, -2) + (token.endsWith('AA') ? 'BB' : 'AA');
    await expect401(await stream(t, forged));
    await expect401(await postEvent(t, '/live/counter', 'increment', forged));
    expect(sessions.get(sidOf(token))?.state).toBe('pending');
  });

  it('a payload pointing at another session, signature kept: 401', async () => {
    const mine = await page();
    const victim = await page();
    const [v, , sig] = mine.token.split('.');
    const body = Buffer.from(JSON.stringify({ sid: sidOf(victim.token), path: '/live/counter', exp: Date.now() + 60_000 })).toString('base64url');
    await expect401(await stream(t, `${v}.${body}.${sig}`));
    await expect401(await postEvent(t, '/live/counter', 'increment', `${v}.${body}.${sig}`));
  });

  it('a token signed with another secret: 401', async () => {
    const { token } = await page();
    const other = new LiveTokens('y'.repeat(40), 60_000).sign(sidOf(token), '/live/counter');
    await expect401(await stream(t, other));
    await expect401(await postEvent(t, '/live/counter', 'increment', other));
  });

  it('a token for another view: 401 on this view\'s events', async () => {
    const a = await page('/live/a');
    await expect401(await postEvent(t, '/live/counter', 'increment', a.token));
    // ...and a token of a real session for one path, replayed on a sibling path of the same route
    const user = await page('/live/users/1');
    await expect401(await postEvent(t, '/live/users/2', 'x', user.token));
  });

  it('a validly signed token for a session that does not exist (or ended): 401', async () => {
    const made = new LiveTokens(SECRET, 60_000).sign('no-such-session', '/live/counter');
    await expect401(await stream(t, made));
    await expect401(await postEvent(t, '/live/counter', 'increment', made));
    const { page: p, sid, reader } = await openLive(t, '/live/counter');
    await sessions.terminate(sid);
    expect(await reader.ended()).toBe(true);
    await expect401(await stream(t, p.token));
    await expect401(await postEvent(t, '/live/counter', 'increment', p.token));
  });

  it('the stream does not take the token from the URL (?token= ends up in access logs): 401, the session still waits', async () => {
    const { token } = await page();
    await expect401(await stream(t, undefined, `?token=${encodeURIComponent(token)}`));
    expect(sessions.get(sidOf(token))?.state).toBe('pending');
    // The header the page's data-init sends still opens it.
    const res = await stream(t, token);
    expect(res.status).toBe(200);
    await eventually(() => sessions.get(sidOf(token))?.connected === true);
    await res.body!.cancel();
  });

  it('events do not take the token from the query (only the header the page sends)', async () => {
    const { token } = await page();
    const res = await t.fetch(`/live/counter/_event/increment?token=${encodeURIComponent(token)}`, {
      method: 'POST', headers: { 'content-type': 'application/json', 'datastar-request': 'true' }, body: '{}',
    });
    await expect401(res);
  });
});

describe('expired live tokens', () => {
  it('expire after tokenTtlMs: 401 for stream and events; an open stream gets a fresh token before that', async () => {
    const t = await startApp(LiveAppModule.register({ tokenTtlMs: 2000 }));
    try {
      const idle = readLivePage(await (await t.fetch('/live/counter')).text());
      const { page, reader } = await openLive(t, '/live/counter');
      // Refreshed at half the lifetime (1 s), pushed down the stream as the _lv signal.
      const [refresh] = await reader.until((e) => e.signals?._lv !== undefined, 2500);
      const fresh = refresh.signals!._lv as string;
      expect(Object.keys(refresh.signals!)).toEqual(['_lv']);
      expect(fresh).not.toBe(page.token);
      const expiry = (token: string) => JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()).exp as number;
      await sleep(Math.max(0, expiry(page.token) - Date.now() + 20));
      // The page-load tokens are dead now...
      await expect401(await t.fetch('/ds/_stream', { headers: streamHeaders(idle.token) }));
      await expect401(await postEvent(t, '/live/counter', 'increment', page.token));
      // ...the refreshed one still works.
      expect((await postEvent(t, '/live/counter', 'increment', fresh, {})).status).toBe(204);
      await reader.cancel();
    } finally {
      await t.close();
    }
  });
});
