import { Module, type Type } from '@nestjs/common';
import { filter, map } from 'rxjs';
import {
  DatastarModule, DatastarPubSub, OnEvent, patchSignals, patchSignalsRaw, Signals, StarController, type DatastarModuleOptions,
} from 'nestjs-datastar';
import { ADAPTERS, startApp, type TestApp } from '../core/fixtures/harness';
import { lastIdOf, numbered, numbersOf } from '../streams/fixtures/replay.app';
import { eventually, setsSignal, SseStream } from '../streams/fixtures/sse-client';

/** Streams of the topic named by the `topic` signal: as is, through a pipe that keeps only `n` patches, or without replay. */
@StarController('open')
class OpenController {
  constructor(private readonly pubsub: DatastarPubSub) {}

  @OnEvent('topic', { method: 'GET' })
  topic(@Signals('topic') topic: string) {
    return this.pubsub.subscribe(topic, { onResync: () => patchSignals({ resynced: topic }) });
  }

  /** Like the sample's chat: what is not a publication it knows is dropped, the id is kept. */
  @OnEvent('mapped', { method: 'GET' })
  mapped(@Signals('topic') topic: string) {
    return this.pubsub.subscribe(topic, { onResync: () => patchSignals({ resynced: topic }) }).pipe(
      map((event) => /^signals \{"n":\d+\}$/.test(String(event.data)) ? patchSignalsRaw(String(event.data).slice(8), { eventId: event.id }) : null),
      filter((event) => event !== null),
    );
  }

  @OnEvent('plain', { method: 'GET' })
  plain(@Signals('topic') topic: string) {
    return this.pubsub.subscribe(topic, { replay: false });
  }
}

function openApp(options: DatastarModuleOptions = {}): Type {
  @Module({ imports: [DatastarModule.forRoot({ heartbeat: false, ...options })], controllers: [OpenController] })
  class OpenModule {}
  return OpenModule;
}

/**
 * A stream that opens on a replayable topic without `Last-Event-ID` gets the topic's position as
 * its first `id:`, alone: cut before its first publication, it still comes back with an id and
 * gets what was published meanwhile (in memory; Redis: test/redis/open-position-redis).
 */
describe.each(ADAPTERS)('the topic position on open, in memory (%s)', (adapter) => {
  let t: TestApp;
  let noBacklog: TestApp;
  let pubsub: DatastarPubSub;
  let topicNumber = 0;
  let topic: string;
  const opened: SseStream[] = [];
  const open = async (app: TestApp, path: string, lastEventId?: string) => {
    const stream = await SseStream.open(app.base, `/ds/open/${path}`, {
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
  /** The stream's first block: an id and nothing else (the client keeps the id, dispatches nothing). */
  const positionOf = (stream: SseStream) =>
    stream.until('the position', () => stream.events[0]).then((first) => {
      expect(first).toEqual({ id: expect.any(String), data: [] });
      expect(stream.text.startsWith(`id: ${first.id}\n\n`)).toBe(true);
      return first.id!;
    });

  beforeAll(async () => {
    t = await startApp(openApp(), adapter);
    noBacklog = await startApp(openApp({ pubsub: { backlog: false } }), adapter);
    pubsub = t.app.get(DatastarPubSub);
  });
  beforeEach(() => (topic = `open-${++topicNumber}`));
  afterEach(() => opened.splice(0).forEach((s) => s.close()));
  afterAll(async () => {
    await Promise.all([t?.close(), noBacklog?.close()]);
  });

  for (const path of ['topic', 'mapped']) {
    it(`${path}: a topic with nothing yet: a stream back with the id it opened with gets the first publications`, async () => {
      const first = await open(t, path);
      const position = await positionOf(first);
      first.close();
      await subscribed(t, 0);
      await pubsub.publish(`${topic}-other`, numbered(0)); // other topics publishing meanwhile change nothing
      await publishAll(1, 2);
      const back = await open(t, path, position);
      await subscribed(t, 1);
      await publishAll(3, 3);
      await back.until('n 3', () => numbersOf(back.events).at(-1) === 3);
      expect(numbersOf(back.events)).toEqual([1, 2, 3]);
      expect(back.signalPatches().some((s) => 'resynced' in s)).toBe(false);
      expect(back.events.filter((e) => e.id !== undefined && e.data.length === 0)).toEqual([]); // a resumed stream has its id
    });

    it(`${path}: a topic published before: the id is its newest publication, and what came after it replays`, async () => {
      await publishAll(1, 2);
      const first = await open(t, path);
      const position = await positionOf(first);
      await subscribed(t, 1);
      first.close();
      await subscribed(t, 0);
      await publishAll(3, 4);
      const back = await open(t, path, position);
      await back.until('n 4', () => numbersOf(back.events).at(-1) === 4);
      expect(numbersOf(back.events)).toEqual([3, 4]);
      expect(lastIdOf(back.events)).not.toBe(position);
    });
  }

  it('publications after the position carry their own ids: the last one seen is the one sent back', async () => {
    const stream = await open(t, 'topic');
    const position = await positionOf(stream);
    await subscribed(t, 1);
    await publishAll(1, 1);
    await stream.until('n 1', () => numbersOf(stream.events).at(-1) === 1);
    expect(stream.events.map((e) => e.id)).toEqual([position, lastIdOf(stream.events)]);
    expect(lastIdOf(stream.events)).not.toBe(position);
  });

  it('no id on a stream without replay ({ replay: false }, or backlog: false)', async () => {
    for (const [app, path] of [[t, 'plain'], [noBacklog, 'topic'], [noBacklog, 'mapped']] as const) {
      const stream = await open(app, path);
      await subscribed(app, 1);
      await app.app.get(DatastarPubSub).publish(topic, numbered(1));
      await stream.waitFor('n 1', setsSignal('n', 1));
      expect(stream.events.map((e) => e.id)).toEqual([undefined]);
      stream.close();
      await subscribed(app, 0);
    }
  });
});
