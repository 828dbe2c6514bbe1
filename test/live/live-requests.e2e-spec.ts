import { FastifyAdapter } from '@nestjs/platform-fastify';
import { liveHeaders, openLive, postEvent, startApp, streamHeaders, type LiveTestApp } from './fixtures/http';
import { LiveAppModule } from './fixtures/live.app';

/** A plain HTTP refusal (never an SSE byte): status, Allow and message. */
async function refusal(res: Response): Promise<{ status: number; allow: string | null; sse: boolean; message: string }> {
  const text = await res.text();
  let message = text;
  try {
    message = JSON.parse(text).message;
  } catch {
    // HEAD: no body
  }
  return {
    status: res.status,
    allow: res.headers.get('allow'),
    sse: (res.headers.get('content-type') ?? '').includes('text/event-stream') || /^(event|data):/m.test(text),
    message,
  };
}

const without = (headers: Record<string, string>, name: string) =>
  Object.fromEntries(Object.entries(headers).filter(([key]) => key !== name));

/**
 * Issue 9, item 2 for live views: their events, `_nav` and `_stream` are Datastar endpoints too:
 * without `Datastar-Request: true`, or marked `Sec-Fetch-Site: cross-site`, they answer 403 before
 * any SSE byte and nothing reaches the session; `_nav` and `_stream` answer their one method (405).
 */
describe.each(['express', 'fastify'] as const)('live endpoints take Datastar requests only (%s)', (adapter) => {
  let t: LiveTestApp;
  beforeAll(async () => {
    t = await startApp(LiveAppModule.register(), adapter === 'fastify' ? new FastifyAdapter() : undefined);
  });
  afterAll(() => t.close());

  it('_event without the header, or cross-site -> 403, and the view never sees the event', async () => {
    const { page, reader } = await openLive(t, '/live/counter');
    try {
      const headers = liveHeaders(page.token);
      const noHeader = await t.fetch('/live/counter/_event/increment', { method: 'POST', headers: without(headers, 'datastar-request'), body: '{}' });
      expect(await refusal(noHeader)).toEqual({ status: 403, allow: null, sse: false, message: expect.stringContaining('Datastar-Request: true') });
      const crossSite = await t.fetch('/live/counter/_event/increment', {
        method: 'POST', headers: { ...headers, 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' }, body: '{}',
      });
      expect(await refusal(crossSite)).toEqual({ status: 403, allow: null, sse: false, message: expect.stringContaining('Sec-Fetch-Site: cross-site') });

      // A real event now: the count goes from 0 to 1, so neither refused one ran.
      expect((await postEvent(t, '/live/counter', 'increment', page.token)).status).toBeLessThan(300);
      const events = await reader.until((e) => e.signals?.count !== undefined);
      expect(events.at(-1)!.signals!.count).toBe(1);
    } finally {
      await reader.cancel();
    }
  });

  it('_stream without the header or cross-site -> 403; POST -> 405 Allow: GET', async () => {
    const { page, reader } = await openLive(t, '/live/counter');
    await reader.cancel();
    const headers = streamHeaders(page.token);
    expect(await refusal(await t.fetch('/ds/_stream', { headers: without(headers, 'datastar-request') })))
      .toEqual({ status: 403, allow: null, sse: false, message: expect.stringContaining('Datastar-Request: true') });
    expect(await refusal(await t.fetch('/ds/_stream', { headers: { ...headers, 'sec-fetch-site': 'cross-site' } })))
      .toEqual({ status: 403, allow: null, sse: false, message: expect.stringContaining('Sec-Fetch-Site: cross-site') });
    expect(await refusal(await t.fetch('/ds/_stream', { method: 'POST', headers })))
      .toEqual({ status: 405, allow: 'GET', sse: false, message: expect.stringContaining('answers GET') });
  });

  it('_nav without the header -> 403; GET -> 405 Allow: POST', async () => {
    const { page, reader } = await openLive(t, '/live/a');
    try {
      const headers = { 'content-type': 'application/json', 'x-live-token': page.token };
      const res = await t.fetch('/ds/_nav', { method: 'POST', headers, body: JSON.stringify({ to: '/live/b' }) });
      expect(await refusal(res)).toEqual({ status: 403, allow: null, sse: false, message: expect.stringContaining('Datastar-Request: true') });
      const get = await t.fetch('/ds/_nav', { headers: { ...headers, 'datastar-request': 'true' } });
      expect(await refusal(get)).toEqual({ status: 405, allow: 'POST', sse: false, message: expect.stringContaining('answers POST') });
    } finally {
      await reader.cancel();
    }
  });

  it('the page GET itself stays a plain browser navigation (no header needed)', async () => {
    const res = await t.fetch('/live/counter');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/html');
    await res.text();
  });
});
