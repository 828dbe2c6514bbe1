import { createServer } from 'node:http';
import { DatastarTestClient, setupDatastarMatchers, type HttpAppLike } from 'nestjs-datastar/testing';
import { startFixtureServer, type FixtureServer } from './counter-app.fixture';

setupDatastarMatchers();

describe('DatastarTestClient', () => {
  let app: FixtureServer;
  let client: DatastarTestClient;

  beforeAll(async () => {
    app = await startFixtureServer();
    client = new DatastarTestClient(app.url);
  });
  afterEach(() => { app.requests.length = 0; });
  afterAll(() => app.close());

  describe('event()', () => {
    it('posts the signals as JSON with the Datastar headers and parses the answer', async () => {
      const res = await client.event('counter', 'increment', { count: 4 });
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toBe('text/event-stream');
      expect(res.text).toBe(
        'event: datastar-patch-signals\ndata: signals {"count":5}\n\n'
        + 'event: datastar-patch-elements\ndata: selector #history-list\ndata: mode append\ndata: elements <li>5</li>\n\n',
      );
      expect(res.events).toHaveLength(2);
      expect(res).toPatchSignals({ count: 5 });
      expect(res).toPatchElements('#history-list', { mode: 'append', contains: '<li>5</li>' });
      const [req] = app.requests;
      expect(req).toMatchObject({ method: 'POST', url: '/ds/counter/increment', body: '{"count":4}' });
      expect(req.headers).toMatchObject({ 'datastar-request': 'true', 'content-type': 'application/json' });
    });

    it('sends GET signals in the datastar query parameter, with no body', async () => {
      const res = await client.event('search', 'query', { query: 'bl' }, { method: 'get' });
      expect(res).toPatchElements('results', { contains: '<li>blueberry</li>' });
      const [req] = app.requests;
      expect(req.method).toBe('GET');
      expect(req.url).toBe(`/ds/search/query?datastar=${encodeURIComponent('{"query":"bl"}')}`);
      expect(req.body).toBe('');
    });

    it('uses another route prefix and extra headers when asked', async () => {
      const res = await client.event('counter', 'increment', {}, { path: 'elsewhere', headers: { 'x-trace': '1' } });
      expect(res.status).toBe(404);
      expect(res.events).toEqual([]);
      expect(app.requests[0].url).toBe('/elsewhere/counter/increment');
      expect(app.requests[0].headers['x-trace']).toBe('1');
    });

    it('sends a request as a cross-site link or form would, for security tests (datastarRequest: false)', async () => {
      await client.event('counter', 'increment', {}, { datastarRequest: false, headers: { 'Sec-Fetch-Site': 'cross-site' } });
      expect(app.requests[0].headers['datastar-request']).toBeUndefined();
      expect(app.requests[0].headers['sec-fetch-site']).toBe('cross-site');
      await client.stream('/ds/clock/stream', { count: 1, datastarRequest: false }).catch(() => undefined);
      expect(app.requests[1].headers['datastar-request']).toBeUndefined();
    });

    it('leaves events empty for a body that is not an event stream', async () => {
      const res = await client.request('/ds/misc/form', { signals: {} });
      expect(res.headers['content-type']).toBe('text/html');
      expect(res.text).toBe('<p id="received">{}</p>');
      expect(res.events).toEqual([]);
    });
  });

  describe('page()', () => {
    it('loads the HTML without Datastar headers and reads the initial signals', async () => {
      const res = await client.page('/counter');
      expect(res.status).toBe(200);
      expect(res.html).toContain('<span id="count" data-text="$count">');
      expect(res.signals).toEqual({ count: 0 });
      expect(app.requests[0].headers['datastar-request']).toBeUndefined();
    });

    it('merges object-literal and keyed data-signals in document order', async () => {
      expect((await client.page('/widgets')).signals).toEqual({ open: false, price: 3, qty: 2, _csrf: 'tok' });
      expect((await client.page('/clock')).signals).toEqual({ tick: 0 });
    });
  });

  describe('stream()', () => {
    it('reads N events of an endless stream, then aborts it', async () => {
      const closedBefore = app.streams.closed;
      const res = await client.stream('/ds/clock/stream', { count: 3 });
      expect(res.status).toBe(200);
      expect(res.ended).toBe(false);
      expect(res.events.map((e) => e.patchSignals!.signals)).toEqual([{ tick: 1 }, { tick: 2 }, { tick: 3 }]);
      expect(res.text).toContain('data: signals {"tick":1}');
      await waitUntil(() => app.streams.closed > closedBefore); // the server saw the client go
      expect(app.requests.at(-1)!.url).toBe(`/ds/clock/stream?datastar=${encodeURIComponent('{}')}`);
    });

    it('stops when the predicate holds', async () => {
      const res = await client.stream('/ds/clock/stream', { until: (events) => events.some((e) => e.patchSignals?.signals.tick === 2) });
      expect(res.events).toHaveLength(2);
    });

    it('rejects on timeout, listing what arrived', async () => {
      await expect(client.stream('/ds/clock/stream?max=1', { count: 5, timeoutMs: 150 })).rejects.toThrow(
        /client\.stream\('\/ds\/clock\/stream\?max=1'\) timed out after 150 ms waiting for 5 event\(s\); received 1 event\(s\):\n  #1 datastar-patch-signals \{"signals":\["\{\\"tick\\":1\}"\]\}/,
      );
    });

    it('rejects when the server ends the stream before the goal', async () => {
      await expect(client.stream('/ds/counter/increment', { method: 'post', signals: { count: 0 }, count: 3 }))
        .rejects.toThrow(/ended before the goal was met waiting for 3 event\(s\); received 2 event\(s\)/);
    });

    it('reads a finite stream to its end when given no goal', async () => {
      const res = await client.stream('/ds/counter/increment', { method: 'post', signals: { count: 9 } });
      expect(res.ended).toBe(true);
      expect(res).toPatchSignals({ count: 10 });
    });
  });

  describe('targets', () => {
    it('starts an app that is not listening on a free port of 127.0.0.1, like a Nest app', async () => {
      const server = createServer((req, res) => {
        res.writeHead(200, { 'Content-Type': 'text/event-stream' });
        res.end(`event: datastar-patch-signals\ndata: signals {"path":${JSON.stringify(req.url)}}\n\n`);
      });
      const listen = jest.fn((port: number, host: string) => new Promise<void>((resolve) => server.listen(port, host, resolve)));
      const nestLike: HttpAppLike = { getHttpServer: () => server, listen };
      try {
        const viaApp = new DatastarTestClient(nestLike);
        const res = await viaApp.event('a', 'b');
        expect(listen).toHaveBeenCalledWith(0, '127.0.0.1');
        expect(res).toPatchSignals({ path: '/ds/a/b' });
        expect(await viaApp.baseUrl()).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
        await viaApp.event('a', 'c');
        expect(listen).toHaveBeenCalledTimes(1);
      } finally {
        await new Promise((resolve) => server.close(resolve));
      }
    });

    it('uses an app that already listens as it is', async () => {
      const listen = jest.fn();
      const running = new DatastarTestClient({ getHttpServer: () => app.server, listen });
      expect(await running.baseUrl()).toBe(app.url);
      expect(listen).not.toHaveBeenCalled();
    });
  });
});

async function waitUntil(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
