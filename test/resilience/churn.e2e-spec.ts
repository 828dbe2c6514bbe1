/**
 * Churn: 10,000 stream open/close cycles, 100 at a time, against a streaming @OnEvent handler that
 * holds a pub/sub subscription, while broadcasts keep going. Afterwards every gauge is back to zero
 * and the heap is back to its baseline within a stated margin.
 */
import { randomBytes } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import { DatastarPubSub, patchSignals, StreamRegistryService, TabClaims } from 'nestjs-datastar';
import { ADAPTERS, startApp, type AdapterName, type TestApp } from '../core/fixtures/harness';
import { forceGc, mib, settledHeap } from './fixtures/heap';
import { hostileModule, seen, TOPIC } from './fixtures/hostile.app';
import { watchProcess } from './fixtures/process-watch';
import { RawStream } from './fixtures/raw-http';
import { waitFor } from './fixtures/wait';

/** 10,000 cycles on Express; Fastify's close path gets a shorter run to keep the suite fast. */
const CYCLES: Record<AdapterName, number> = {
  express: Number(process.env.CHURN_CYCLES ?? 10_000),
  fastify: Number(process.env.CHURN_CYCLES ?? 2_000),
};
const CONCURRENCY = 100;
const WARMUP = 1_000;
/**
 * Allowed heap growth after the cycles, measured after full GCs: 4 MiB plus 400 bytes a cycle
 * (7.8 MiB for 10,000). A leaked stream keeps ~10 KiB (writer, subscription, request, socket), so a
 * leak of even one stream in 25 fails. Without a usable gc() the number is approximate: 48 MiB.
 */
const marginFor = (cycles: number) => (forceGc ? 4 * 1024 * 1024 + cycles * 400 : 48 * 1024 * 1024);

const q = (signals: unknown) => `?datastar=${encodeURIComponent(JSON.stringify(signals))}`;

function connections(app: INestApplication): Promise<number> {
  return new Promise((resolve) => app.getHttpServer().getConnections((_: unknown, n: number) => resolve(n)));
}

describe.each(ADAPTERS)('churn: stream open/close cycles (%s)', (adapter) => {
  const cycles = CYCLES[adapter];
  const margin = marginFor(cycles);
  let t: TestApp;
  let streams: StreamRegistryService;
  let pubsub: DatastarPubSub;
  let claims: TabClaims;
  const watch = watchProcess();

  beforeAll(async () => {
    t = await startApp(hostileModule(), adapter);
    streams = t.app.get(StreamRegistryService);
    pubsub = t.app.get(DatastarPubSub);
    claims = t.app.get(TabClaims);
  });
  afterAll(async () => {
    await t.close();
    watch.expectNothing();
  });

  const opened = (path: string, headers?: Record<string, string>) =>
    RawStream.open(t.base, path, { headers }).then(async (stream) => {
      await stream.until((s) => s.text.includes('"open":true'));
      return stream;
    });

  /**
   * One cycle: open, wait for the stream's first event, leave (FIN or RST). Every tenth is a tab
   * reload: a second stream with the same tabId, which makes the server end the first ('replaced').
   */
  async function cycle(i: number): Promise<void> {
    if (i % 10 === 0) {
      const path = `/ds/echo/tab${q({ tabId: `tab-${i}` })}`;
      // The same browser (its id cookie) reloading: only then does the new stream replace the old.
      const browser = { cookie: `ds_bid=${randomBytes(16).toString('base64url')}` };
      const first = await opened(path, browser);
      const second = await opened(path, browser);
      await first.until((s) => s.responseEnded); // ended cleanly by the server
      first.destroy();
      second.destroy();
      await Promise.all([first.ended, second.ended]);
      return;
    }
    const stream = await opened('/ds/echo/hold');
    if (i % 2) stream.destroy();
    else stream.reset();
    await stream.ended;
  }
  /** Streams opened by `count` cycles from `from` (a tab cycle opens two). */
  const streamsOf = (from: number, count: number) =>
    count + Array.from({ length: count }, (_, k) => from + k).filter((i) => i % 10 === 0).length;

  async function run(from: number, count: number): Promise<void> {
    for (let i = from; i < from + count; i += CONCURRENCY) {
      await Promise.all(Array.from({ length: Math.min(CONCURRENCY, from + count - i) }, (_, k) => cycle(i + k)));
    }
  }

  async function expectAllClosed(expectedOpened: number): Promise<void> {
    await waitFor('every stream closed', () => streams.count() === 0 && seen.closed === seen.opened, 10_000,
      () => ({ counts: streams.counts(), opened: seen.opened, closed: seen.closed }));
    expect(seen.opened).toBe(expectedOpened);
    expect(streams.count()).toBe(0);
    expect(streams.counts()).toEqual({});
    expect(pubsub.subscriberCount(TOPIC)).toBe(0);
    expect(claims.count()).toBe(0);
    const deadline = Date.now() + 5000;
    while ((await connections(t.app)) > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(await connections(t.app)).toBe(0);
  }

  it(`${cycles} cycles, ${CONCURRENCY} at a time, under broadcasts: counts return to 0, heap to its baseline`, async () => {
    seen.reset();
    await run(0, WARMUP);
    await expectAllClosed(streamsOf(0, WARMUP));
    const baseline = await settledHeap();

    // Broadcasts keep arriving while streams open and close (writes to sockets that just left).
    let published = 0;
    const broadcaster = setInterval(() => void pubsub.publish(TOPIC, patchSignals({ n: ++published })), 2);
    const started = Date.now();
    try {
      await run(WARMUP, cycles);
    } finally {
      clearInterval(broadcaster);
    }
    const elapsed = Date.now() - started;
    const total = streamsOf(0, WARMUP + cycles);
    await expectAllClosed(total);
    expect(seen.reasons).toEqual({ 'client-closed': WARMUP + cycles, replaced: total - WARMUP - cycles });

    const after = await settledHeap();
    const growth = after - baseline;
    console.log(
      `churn (${adapter}): ${cycles} cycles in ${elapsed} ms (${Math.round((cycles / elapsed) * 1000)}/s), ${published} broadcasts; ` +
      `heap ${mib(baseline)} -> ${mib(after)} (growth ${mib(growth)}, margin ${mib(margin)}; ` +
      `${forceGc ? 'after full GCs' : 'APPROXIMATE: gc() unavailable'}); close reasons ${JSON.stringify(seen.reasons)}`,
    );
    expect(published).toBeGreaterThan(0);
    expect(growth).toBeLessThan(margin);
  }, 90_000);
});
