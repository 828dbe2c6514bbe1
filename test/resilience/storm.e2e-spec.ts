/**
 * A broadcast storm with slow and vanished clients: healthy fetch clients receive every event in
 * order while raw sockets that stop reading are closed as slow clients (server memory stays within
 * maxBufferedBytes per stream) and sockets that vanish mid-stream are cleaned up. Counts return to 0.
 */
import type { Socket } from 'node:net';
import { DatastarPubSub, patchSignals, StreamRegistryService } from 'nestjs-datastar';
import { ADAPTERS, startApp, type TestApp } from '../core/fixtures/harness';
import { forceGc, mib, settledHeap } from './fixtures/heap';
import { hostileModule, seen, TOPIC } from './fixtures/hostile.app';
import { watchProcess } from './fixtures/process-watch';
import { RawStream } from './fixtures/raw-http';
import { SignalsReader } from './fixtures/signals-reader';
import { waitFor } from './fixtures/wait';

const HEALTHY = 8;
const STALLED = 6;
const VANISHING = 6;
/**
 * At least this many events; more while a stalled client is still open (the kernel absorbs a few
 * MiB per paused loopback socket first, more on some systems), up to MAX_EVENTS.
 */
const EVENTS = 2_000;
const MAX_EVENTS = 20_000;
const PAD = 'x'.repeat(3_000);
/** Small on purpose: a paused socket first fills the kernel's buffers (~4 MiB on loopback), then this. */
const MAX_BUFFERED = 64 * 1024;
/** Events the publisher may run ahead of the slowest healthy client (well under MAX_BUFFERED). */
const WINDOW = 12;
const STORM_DEADLINE_MS = 40_000;
const HEAP_MARGIN = forceGc ? 8 * 1024 * 1024 : 48 * 1024 * 1024;

/** A healthy client: counts the broadcast events and checks their order. */
class HealthyClient {
  received = 0;
  lastSeq = -1;
  outOfOrder = 0;
  readonly reader = new SignalsReader((signals) => {
    if (signals.seq !== this.lastSeq + 1) this.outOfOrder++;
    this.lastSeq = Number(signals.seq);
    this.received++;
  });
  get opened() { return this.reader.opened; }
  get ended() { return this.reader.ended; }
  open(url: string) { return this.reader.open(url); }
  close() { return this.reader.close(); }
}

