/**
 * The sample's live counter across the death of its process (issue 11, item 3): real child
 * processes (`sample/src/main.ts`, as `npm start` runs it, no Redis, no LIVE_SECRET), killed
 * with SIGKILL or stopped with SIGTERM, and another one started on the same session folder; then
 * two processes sharing a real Redis and nothing else. The page's session resumes where it was:
 * same count, its token still good, a click made while no stream is open applied (its patch in
 * its own answer), and the stream that comes back gets the whole state and ticks again.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseEvents, readLivePage, SseReader, streamHeaders, type Sse } from '../live/fixtures/http';
import { RedisServer, requireRedisServer } from '../redis/redis-server';
import { startSample, type SampleProcess } from './fixtures/sample-process';

const signalsOf = (events: Sse[]) => Object.assign({}, ...events.filter((e) => e.signals).map((e) => e.signals));
const headers = (token: string) => ({ 'content-type': 'application/json', 'datastar-request': 'true', 'x-live-token': token });

describe('a live session survives its process (the sample, child processes)', () => {
  const dirs: string[] = [];
  const running: SampleProcess[] = [];
  const folder = () => {
    const dir = mkdtempSync(join(tmpdir(), 'live-restart-'));
    dirs.push(dir);
    return dir;
  };
  async function sample(env: Record<string, string | undefined>): Promise<SampleProcess> {
    const child = await startSample(env);
    running.push(child);
    return child;
  }
  afterEach(async () => {
    await Promise.all(running.splice(0).map((p) => p.stop('SIGKILL')));
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  /** The counter page, its stream open, clicked `clicks` times (each confirmed down the stream). */
  async function counterAt(base: string, clicks: number): Promise<{ token: string; stream: SseReader; ticks: number }> {
    const page = readLivePage(await (await fetch(`${base}/live/counter`)).text());
    const stream = await openStream(base, page.token);
    for (let n = 1; n <= clicks; n++) {
      expect((await click(base, page.token)).status).toBe(204);
      await stream.until((e) => e.signals?.count === n);
    }
    const seen = await stream.until((e) => typeof e.signals?.ticks === 'number', 5000);
    return { token: page.token, stream, ticks: seen.at(-1)!.signals!.ticks as number };
  }
  const click = (base: string, token: string) => fetch(`${base}/live/counter/_event/increment`, { method: 'POST', headers: headers(token), body: '{}' });
  async function openStream(base: string, token: string): Promise<SseReader> {
    const res = await fetch(`${base}/ds/_stream`, { headers: streamHeaders(token) });
    expect(res.status).toBe(200);
    return new SseReader(res);
  }

  /** After the restart: the click made before any stream is back, then the stream: whole state, ticks again, next click counts. */
  async function expectResumed(base: string, token: string, count: number, ticks: number): Promise<void> {
    const answer = await click(base, token);
    expect(answer.status).toBe(200);
    expect(signalsOf(parseEvents(await answer.text()))).toMatchObject({ count: count + 1 });
    const stream = await openStream(base, token);
    const first = await stream.until((e) => e.signals !== undefined);
    expect(first.at(-1)!.signals).toMatchObject({ count: count + 1 });
    await stream.until((e) => typeof e.signals?.ticks === 'number' && e.signals.ticks > ticks, 5000);
    expect((await click(base, token)).status).toBe(204);
    await stream.until((e) => e.signals?.count === count + 2);
    await stream.cancel();
  }

  it('SIGKILL, then a new process on the same folder: the session resumes (no secret configured)', async () => {
    const dir = folder();
    const first = await sample({ LIVE_STORE_DIR: dir, LIVE_SECRET: undefined });
    const { token, stream, ticks } = await counterAt(first.base, 3);
    expect(await first.stop('SIGKILL')).toBe('SIGKILL');
    expect(readdirSync(dir)).toContain('lock'); // left by the dead process: the next one takes it over
    await stream.cancel();
    const second = await sample({ LIVE_STORE_DIR: dir, LIVE_SECRET: undefined });
    await expectResumed(second.base, token, 3, ticks);
  }, 90_000);

  it('SIGTERM (a deploy), then a new process: the session resumes', async () => {
    const dir = folder();
    const first = await sample({ LIVE_STORE_DIR: dir, LIVE_SECRET: undefined });
    const { token, stream, ticks } = await counterAt(first.base, 2);
    // Nest's shutdown hooks close the app, then die of the signal again.
    expect(await first.stop('SIGTERM')).toBe('SIGTERM');
    expect(readdirSync(dir)).not.toContain('lock'); // closed: the store let go of its folder
    await stream.cancel();
    const second = await sample({ LIVE_STORE_DIR: dir, LIVE_SECRET: undefined });
    await expectResumed(second.base, token, 2, ticks);
  }, 90_000);

  const redisBinary = requireRedisServer();
  (redisBinary ? it : it.skip)('Redis: a second process with its own (empty) folder resumes what the first one kept', async () => {
    const redis = await RedisServer.start(redisBinary!);
    try {
      const env = { REDIS_URL: redis.url, DATASTAR_REDIS_SECRET: 'r'.repeat(40), LIVE_SECRET: 'l'.repeat(40) };
      const first = await sample({ ...env, LIVE_STORE_DIR: folder() });
      const { token, stream, ticks } = await counterAt(first.base, 2);
      expect(await first.stop('SIGKILL')).toBe('SIGKILL');
      await stream.cancel();
      const empty = folder();
      const second = await sample({ ...env, LIVE_STORE_DIR: empty });
      await expectResumed(second.base, token, 2, ticks);
      expect(readdirSync(empty)).not.toContain('journal.ndjson'); // from Redis, not a file
    } finally {
      await Promise.all(running.splice(0).map((p) => p.stop('SIGKILL')));
      await redis.stop();
    }
  }, 90_000);
});
