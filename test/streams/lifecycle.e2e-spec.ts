import { connect, type Socket } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { patchElements } from 'nestjs-datastar';
import { CLEANUP_TOPIC, FLOOD_TOPIC, startApp, type TestApp } from './fixtures/streams.app';
import { eventually, setsSignal, sleep, SseStream, within } from './fixtures/sse-client';

/** Long-lived streams over real HTTP: heartbeat, disconnect cleanup, slow readers, shutdown. */
describe('stream lifecycle', () => {
  describe('heartbeat', () => {
    let on: TestApp;
    let off: TestApp;
    const opened: SseStream[] = [];
    beforeAll(async () => {
      [on, off] = await Promise.all([startApp({ heartbeat: 100, heartbeatEvent: false }), startApp({ heartbeat: false })]);
    });
    afterEach(() => opened.splice(0).forEach((s) => s.close()));
    afterAll(async () => {
      await Promise.all([on?.close(), off?.close()]);
    });

    it('heartbeat: 100 -> an idle stream gets ":" comment lines, about one per 100 ms', async () => {
      const stream = await SseStream.open(on.base, '/ds/live/idle', { signals: { id: 'hb-on' } });
      opened.push(stream);
      expect(stream.status).toBe(200);
      await sleep(550);
      // Idle for 550 ms: ~5 beats (checked every 50 ms); at least 3 even on a loaded CI box.
      expect(stream.comments).toBeGreaterThanOrEqual(3);
      expect(stream.comments).toBeLessThanOrEqual(7);
      expect(stream.events).toEqual([]);
      // Every beat is exactly ":\n\n": a comment line, then the blank line.
      expect(stream.text).toMatch(/^(:\n\n)+$/);
    });

    it('heartbeat: 100 -> no comments on a stream that is never idle that long', async () => {
      const stream = await SseStream.open(on.base, '/ds/live/busy');
      opened.push(stream);
      await stream.until('30 events (300 ms)', () => stream.events.length >= 30);
      expect(stream.comments).toBe(0);
    });

    it('heartbeat: false -> none, however long the stream idles', async () => {
      const stream = await SseStream.open(off.base, '/ds/live/idle', { signals: { id: 'hb-off' } });
      opened.push(stream);
      expect(stream.status).toBe(200);
      await sleep(400);
      expect(stream.open).toBe(true);
      expect(stream.comments).toBe(0);
      expect(stream.text).toBe('');
    });
  });

  describe('client disconnect', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startApp({ heartbeat: false });
    });
    afterAll(() => t?.close());

    it('N clients abort: counts return to 0, finalize ran, onClose ran, abortSignal aborted, no timer left', async () => {
      const N = 12;
      const ids = Array.from({ length: N }, (_, i) => `gone-${i}`);
      const clients = await Promise.all(
        ids.map((id, i) => SseStream.open(t.base, '/ds/live/watched', { signals: { id, tabId: `tab-${i}` } })),
      );
      try {
        // Every stream is live: counted, subscribed, and receiving both the topic and the timer.
        expect(t.streams.count('watched')).toBe(N);
        expect(t.streams.count()).toBe(N);
        expect(t.streams.counts()).toEqual({ watched: N });
        expect(t.pubsub.subscriberCount(CLEANUP_TOPIC)).toBe(N);
        await t.pubsub.publish(CLEANUP_TOPIC, patchElements('<p id="hello">hello</p>'));
        await Promise.all(clients.map((c) => c.waitFor('the topic event', (e) => e.data.includes('elements <p id="hello">hello</p>'))));
        await Promise.all(clients.map((c) => c.waitFor('a tick', setsSignal('tick'))));
        for (const id of ids) expect(t.probe.get(id)).toMatchObject({ aborted: false, closed: [], finalized: 0 });
      } finally {
        clients.forEach((c) => c.close());
      }

      await eventually('every stream to be cleaned up', () => t.streams.count() === 0);
      expect(t.streams.counts()).toEqual({});
      expect(t.pubsub.subscriberCount(CLEANUP_TOPIC)).toBe(0);
      for (const id of ids) {
        expect(t.probe.get(id)).toMatchObject({ aborted: true, closed: ['client-closed'], finalized: 1 });
      }
      // The interval(40) was unsubscribed: nothing is emitted any more.
      const emitted = ids.map((id) => t.probe.get(id).emitted);
      await sleep(150);
      expect(ids.map((id) => t.probe.get(id).emitted)).toEqual(emitted);
    });
  });

  describe('slow reader', () => {
    const MAX_BUFFERED = 128 * 1024;
    const EVENT_BYTES = 16 * 1024;
    // The healthy client may lag this many events (64 KiB): well within MAX_BUFFERED.
    const LAG = 4;
    const FLOOD_BYTES = 48 * 1024 * 1024;
    // What the server may keep after the flood (GC'd), against the 48 MiB it wrote to each client.
    const MEMORY_MARGIN = 16 * 1024 * 1024;
    let t: TestApp;
    let slow: Socket | undefined;
    let healthy: SseStream | undefined;
    beforeAll(async () => {
      t = await startApp({ heartbeat: false, maxBufferedBytes: MAX_BUFFERED });
    });
    afterAll(async () => {
      slow?.destroy();
      healthy?.close();
      await t?.close();
    });

    it('a client that stops reading is closed as slow-client; a healthy one keeps receiving; memory stays bounded', async () => {
      const gc = exposeGc();
      // The slow client: a raw GET, then it never reads again.
      slow = connect({ host: '127.0.0.1', port: Number(new URL(t.base).port) });
      const signals = encodeURIComponent(JSON.stringify({ id: 'slow' }));
      slow.write(`GET /ds/live/flood?datastar=${signals} HTTP/1.1\r\nHost: 127.0.0.1\r\nDatastar-Request: true\r\n\r\n`);
      slow.pause();
      slow.on('error', () => undefined);
      healthy = await SseStream.open(t.base, '/ds/live/flood', { signals: { id: 'healthy' }, retain: false });
      await eventually('both flood streams to open', () => t.streams.count('flood') === 2);

      gc();
      const before = process.memoryUsage();
      let peakArrayBuffers = before.arrayBuffers;
      let published = 0;
      let publishedWhenSlowClosed = -1;
      const deadline = Date.now() + 20_000;
      // Publish as fast as the healthy client reads (at most LAG events ahead of it).
      // At least FLOOD_BYTES, and on until the slow client is closed (bounded: 2 x FLOOD_BYTES or 20 s).
      const slowOpen = () => t.probe.get('slow').closed.length === 0;
      for (let n = 0; published < FLOOD_BYTES || (slowOpen() && published < 2 * FLOOD_BYTES); n++) {
        if (Date.now() > deadline) break;
        await healthy.until(`flood event ${n - LAG}`, () => countFlood(healthy!) >= n - LAG, 5000);
        await t.pubsub.publish(FLOOD_TOPIC, patchElements(`<p id="f">${String(n).padEnd(EVENT_BYTES, '.')}</p>`));
        published += EVENT_BYTES;
        if (publishedWhenSlowClosed < 0 && t.probe.get('slow').closed.length) publishedWhenSlowClosed = published;
        if (n % 64 === 0) {
          peakArrayBuffers = Math.max(peakArrayBuffers, process.memoryUsage().arrayBuffers);
          await new Promise((resolve) => setImmediate(resolve));
        }
      }
      const received = await healthy.until('the last flood event', () => {
        const count = countFlood(healthy!);
        return count === published / EVENT_BYTES ? count : undefined;
      });

      // The slow one was closed by the server, for being slow; the healthy one is still open.
      expect(t.probe.get('slow')).toMatchObject({ closed: ['slow-client'], aborted: true, finalized: 1 });
      expect(t.probe.get('healthy')).toMatchObject({ closed: [], finalized: 0 });
      expect(t.streams.count('flood')).toBe(1);
      expect(healthy.open).toBe(true);
      expect(received * EVENT_BYTES).toBe(published);
      expect(published).toBeGreaterThanOrEqual(FLOOD_BYTES);

      gc();
      const after = process.memoryUsage();
      const grew = {
        heapUsed: after.heapUsed - before.heapUsed,
        arrayBuffers: after.arrayBuffers - before.arrayBuffers,
        peakArrayBuffers: peakArrayBuffers - before.arrayBuffers,
      };
      console.log(
        `slow reader: published ${mib(published)} to each client; memory growth after GC: heapUsed ${mib(grew.heapUsed)}, ` +
          `arrayBuffers ${mib(grew.arrayBuffers)} (margin ${mib(MEMORY_MARGIN)}); peak arrayBuffers during the flood +${mib(grew.peakArrayBuffers)} ` +
          `(garbage included); the slow client was closed after ${mib(publishedWhenSlowClosed)}`,
      );
      expect(grew.heapUsed).toBeLessThan(MEMORY_MARGIN);
      expect(grew.arrayBuffers).toBeLessThan(MEMORY_MARGIN);
    });
  });

  describe('shutdown', () => {
    const STREAMS = 1000;
    let t: TestApp | undefined;
    const clients: SseStream[] = [];
    afterAll(async () => {
      clients.forEach((c) => c.close());
      await t?.close();
    });

    it(`app.close() with ${STREAMS} open streams resolves fast and every client sees a retryable end`, async () => {
      t = await startApp({ heartbeat: false });
      // In batches, so the listen backlog never overflows into SYN retries.
      for (let i = 0; i < STREAMS; i += 100) {
        const batch = Array.from({ length: Math.min(100, STREAMS - i) }, (_, j) =>
          SseStream.open(t!.base, '/ds/live/idle', { signals: { id: `s${i + j}` } }),
        );
        clients.push(...(await Promise.all(batch)));
      }
      expect(t.streams.count('live/idle')).toBe(STREAMS);
      expect(clients.every((c) => c.status === 200 && c.open)).toBe(true);

      const started = performance.now();
      await within(5000, t.close(), 'app.close()');
      const elapsed = performance.now() - started;
      console.log(`shutdown: app.close() with ${STREAMS} open streams took ${elapsed.toFixed(1)} ms`);
      expect(elapsed).toBeLessThan(2000);

      const ends = await within(2000, Promise.all(clients.map((c) => c.ended)), 'every client to see its stream end');
      // A `retry:` hint in the default window, then the connection dropped (no terminating chunk):
      // the Datastar client retries a network error, never a clean end.
      expect(ends.filter((how) => how !== 'reset')).toEqual([]);
      const hints = clients.map((c) => /^retry: (\d+)\n\n$/.exec(c.text)?.[1]).map(Number);
      expect(hints.filter((ms) => !(ms >= 500 && ms <= 3000))).toEqual([]);
      // Spread, so the pages do not all come back at once.
      expect(new Set(hints).size).toBeGreaterThan(STREAMS / 4);
      expect(t.streams.count()).toBe(0);
      const records = [...t.probe.streams.values()];
      expect(records).toHaveLength(STREAMS);
      expect(records.filter((r) => r.closed.join() !== 'shutdown' || !r.aborted || r.finalized !== 1)).toEqual([]);
    });
  });
});

function countFlood(stream: SseStream): number {
  return stream.eventCount;
}

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/** `global.gc` without restarting Jest with --expose-gc. */
function exposeGc(): () => void {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  return () => {
    gc();
    gc();
  };
}
