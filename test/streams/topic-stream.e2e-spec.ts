import { Injectable, Module } from '@nestjs/common';
import { connect, type Socket } from 'node:net';
import {
  DatastarModule, DatastarPubSub, OnEvent, patchElements, patchSignals, Signals, SignalTracker, StarController,
  StreamRegistryService,
} from 'nestjs-datastar';
import { ADAPTERS, startApp, type TestApp } from '../core/fixtures/harness';
import { eventually, setsSignal, SseStream } from './fixtures/sse-client';

const ROOM = 'room';
const ORDERED = 'ordered';
const MAX_BUFFERED = 64 * 1024;
/** One browser's cookie: tab dedup only replaces streams of the same browser. */
const BROWSER = { cookie: 'ds_bid=topic-browser-aaaaaaaa' };

@Injectable()
class Reasons extends Map<string, string> {}

/** Handlers that return `pubsub.subscribe(topic)` as is: dispatch writes the topic straight to the stream. */
@StarController('topic')
class TopicController {
  constructor(
    private readonly ds: SignalTracker,
    private readonly pubsub: DatastarPubSub,
    private readonly reasons: Reasons,
  ) {}

  @OnEvent('room', { method: 'GET', streamScope: ROOM })
  room(@Signals('id') id: string) {
    this.ds.signal('joined', id);
    this.ds.onClose((reason) => this.reasons.set(id, reason));
    return this.pubsub.subscribe(ROOM);
  }

  /** A tracker call from this stream's own timer, then a publish on the same tick. */
  @OnEvent('ordered', { method: 'GET' })
  ordered(@Signals('id') id: string) {
    setTimeout(() => {
      this.ds.patchSignals({ mine: id });
      void this.pubsub.publish(ORDERED, patchSignals({ published: id }));
    }, 20);
    return this.pubsub.subscribe(ORDERED);
  }
}

@Module({
  imports: [DatastarModule.forRoot({ heartbeat: false, maxBufferedBytes: MAX_BUFFERED })],
  controllers: [TopicController],
  providers: [Reasons],
})
class TopicStreamModule {}

describe.each(ADAPTERS)('a topic returned as is (%s)', (adapter) => {
  let t: TestApp;
  let pubsub: DatastarPubSub;
  let streams: StreamRegistryService;
  let reasons: Reasons;
  const opened: SseStream[] = [];
  const open = async (path: string, signals: Record<string, unknown>) => {
    const stream = await SseStream.open(t.base, path, { signals, headers: BROWSER });
    opened.push(stream);
    return stream;
  };
  const joined = async (id: string, tabId?: string) => {
    const stream = await open('/ds/topic/room', tabId === undefined ? { id } : { id, tabId });
    await stream.waitFor(`${id} joined`, setsSignal('joined', id));
    return stream;
  };
  beforeAll(async () => {
    t = await startApp(TopicStreamModule, adapter);
    pubsub = t.app.get(DatastarPubSub);
    streams = t.app.get(StreamRegistryService);
    reasons = t.app.get(Reasons);
  });
  afterEach(async () => {
    opened.splice(0).forEach((s) => s.close());
    await eventually('the topic to empty', () => pubsub.subscriberCount(ROOM) === 0 && streams.count() === 0);
  });
  afterAll(() => t?.close());

  it('writes every publication to every stream, in order, after what the handler sent', async () => {
    const all = await Promise.all(['a', 'b', 'c'].map((id) => joined(id)));
    expect(pubsub.subscriberCount(ROOM)).toBe(3);
    await pubsub.publish(ROOM, patchSignals({ n: 1 }));
    await pubsub.publish(ROOM, [patchSignals({ n: 2 }), patchSignals({ n: 3 })]);
    for (const [i, stream] of all.entries()) {
      await stream.waitFor('the last publication', setsSignal('n', 3));
      expect(stream.signalPatches()).toEqual([{ joined: ['a', 'b', 'c'][i] }, { n: 1 }, { n: 2 }, { n: 3 }]);
    }
  });

  it("writes what the stream's own tracker calls queued before a publication that follows them", async () => {
    const stream = await open('/ds/topic/ordered', { id: 'o1' });
    await stream.waitFor('the publication', setsSignal('published'));
    expect(stream.signalPatches()).toEqual([{ mine: 'o1' }, { published: 'o1' }]);
  });

  it('forgets a stream whose client left: topic, registry and later publications', async () => {
    const a = await joined('left-a');
    const b = await joined('left-b');
    a.close();
    await eventually('the topic to lose one stream', () => pubsub.subscriberCount(ROOM) === 1);
    expect(streams.count(ROOM)).toBe(1);
    expect(reasons.get('left-a')).toBe('client-closed');
    await pubsub.publish(ROOM, patchSignals({ after: 1 }));
    await b.waitFor('the publication', setsSignal('after', 1));
  });

  it("a newer stream of the same tab ends the older one, which leaves the topic", async () => {
    const first = await joined('tab-first', 'tab-1');
    const second = await joined('tab-second', 'tab-1');
    expect(await first.waitForEnd()).toBe('end');
    expect(reasons.get('tab-first')).toBe('replaced');
    expect(pubsub.subscriberCount(ROOM)).toBe(1);
    await pubsub.publish(ROOM, patchSignals({ to: 'second' }));
    await second.waitFor('the publication', setsSignal('to', 'second'));
    expect(first.signalPatches()).toEqual([{ joined: 'tab-first' }]);
  });

  it('closes a client that stops reading as slow-client; the others keep receiving', async () => {
    let slow: Socket | undefined;
    try {
      slow = connect({ host: '127.0.0.1', port: Number(new URL(t.base).port) });
      const signals = encodeURIComponent(JSON.stringify({ id: 'slow' }));
      slow.write(`GET /ds/topic/room?datastar=${signals} HTTP/1.1\r\nHost: 127.0.0.1\r\nDatastar-Request: true\r\n\r\n`);
      slow.pause();
      slow.on('error', () => undefined);
      const healthy = await joined('healthy');
      await eventually('both streams on the topic', () => pubsub.subscriberCount(ROOM) === 2);
      const chunk = 'x'.repeat(16 * 1024);
      // Paced by the healthy client (at most 2 events = 32 KiB behind), bounded to 64 MiB.
      for (let n = 1; n <= 4096 && !reasons.has('slow'); n++) {
        await pubsub.publish(ROOM, patchElements(`<p id="f">${n}${chunk}</p>`));
        await healthy.until(`flood event ${n - 2}`, () => healthy.eventCount >= n - 1);
      }
      expect(reasons.get('slow')).toBe('slow-client');
      expect(reasons.has('healthy')).toBe(false);
      expect(pubsub.subscriberCount(ROOM)).toBe(1);
      await pubsub.publish(ROOM, patchSignals({ still: 'here' }));
      await healthy.waitFor('a publication after the flood', setsSignal('still', 'here'));
    } finally {
      slow?.destroy();
    }
  });

  it('ends its streams cleanly when the pub/sub closes (shutdown)', async () => {
    const a = await joined('end-a');
    await pubsub.close();
    expect(await a.waitForEnd()).toBe('end');
    expect(reasons.get('end-a')).toBe('ended');
    expect(pubsub.subscriberCount(ROOM)).toBe(0);
  });
});
