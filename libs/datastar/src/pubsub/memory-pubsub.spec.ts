import { take, type Subscription } from 'rxjs';
import type { MessageEventLike } from '../protocol/encoder';
import { MAX_TOPIC_LENGTH } from './datastar-pubsub';
import { MemoryPubSub } from './memory-pubsub';

const event = (data: string): MessageEventLike => ({ type: 'datastar-patch-elements', data });

/** Subscribes and collects what arrives, with a flag for completion. */
function collect(pubsub: MemoryPubSub, topic: string) {
  const received: MessageEventLike[] = [];
  const state = { completed: false, subscription: undefined as unknown as Subscription };
  state.subscription = pubsub.subscribe(topic).subscribe({
    next: (e) => received.push(e),
    complete: () => (state.completed = true),
  });
  return { received, state };
}

/** The adapter's private map, to prove unsubscribing leaves nothing behind. */
const topicMap = (pubsub: MemoryPubSub) =>
  (pubsub as unknown as { topics: { members: Map<string, unknown> } }).topics.members;

describe('MemoryPubSub', () => {
  let pubsub: MemoryPubSub;
  beforeEach(() => (pubsub = new MemoryPubSub()));
  afterEach(() => pubsub.close());

  it('gives every subscriber the same event instances, synchronously', () => {
    const a = collect(pubsub, 'room');
    const b = collect(pubsub, 'room');
    const e = event('hi');
    void pubsub.publish('room', e);
    // Delivered before publish() returned: no await needed.
    expect(a.received).toHaveLength(1);
    expect(a.received[0]).toBe(e);
    expect(b.received[0]).toBe(e);
  });

  it('keeps publication order, singles and arrays alike', async () => {
    const a = collect(pubsub, 'room');
    const events = ['1', '2', '3', '4', '5'].map(event);
    await pubsub.publish('room', events[0]);
    await pubsub.publish('room', [events[1], events[2]]);
    await pubsub.publish('room', events[3]);
    await pubsub.publish('room', [events[4]]);
    expect(a.received).toEqual(events);
    a.received.forEach((e, i) => expect(e).toBe(events[i]));
  });

  it('keeps topics apart', async () => {
    const a = collect(pubsub, 'a');
    const b = collect(pubsub, 'b');
    await pubsub.publish('a', event('for a'));
    expect(a.received.map((e) => e.data)).toEqual(['for a']);
    expect(b.received).toEqual([]);
  });

  it('delivers only what is published after subscribing', async () => {
    await pubsub.publish('room', event('before'));
    const a = collect(pubsub, 'room');
    await pubsub.publish('room', event('after'));
    expect(a.received.map((e) => e.data)).toEqual(['after']);
  });

  it('queues a publish made from inside a subscriber behind the current one', async () => {
    const seenBySecond: unknown[] = [];
    pubsub.subscribe('room').subscribe((e) => {
      if (e.data === 'first') void pubsub.publish('room', event('reply'));
    });
    pubsub.subscribe('room').subscribe((e) => seenBySecond.push(e.data));
    await pubsub.publish('room', event('first'));
    expect(seenBySecond).toEqual(['first', 'reply']);
  });

  it('does not hand the current event to a subscriber that joins during its delivery', async () => {
    const late: unknown[] = [];
    pubsub.subscribe('room').subscribe(() => {
      if (late.length === 0) pubsub.subscribe('room').subscribe((e) => late.push(e.data));
      late.push('joined');
    });
    await pubsub.publish('room', event('one'));
    await pubsub.publish('room', event('two'));
    expect(late).toEqual(['joined', 'joined', 'two']);
  });

  it('stops delivering a batch to a subscriber that unsubscribes mid-batch', async () => {
    const got: unknown[] = [];
    const subscription: Subscription = pubsub.subscribe('room').subscribe((e) => {
      got.push(e.data);
      subscription.unsubscribe();
    });
    await pubsub.publish('room', [event('1'), event('2')]);
    expect(got).toEqual(['1']);
  });

  it('counts subscribers and leaves no map entry after unsubscribing', () => {
    const a = collect(pubsub, 'room');
    const b = collect(pubsub, 'room');
    expect(pubsub.subscriberCount('room')).toBe(2);
    a.state.subscription.unsubscribe();
    expect(pubsub.subscriberCount('room')).toBe(1);
    b.state.subscription.unsubscribe();
    expect(pubsub.subscriberCount('room')).toBe(0);
    expect(topicMap(pubsub).size).toBe(0);
  });

  it('cleans up after operators that unsubscribe by themselves', async () => {
    const got: unknown[] = [];
    pubsub.subscribe('room').pipe(take(1)).subscribe((e) => got.push(e.data));
    await pubsub.publish('room', [event('1'), event('2')]);
    expect(got).toEqual(['1']);
    expect(topicMap(pubsub).size).toBe(0);
  });

  it('is cold: nothing is registered until someone subscribes', () => {
    pubsub.subscribe('room');
    expect(pubsub.subscriberCount('room')).toBe(0);
  });

  it.each([
    ['', /non-empty string/],
    [42, /non-empty string, got number/],
    ['x'.repeat(MAX_TOPIC_LENGTH + 1), /at most 256/],
    ['chat\nroom', /control character/],
    ['chat\u0000', /control character/],
  ])('rejects the topic %j with a message that says what to do', async (topic, message) => {
    expect(() => pubsub.subscribe(topic as string)).toThrow(message);
    await expect(pubsub.publish(topic as string, event('x'))).rejects.toThrow(message);
  });

  it('accepts a topic of exactly the maximum length and printable unicode', async () => {
    const long = 'x'.repeat(MAX_TOPIC_LENGTH);
    const a = collect(pubsub, long);
    const b = collect(pubsub, 'salle:café ☕');
    await pubsub.publish(long, event('1'));
    await pubsub.publish('salle:café ☕', event('2'));
    expect(a.received).toHaveLength(1);
    expect(b.received).toHaveLength(1);
  });

  it.each([[null], [42], ['text'], [[event('x'), null]]])(
    'rejects %j as events without delivering anything',
    async (events) => {
      const a = collect(pubsub, 'room');
      await expect(pubsub.publish('room', events as never)).rejects.toThrow(/MessageEvent objects/);
      expect(a.received).toEqual([]);
    },
  );

  it('treats an empty list as nothing to do', async () => {
    const a = collect(pubsub, 'room');
    await pubsub.publish('room', []);
    expect(a.received).toEqual([]);
  });

  it('completes every subscriber on close, then ignores publishes and ends new subscriptions', async () => {
    const a = collect(pubsub, 'room');
    const b = collect(pubsub, 'other');
    await pubsub.close();
    expect(a.state.completed && b.state.completed).toBe(true);
    expect(topicMap(pubsub).size).toBe(0);
    await expect(pubsub.publish('room', event('late'))).resolves.toBeUndefined();
    expect(a.received).toEqual([]);
    const c = collect(pubsub, 'room');
    expect(c.state.completed).toBe(true);
    expect(pubsub.subscriberCount('room')).toBe(0);
    await expect(pubsub.close()).resolves.toBeUndefined();
  });

  it('closes on Nest application shutdown', async () => {
    const a = collect(pubsub, 'room');
    await pubsub.onApplicationShutdown();
    expect(a.state.completed).toBe(true);
  });

  it('fans one object out to 10,000 subscribers without copying it', async () => {
    let same = 0;
    const e = event('broadcast');
    const subscriptions = Array.from({ length: 10_000 }, () =>
      pubsub.subscribe('crowd').subscribe((got) => (got === e ? same++ : undefined)),
    );
    await pubsub.publish('crowd', e);
    expect(same).toBe(10_000);
    subscriptions.forEach((s) => s.unsubscribe());
    expect(topicMap(pubsub).size).toBe(0);
  });
});
