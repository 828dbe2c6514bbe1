import { Observable } from 'rxjs';
import type { MessageEventLike } from '../protocol/encoder';
import { encodeEvent } from '../protocol/encoder';
import { encodeOnce, type SseCloseListener, type SseCloseReason, type SseWriter } from '../protocol/sse-writer';
import { LocalTopics, type TopicLifecycle } from './local-topics';
import { TopicIds } from './topic-ids';

const event = (data: string): MessageEventLike => ({ type: 'datastar-patch-signals', data });

/** The part of SseWriter a topic uses, recording what it is given. */
class FakeWriter {
  readonly writes: Buffer[] = [];
  readonly log: string[];
  private readonly hooks: Array<(reason: SseCloseReason) => void> = [];
  closed = false;

  constructor(log: string[] = []) {
    this.log = log;
  }

  writeBytes(bytes: Buffer): boolean {
    if (this.closed) return false;
    this.writes.push(bytes);
    this.log.push(`write ${bytes.toString()}`);
    return true;
  }

  onClose(hook: (reason: SseCloseReason) => void): void {
    this.hooks.push(hook);
  }

  addCloseListener(listener: SseCloseListener): void {
    this.hooks.push((reason) => listener.writerClosed(this.asWriter, reason));
  }

  close(reason: SseCloseReason = 'ended'): void {
    if (this.closed) return;
    this.closed = true;
    for (const hook of this.hooks.splice(0)) hook(reason);
  }

  get asWriter(): SseWriter {
    return this as unknown as SseWriter;
  }
}

describe('LocalTopics: writers attached straight to a topic', () => {
  let lifecycle: string[];
  let topics: LocalTopics;
  beforeEach(() => {
    lifecycle = [];
    topics = new LocalTopics({ opened: (t) => lifecycle.push(`opened ${t}`), closed: (t) => lifecycle.push(`closed ${t}`) });
  });

  it('writes each publication as one buffer, encoded once and shared by every writer', () => {
    const writers = Array.from({ length: 3 }, () => new FakeWriter());
    for (const w of writers) topics.attach('room', w.asWriter, { end: () => undefined });
    const batch = [event('signals {"a":1}'), event('signals {"b":2}')];
    topics.deliver('room', [event('signals {"x":0}')]);
    topics.deliver('room', batch);
    for (const w of writers) {
      expect(w.writes.map(String)).toEqual([
        encodeEvent(event('signals {"x":0}')),
        encodeEvent(batch[0]) + encodeEvent(batch[1]),
      ]);
      // The very same Buffer objects: nothing encoded or copied per stream.
      expect(w.writes[0]).toBe(writers[0].writes[0]);
      expect(w.writes[1]).toBe(writers[0].writes[1]);
    }
  });

  it('calls beforeEach right before each write, so what the stream queued goes out first', () => {
    const log: string[] = [];
    const w = new FakeWriter(log);
    topics.attach('room', w.asWriter, { beforeEach: () => log.push('flush'), end: () => undefined });
    topics.deliver('room', [event('one')]);
    topics.deliver('room', [event('two'), event('three')]);
    expect(log).toEqual(['flush', `write ${encodeEvent(event('one'))}`, 'flush', `write ${encodeEvent(event('two'))}${encodeEvent(event('three'))}`]);
  });

  it('forgets a writer when it closes (mid-fan-out too), and tells the adapter when the topic empties', () => {
    const a = new FakeWriter();
    const b = new FakeWriter();
    topics.attach('room', a.asWriter, { end: () => undefined });
    topics.attach('room', b.asWriter, { beforeEach: () => b.close('slow-client'), end: () => undefined });
    expect(topics.count('room')).toBe(2);
    topics.deliver('room', [event('1')]);
    expect(b.writes).toEqual([]);
    expect(topics.count('room')).toBe(1);
    a.close();
    expect(topics.count('room')).toBe(0);
    expect(lifecycle).toEqual(['opened room', 'closed room']);
  });

  it('does not hand the publication being delivered to a writer attached during it', () => {
    const late = new FakeWriter();
    const first = new FakeWriter();
    topics.attach('room', first.asWriter, {
      beforeEach: () => topics.attach('room', late.asWriter, { end: () => undefined }),
      end: () => undefined,
    });
    topics.deliver('room', [event('current')]);
    expect(late.writes).toEqual([]);
    topics.deliver('room', [event('next')]);
    expect(late.writes.map(String)).toEqual([encodeEvent(event('next'))]);
  });

  it('ends attached writers on close, ends new ones at once, and ignores writers already closed', () => {
    const ended: string[] = [];
    const closedWriter = new FakeWriter();
    closedWriter.close();
    topics.attach('room', closedWriter.asWriter, { end: () => ended.push('closed writer') });
    expect(topics.count('room')).toBe(0);
    topics.attach('room', new FakeWriter().asWriter, { end: () => ended.push('a') });
    topics.close();
    expect(ended).toEqual(['a']);
    topics.attach('room', new FakeWriter().asWriter, { end: () => ended.push('after close') });
    expect(ended).toEqual(['a', 'after close']);
    expect(topics.count('room')).toBe(0);
  });
});

