import { DatastarPubSub, patchSignals } from 'nestjs-datastar';
import { ADAPTERS, startApp, type TestApp } from '../core/fixtures/harness';
import { lastIdOf, numbered, numbersOf, ReplayAppModule } from './fixtures/replay.app';
import { eventually, setsSignal, SseStream } from './fixtures/sse-client';

/** Pub/sub replay in memory: a stream that comes back with `Last-Event-ID` gets what it missed. */
describe.each(ADAPTERS)('replay by Last-Event-ID, in memory (%s)', (adapter) => {
  let t: TestApp;
  let small: TestApp;
  let pubsub: DatastarPubSub;
  let topicNumber = 0;
  let topic: string;
  const opened: SseStream[] = [];
  const open = async (app: TestApp, path: string, lastEventId?: string) => {
    const stream = await SseStream.open(app.base, path, {
      signals: { topic },
      headers: lastEventId === undefined ? {} : { 'last-event-id': lastEventId },
    });
    opened.push(stream);
    return stream;
  };
  const subscribed = (app: TestApp, count: number) =>
    eventually(`${count} subscriber(s) on ${topic}`, () => app.app.get(DatastarPubSub).subscriberCount(topic) === count);
  const publishAll = async (from: number, to: number, on = pubsub) => {
    for (let n = from; n <= to; n++) await on.publish(topic, numbered(n));
  };

  beforeAll(async () => {
    t = await startApp(ReplayAppModule.register(), adapter);
    small = await startApp(ReplayAppModule.register({ pubsub: { backlog: { maxEvents: 3 } } }), adapter);
    pubsub = t.app.get(DatastarPubSub);
  });
  beforeEach(() => (topic = `replay-${++topicNumber}`));
  afterEach(() => opened.splice(0).forEach((s) => s.close()));
  afterAll(async () => {
    await Promise.all([t?.close(), small?.close()]);
  });

  for (const path of ['/ds/replay/topic', '/ds/replay/merged']) {
    it(`${path}: every topic event carries an id; a stream back with the last one gets what it missed, in order, once, then live`, async () => {
      const first = await open(t, path);
      await subscribed(t, 1);
      await publishAll(1, 3);
      await first.until('n 3', () => numbersOf(first.events).at(-1) === 3);
      expect(first.events.filter((e) => e.type === 'datastar-patch-signals' && 'n' in JSON.parse(e.data[0].slice(8))).every((e) => e.id)).toBe(true);
      const seen = lastIdOf(first.events)!;
      first.close();
      await subscribed(t, 0);
      await publishAll(4, 6); // nobody listens: only the backlog has them
      const back = await open(t, path, seen);
      await subscribed(t, 1);
      await publishAll(7, 7);
      await back.until('n 7', () => numbersOf(back.events).at(-1) === 7);
      expect(numbersOf(back.events)).toEqual([4, 5, 6, 7]);
      expect(back.signalPatches().some((s) => 'resynced' in s)).toBe(false);
      // The ids go on: the next reconnect resumes after 7.
      const again = await open(t, path, lastIdOf(back.events));
      back.close();
      await publishAll(8, 8);
      await again.until('n 8', () => numbersOf(again.events).at(-1) === 8);
      expect(numbersOf(again.events)).toEqual([8]);
    });
  }

  it('a fresh stream (no Last-Event-ID) gets live events only, and no resync', async () => {
    await publishAll(1, 2);
    const fresh = await open(t, '/ds/replay/merged');
    await subscribed(t, 1);
    await publishAll(3, 3);
    await fresh.until('n 3', () => numbersOf(fresh.events).at(-1) === 3);
    expect(numbersOf(fresh.events)).toEqual([3]);
    expect(fresh.signalPatches()[0]).toEqual({ hello: topic });
    expect(fresh.signalPatches().some((s) => 'resynced' in s)).toBe(false);
  });

  it('a batch cut short resumes inside it: ids name each event of a publication', async () => {
    const first = await open(t, '/ds/replay/topic');
    await subscribed(t, 1);
    await pubsub.publish(topic, [numbered(1), numbered(2), numbered(3)]);
    await first.until('n 3', () => numbersOf(first.events).at(-1) === 3);
    const ids = first.events.filter((e) => e.type).map((e) => e.id); // not the topic's position, sent alone on open
    expect(new Set(ids).size).toBe(3);
    // The client saw the first event of the batch only.
    const back = await open(t, '/ds/replay/topic', ids[0]);
    await back.until('n 3', () => numbersOf(back.events).at(-1) === 3);
    expect(numbersOf(back.events)).toEqual([2, 3]);
    expect(back.events.map((e) => e.id)).toEqual(ids.slice(1));
  });

  it('events of a topic merged with { replay: false } carry no id (the stream resumes from one topic)', async () => {
    const stream = await open(t, '/ds/replay/merged');
    await subscribed(t, 1);
    await pubsub.publish(`${topic}:side`, patchSignals({ side: 1 }));
    await stream.waitFor('the side event', setsSignal('side', 1));
    expect(stream.events.find(setsSignal('side', 1))!.id).toBeUndefined();
  });

  for (const path of ['/ds/replay/topic', '/ds/replay/merged']) {
    it(`${path}: the backlog no longer reaches back -> onResync first, then live (maxEvents 3)`, async () => {
      const smallPubsub = small.app.get(DatastarPubSub);
      const first = await open(small, path);
      await subscribed(small, 1);
      await publishAll(1, 1, smallPubsub);
      await first.until('n 1', () => numbersOf(first.events).at(-1) === 1);
      first.close();
      await subscribed(small, 0);
      await publishAll(2, 6, smallPubsub); // 2 and 3 fall out of a 3-publication backlog
      const back = await open(small, path, lastIdOf(first.events));
      await subscribed(small, 1);
      await publishAll(7, 7, smallPubsub);
      await back.until('n 7', () => numbersOf(back.events).at(-1) === 7);
      expect(numbersOf(back.events)).toEqual([7]);
      const patches = back.signalPatches();
      expect(patches.findIndex((s) => s.resynced === topic)).toBeLessThan(patches.findIndex((s) => s.n === 7));
      expect(patches.filter((s) => 'resynced' in s)).toHaveLength(1);
    });
  }

  it('a malformed, foreign or oversized Last-Event-ID resyncs the stream: 200, no crash, then live', async () => {
    const other = await open(t, '/ds/replay/topic');
    await subscribed(t, 1);
    await publishAll(1, 1);
    await other.until('n 1', () => numbersOf(other.events).at(-1) === 1);
    const foreignTopic = lastIdOf(other.events)!;
    other.close();
    await subscribed(t, 0);
    const previous = topic;
    topic = `${previous}-other`;
    const values = [
      'garbage', ':', '::::', `${foreignTopic}`, `${foreignTopic}:x`, `${foreignTopic}:1:2`, '1-2',
      'x'.repeat(5000), '\u00e9\u00e8', `${foreignTopic.split(':')[0]}:999999999`, `${foreignTopic.split(':')[0]}:-1`,
    ];
    for (const value of values) {
      const stream = await open(t, '/ds/replay/topic', value);
      expect(stream.status).toBe(200);
      await stream.waitFor(`the resync for ${JSON.stringify(value.slice(0, 20))}`, setsSignal('resynced', topic));
      stream.close();
    }
    await subscribed(t, 0);
    const live = await open(t, '/ds/replay/topic', 'garbage');
    await subscribed(t, 1);
    await publishAll(2, 2);
    await live.until('n 2', () => numbersOf(live.events).at(-1) === 2);
    expect(numbersOf(live.events)).toEqual([2]);
  });

  it('exactly once across reconnects while publications keep coming (no gap, no duplicate at the seam)', async () => {
    const TOTAL = 600;
    let stream = await open(t, '/ds/replay/topic');
    await subscribed(t, 1);
    let published = 0;
    const publishing = (async () => {
      while (published < TOTAL) {
        await pubsub.publish(topic, numbered(++published));
        // Yield to I/O every few publications, so reconnects land between them.
        if (published % 5 === 0) await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    const received: number[] = [];
    let reconnects = 0;
    for (;;) {
      // Read a little (or up to the end), then drop the connection wherever it is: a network cut.
      const wanted = Math.min(TOTAL, (received.at(-1) ?? 0) + 20);
      await stream.until(`n ${wanted}`, () => (numbersOf(stream.events).at(-1) ?? 0) >= wanted, 10_000);
      stream.close();
      await stream.ended;
      received.push(...numbersOf(stream.events));
      if (received.at(-1) === TOTAL || ++reconnects > 100) break;
      stream = await open(t, '/ds/replay/topic', lastIdOf(stream.events));
    }
    await publishing;
    expect(reconnects).toBeGreaterThan(5);
    expect(received).toEqual(Array.from({ length: TOTAL }, (_, i) => i + 1));
  });
});