describe.each(ADAPTERS)('broadcast storm with slow and vanished clients (%s)', (adapter) => {
  let t: TestApp;
  const sockets = new Set<Socket>();
  const watch = watchProcess();

  beforeAll(async () => {
    t = await startApp(hostileModule({ maxBufferedBytes: MAX_BUFFERED }), adapter);
    t.app.getHttpServer().on('connection', (socket: Socket) => {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
    });
  });
  afterAll(async () => {
    await t.close();
    watch.expectNothing();
  });

  it(`${HEALTHY} healthy + ${STALLED} stalled + ${VANISHING} vanishing clients, at least ${EVENTS} events of ~3 KiB`, async () => {
    seen.reset();
    const streams = t.app.get(StreamRegistryService);
    const pubsub = t.app.get(DatastarPubSub);
    const url = `${t.base}/ds/echo/hold`;
    const baseline = await settledHeap();

    const healthy = Array.from({ length: HEALTHY }, () => new HealthyClient());
    await Promise.all(healthy.map((c) => c.open(url)));
    const stalled = await Promise.all(Array.from({ length: STALLED }, () => RawStream.open(t.base, '/ds/echo/hold')));
    const vanishing = await Promise.all(Array.from({ length: VANISHING }, () => RawStream.open(t.base, '/ds/echo/hold', { keepText: false })));
    await Promise.all(stalled.map((s) => s.until((x) => x.text.includes('"open":true'))));
    for (const s of stalled) s.pause();
    await waitFor('every stream open', () => healthy.every((c) => c.opened) && streams.count() === HEALTHY + STALLED + VANISHING);

    // Userland bytes buffered per server socket, sampled through the storm.
    let maxPerSocket = 0;
    let maxTotal = 0;
    let maxMemory = 0;
    const sample = () => {
      let total = 0;
      for (const socket of sockets) {
        maxPerSocket = Math.max(maxPerSocket, socket.writableLength);
        total += socket.writableLength;
      }
      maxTotal = Math.max(maxTotal, total);
      const memory = process.memoryUsage();
      maxMemory = Math.max(maxMemory, memory.heapUsed + memory.arrayBuffers);
    };
    const sampler = setInterval(sample, 5);

    const started = Date.now();
    let eventBytes = 0;
    let published = 0;
    try {
      for (let seq = 0; seq < MAX_EVENTS && (seq < EVENTS || (seen.reasons['slow-client'] ?? 0) < STALLED); seq++) {
        // Publish as fast as the slowest healthy client reads (within WINDOW events), no faster.
        while (Math.min(...healthy.map((c) => c.received)) < seq - WINDOW) {
          if (Date.now() - started > STORM_DEADLINE_MS) throw new Error(`storm stalled at ${seq}: ${healthy.map((c) => c.received)}`);
          await new Promise((resolve) => setImmediate(resolve));
        }
        const event = patchSignals({ seq, pad: PAD });
        eventBytes = Buffer.byteLength(String(event.data)) + 40;
        await pubsub.publish(TOPIC, event);
        published++;
        sample();
        // Clients vanish at a quarter, half and three quarters of the storm: FIN or RST.
        if (seq === EVENTS / 4 || seq === EVENTS / 2 || seq === (3 * EVENTS) / 4) {
          for (const s of vanishing.splice(0, 2)) (seq === EVENTS / 2 ? s.reset() : s.destroy());
        }
      }
      await waitFor('every healthy client to get every event', () => healthy.every((c) => c.received === published), 10_000,
        () => healthy.map((c) => c.received));
    } finally {
      clearInterval(sampler);
    }
    const elapsed = Date.now() - started;

    // Healthy clients got everything, in order, and are still open.
    expect(healthy.map((c) => [c.received, c.outOfOrder, c.ended])).toEqual(healthy.map(() => [published, 0, false]));
    // Every stalled client was cut off as a slow client; every vanished one was noticed.
    await waitFor('stalled clients closed as slow, vanished ones noticed',
      () => (seen.reasons['slow-client'] ?? 0) === STALLED && (seen.reasons['client-closed'] ?? 0) === VANISHING, 5000, () => seen.reasons);
    expect(seen.reasons).toEqual({ 'slow-client': STALLED, 'client-closed': VANISHING });
    expect(streams.count()).toBe(HEALTHY);
    // No socket ever buffered much more than the cap (plus the event that crossed it).
    expect(maxPerSocket).toBeLessThanOrEqual(MAX_BUFFERED + eventBytes + 64);
    expect(maxTotal).toBeLessThanOrEqual((STALLED + VANISHING + HEALTHY) * (MAX_BUFFERED + eventBytes + 64));

    for (const s of stalled) s.destroy();
    await Promise.all(healthy.map((c) => c.close()));
    await waitFor('every stream closed', () => streams.count() === 0 && seen.closed === seen.opened, 5000, () => streams.counts());
    expect(pubsub.subscriberCount(TOPIC)).toBe(0);
    await waitFor('every server socket closed', () => sockets.size === 0, 5000, () => sockets.size);

    const after = await settledHeap();
    console.log(
      `storm (${adapter}): ${published} events x ${HEALTHY + STALLED + VANISHING} streams in ${elapsed} ms; ` +
      `max buffered per socket ${(maxPerSocket / 1024).toFixed(1)} KiB (cap ${MAX_BUFFERED / 1024} KiB), all sockets ${mib(maxTotal)}; ` +
      `peak heap+buffers ${mib(maxMemory)}; heap ${mib(baseline)} -> ${mib(after)} after the storm` +
      `${forceGc ? '' : ' (APPROXIMATE: gc() unavailable)'}`,
    );
    expect(after - baseline).toBeLessThan(HEAP_MARGIN);
  }, 60_000);
});