describe('LocalTopics: a fresh stream gets the topic position as its first id', () => {
  const ids = new TopicIds('ns');
  const idBlock = (position: string) => `id: ${ids.idOf('room', position)}\n\n`;
  const fresh = (writer: FakeWriter) => ({ replayable: true, writer: writer.asWriter });
  const withPosition = (position: TopicLifecycle['position']) =>
    new LocalTopics({ opened: () => undefined, closed: () => undefined, position }, ids);

  it('writes the position alone in a block, at once, before the publications (with their own ids)', () => {
    const topics = withPosition(() => '4');
    const w = new FakeWriter();
    topics.attach('room', w.asWriter, { end: () => undefined }, fresh(w));
    expect(w.writes.map(String)).toEqual([idBlock('4')]);
    topics.deliver('room', [event('five')], '5');
    expect(w.writes.map(String)).toEqual([idBlock('4'), String(encodeOnce(ids.identify('room', '5', [event('five')])[0]))]);
  });

  it('writes it to the stream even when the topic is subscribed through a pipe (an event-only pipe would drop it)', () => {
    const topics = withPosition(() => '4');
    const w = new FakeWriter();
    const received: MessageEventLike[] = [];
    const subscription = new Observable<MessageEventLike>((subscriber) => topics.join('room', subscriber, fresh(w)))
      .subscribe((e) => received.push(e));
    expect(w.writes.map(String)).toEqual([idBlock('4')]);
    expect(received).toEqual([]);
    subscription.unsubscribe();
  });

  it('sends none to a stream that resumes, to one without ids, or when the adapter cannot say', () => {
    const position = jest.fn(() => '4');
    const topics = withPosition(position);
    const resumed = new FakeWriter();
    const plain = new FakeWriter();
    topics.attach('room', resumed.asWriter, { end: () => undefined }, { ...fresh(resumed), lastEventId: 'x' });
    topics.attach('room', plain.asWriter, { end: () => undefined }, { replayable: false, writer: plain.asWriter });
    expect(position).not.toHaveBeenCalled();
    expect([resumed.writes, plain.writes]).toEqual([[], []]);
    const noBacklog = new LocalTopics({ opened: () => undefined, closed: () => undefined, position });
    const w = new FakeWriter();
    noBacklog.attach('room', w.asWriter, { end: () => undefined }, fresh(w));
    const unknown = withPosition(() => undefined);
    const u = new FakeWriter();
    unknown.attach('room', u.asWriter, { end: () => undefined }, fresh(u));
    expect([w.writes, u.writes]).toEqual([[], []]);
  });

  it('holds publications while the position is read, then writes the id first: never after a newer one', async () => {
    let read!: (position: string) => void;
    const topics = withPosition(() => new Promise<string>((resolve) => (read = resolve)));
    const w = new FakeWriter();
    topics.attach('room', w.asWriter, { end: () => undefined }, fresh(w));
    topics.deliver('room', [event('five')], '5'); // published after the read, arrived before its answer
    expect(w.writes).toEqual([]);
    read('4');
    await Promise.resolve();
    expect(w.writes.map(String)).toEqual([idBlock('4'), String(encodeOnce(ids.identify('room', '5', [event('five')])[0]))]);
    topics.deliver('room', [event('six')], '6');
    expect(w.writes).toHaveLength(3);
  });

  it('writes nothing for a stream gone before the position was read', async () => {
    let read!: (position: string) => void;
    const topics = withPosition(() => new Promise<string>((resolve) => (read = resolve)));
    const w = new FakeWriter();
    topics.attach('room', w.asWriter, { end: () => undefined }, fresh(w));
    w.close('client-closed');
    read('4');
    await Promise.resolve();
    expect(w.writes).toEqual([]);
  });
});
