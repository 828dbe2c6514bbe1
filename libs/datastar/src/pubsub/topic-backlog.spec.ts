import type { MessageEventLike } from '../protocol/encoder';
import { encodeOnce } from '../protocol/sse-writer';
import { MemoryBacklog } from './topic-backlog';
import { TopicIds } from './topic-ids';

const event = (data: string): MessageEventLike => ({ type: 'datastar-patch-signals', data });
const options = { maxEvents: 3, maxBytes: 1_000_000, maxTopics: 2, maxAgeMs: 1000 };
const numbers = (batch: ReturnType<MemoryBacklog['since']>) => batch?.map((p) => p.events.map((e) => e.data).join());

describe('MemoryBacklog: bounded per topic, and in topics', () => {
  it('replays from a kept position on; resyncs (undefined) once what followed it was dropped', () => {
    const log = new MemoryBacklog(options);
    const positions = ['1', '2', '3', '4', '5'].map((n) => log.append('room', [event(n)]));
    // Kept: 3, 4, 5. From 2: nothing after it is missing (2 itself is not needed).
    expect(numbers(log.since('room', positions[1]))).toEqual(['3', '4', '5']);
    expect(numbers(log.since('room', positions[3]))).toEqual(['4', '5']);
    expect(log.since('room', positions[0])).toBeUndefined();
    expect(log.since('room', String(Number(positions[4]) + 1))).toBeUndefined(); // never got that far
    expect(log.stats('room').events).toBe(3);
  });

  it('bounds the bytes of a topic', () => {
    const size = encodeOnce(event('x'.repeat(100))).length;
    const log = new MemoryBacklog({ ...options, maxEvents: 100, maxBytes: size * 2 });
    for (let i = 0; i < 5; i++) log.append('room', [event('x'.repeat(100))]);
    expect(log.stats('room')).toEqual({ events: 2, bytes: size * 2 });
  });

  it('keeps maxTopics topics (least recently published goes), and forgets a silent one after maxAgeMs', () => {
    const log = new MemoryBacklog(options);
    const a = log.append('a', [event('a')], 0);
    log.append('b', [event('b')], 10);
    log.append('a', [event('a2')], 20);
    log.append('c', [event('c')], 30); // b was the least recently published
    expect(log.stats('b').events).toBe(0);
    expect(numbers(log.since('a', a, 40))).toEqual(['a', 'a2']);
    expect(log.since('a', a, 20 + options.maxAgeMs + 1)).toBeUndefined();
  });

  it('never reuses a position: a topic whose backlog was dropped does not take an old id for a new one', () => {
    const log = new MemoryBacklog({ ...options, maxTopics: 1 });
    const old = log.append('a', [event('a1')]);
    log.append('b', [event('b1')]); // a dropped
    log.append('a', [event('a2')]);
    log.append('a', [event('a3')]);
    expect(log.since('a', old)).toBeUndefined();
  });

  describe('position(): where a stream opening now stands', () => {
    it('is the newest publication of a topic: a stream back with it gets what came after', () => {
      const log = new MemoryBacklog(options);
      log.append('room', [event('1')]);
      const at = log.position('room');
      log.append('room', [event('2')]);
      log.append('room', [event('3')]);
      expect(numbers(log.since('room', at))).toEqual(['1', '2', '3']); // from itself on, which a replay skips
    });

    it('of a topic with nothing yet, replays its first publications, however many other topics published since', () => {
      const log = new MemoryBacklog({ ...options, maxTopics: 3 });
      log.append('other', [event('o1')]);
      const at = log.position('room');
      log.append('other', [event('o2')]);
      log.append('room', [event('1')]);
      log.append('room', [event('2')]);
      expect(numbers(log.since('room', at))).toEqual(['1', '2']);
      expect(numbers(log.since('silent', log.position('silent')))).toEqual([]); // nothing since: nothing to send, no resync
    });

    it('of a topic with nothing yet, resyncs once what followed it was dropped (trimmed, or the topic evicted)', () => {
      const trimmed = new MemoryBacklog(options);
      const at = trimmed.position('room');
      for (const n of ['1', '2', '3', '4']) trimmed.append('room', [event(n)]);
      expect(trimmed.since('room', at)).toBeUndefined();
      const evicted = new MemoryBacklog({ ...options, maxTopics: 2 });
      const from = evicted.position('room', 0);
      evicted.append('room', [event('1')], 10);
      evicted.append('a', [event('a')], 20);
      evicted.append('b', [event('b')], 30); // room was the least recently published: gone
      evicted.append('room', [event('2')], 40);
      expect(evicted.since('room', from, 50)).toBeUndefined();
    });

    it('never pushes a published topic out for a stream that opens (maxTopics full: a later replay resyncs)', () => {
      const log = new MemoryBacklog(options);
      log.append('a', [event('a')]);
      log.append('b', [event('b')]);
      const at = log.position('room');
      expect(log.stats('a').events + log.stats('b').events).toBe(2);
      log.append('a', [event('a2')]); // published meanwhile: room's first backlog begins after it
      log.append('room', [event('1')]);
      expect(log.since('room', at)).toBeUndefined();
    });

    it('of a topic silent past maxAgeMs starts over from now (its old position would resync)', () => {
      const log = new MemoryBacklog(options);
      log.append('room', [event('old')], 0);
      const at = log.position('room', options.maxAgeMs + 1);
      log.append('room', [event('new')], options.maxAgeMs + 2);
      expect(numbers(log.since('room', at, options.maxAgeMs + 3))).toEqual(['new']);
    });
  });
});

describe('TopicIds', () => {
  const ids = new TopicIds('ns');
  it('names each event of a publication, and reads its own ids back only for the same topic', () => {
    const identified = ids.identify('room', '7', [event('a'), event('b')]);
    const [first, last] = identified.map((e) => e.id!);
    expect(ids.parse('room', last)).toEqual({ position: '7' });
    expect(ids.parse('room', first)).toEqual({ position: '7', index: 0 });
    expect(ids.parse('other', last)).toBeUndefined();
    expect(new TopicIds('another process').parse('room', last)).toBeUndefined();
    for (const bad of ['', 'x', `${last}:1:2`, `${last.split(':')[0]}:abc`, `${last}:-1`, last + 'x'.repeat(200)]) {
      expect(ids.parse('room', bad)).toBeUndefined();
    }
  });

  it('encodes an identified event as the event with our id last, once', () => {
    const original = { type: 'datastar-patch-signals', data: 'signals {"a":1}', id: 'theirs' };
    const [identified] = ids.identify('room', '3', [original]);
    const bytes = encodeOnce(identified).toString();
    expect(bytes).toMatch(/^event: datastar-patch-signals\nid: theirs\ndata: signals \{"a":1\}\nid: [\w-]+:3\n\n$/);
    expect(encodeOnce(identified)).toBe(encodeOnce(identified));
    expect(identified.data).toBe(original.data);
  });
});
