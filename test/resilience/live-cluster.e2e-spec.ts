/**
 * Live views on several processes (issue 11, item 4), with real processes: two sample apps
 * (`sample/src/main.ts`, child processes) share a real Redis and nothing else, and a small proxy
 * round-robins the browser's requests over them (no sticky sessions). Clicks count exactly; when
 * the process that holds the session is killed (SIGKILL), the other takes it over from the store.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseEvents, readLivePage, SseReader, streamHeaders, type Sse } from '../live/fixtures/http';
import { RedisServer, requireRedisServer } from '../redis/redis-server';
import { startSample, type SampleProcess } from './fixtures/sample-process';

const binary = requireRedisServer();
const describeRedis = binary ? describe : describe.skip;
const signalsOf = (events: Sse[]) => Object.assign({}, ...events.filter((e) => e.signals).map((e) => e.signals));
const headers = (token: string) => ({ 'content-type': 'application/json', 'datastar-request': 'true', 'x-live-token': token });

/** A load balancer without affinity: each request goes to the next live upstream in turn. */
function roundRobin(upstreams: () => string[]): Promise<{ base: string; server: Server }> {
  let next = 0;
  const server = createServer((req, res) => {
    const list = upstreams();
    const target = new URL(req.url ?? '/', list[next++ % list.length]);
    const upstream = request(target, { method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
    res.on('close', () => upstream.destroy());
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => {
    resolve({ base: `http://127.0.0.1:${(server.address() as { port: number }).port}`, server });
  }));
}

describeRedis('live sessions on two sample processes behind a round-robin proxy (real Redis)', () => {
  const running: SampleProcess[] = [];
  const dirs: string[] = [];
  let redis: RedisServer;

  beforeAll(async () => {
    redis = await RedisServer.start(binary!);
  });
  afterAll(() => redis.dispose());
  afterEach(async () => {
    await Promise.all(running.splice(0).map((p) => p.stop('SIGKILL')));
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  async function sample(): Promise<SampleProcess> {
    const dir = mkdtempSync(join(tmpdir(), 'live-cluster-'));
    dirs.push(dir);
    const env = { REDIS_URL: redis.url, DATASTAR_REDIS_SECRET: 'r'.repeat(40), LIVE_SECRET: 'l'.repeat(40), LIVE_STORE_DIR: dir };
    const child = await startSample(env);
    running.push(child);
    return child;
  }
  const click = (base: string, token: string) =>
    fetch(`${base}/live/counter/_event/increment`, { method: 'POST', headers: headers(token), body: '{}' });
  async function openStream(base: string, token: string): Promise<SseReader> {
    const res = await fetch(`${base}/ds/_stream`, { headers: streamHeaders(token) });
    expect(res.status).toBe(200);
    return new SseReader(res);
  }

  it('round-robined clicks count exactly; the owner killed, the other process takes the session over from the store', async () => {
    const [a, b] = await Promise.all([sample(), sample()]);
    const alive = new Set([a, b]);
    const proxy = await roundRobin(() => [...alive].map((p) => p.base));
    try {
      const page = readLivePage(await (await fetch(`${proxy.base}/live/counter`)).text());
      // The stream takes the session to A, whichever process served the page.
      const stream = await openStream(a.base, page.token);
      // In sequence, then all at once: every request alternates between the two processes.
      for (let n = 1; n <= 6; n++) expect((await click(proxy.base, page.token)).status).toBe(204);
      const burst = await Promise.all(Array.from({ length: 20 }, () => click(proxy.base, page.token)));
      expect(burst.map((r) => r.status)).toEqual(Array(20).fill(204));
      const seen = await stream.until((e) => e.signals?.count === 26, 10_000);
      const counts = seen.filter((e) => typeof e.signals?.count === 'number').map((e) => e.signals!.count);
      expect(counts).toEqual(Array.from({ length: 26 }, (_, n) => n + 1));

      // Kill A, which holds the session; the proxy only knows B from now on.
      expect(await a.stop('SIGKILL')).toBe('SIGKILL');
      alive.delete(a);
      await stream.cancel();

      // No stream open: the click is applied on the survivor and its patch comes back in its own answer.
      const answer = await click(proxy.base, page.token);
      expect(answer.status).toBe(200);
      expect(signalsOf(parseEvents(await answer.text()))).toMatchObject({ count: 27 });
      const again = await openStream(b.base, page.token);
      expect(signalsOf(await again.until((e) => e.signals?.count === 27, 5000))).toMatchObject({ count: 27 });
      expect((await click(proxy.base, page.token)).status).toBe(204);
      await again.until((e) => e.signals?.count === 28, 5000);
      await again.cancel();
    } finally {
      proxy.server.closeAllConnections();
      proxy.server.close();
    }
  }, 120_000);
});
