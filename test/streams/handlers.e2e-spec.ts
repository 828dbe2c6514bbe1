import { Logger } from '@nestjs/common';
import { TabClaims } from 'nestjs-datastar';
import { LATE_TOPIC, SLOW_MS, startApp, type TestApp } from './fixtures/streams.app';
import { dataOf, eventually, fire, setsSignal, signalsOf, sleep, SseStream, type SseEvent } from './fixtures/sse-client';

/** One browser's cookie: tab dedup only ever replaces streams of the same browser. */
const BROWSER = { cookie: 'ds_bid=browser-one-aaaaaaaaaa' };
const watched = (t: TestApp, id: string, tabId?: unknown) =>
  SseStream.open(t.base, '/ds/live/watched', { signals: tabId === undefined ? { id } : { id, tabId }, headers: BROWSER });

/** Per-tab dedup, streams on a user's own route, tracker calls inside streams, failing streams. */
describe('stream handlers', () => {
  let t: TestApp;
  const opened: SseStream[] = [];
  const track = (stream: SseStream) => (opened.push(stream), stream);
  beforeAll(async () => {
    t = await startApp({ heartbeat: false });
  });
  afterEach(async () => {
    opened.splice(0).forEach((s) => s.close());
    await eventually('the previous test\'s streams to close', () => t.streams.count() === 0);
  });
  afterAll(() => t?.close());

  describe('per-tab dedup', () => {
    it('a second stream with the same tabId ends the first (reason "replaced"); count stays 1', async () => {
      const first = track(await watched(t, 'd1', 'tab-A'));
      await first.waitFor('a tick', setsSignal('tick'));
      expect(t.streams.count('watched')).toBe(1);
      const second = track(await watched(t, 'd2', 'tab-A'));
      // The first response ends cleanly (the client would not retry it), the second lives on.
      expect(await first.waitForEnd()).toBe('end');
      await second.waitFor('a tick', setsSignal('tick'));
      expect(second.open).toBe(true);
      expect(t.streams.count('watched')).toBe(1);
      expect(t.probe.get('d1')).toMatchObject({ closed: ['replaced'], aborted: true, finalized: 1 });
      expect(t.probe.get('d2')).toMatchObject({ closed: [], aborted: false, finalized: 0 });
    });

    it('20 simultaneous opens with one tabId leave exactly one open stream', async () => {
      const ids = Array.from({ length: 20 }, (_, i) => `burst-${i}`);
      const streams = (await Promise.all(ids.map((id) => watched(t, id, 'tab-burst')))).map(track);
      await eventually('19 of 20 streams to end', () => streams.filter((s) => !s.open).length === 19);
      // Give a late (wrong) takeover time to show up before asserting the survivor.
      await sleep(100);
      const open = streams.filter((s) => s.open);
      expect(open).toHaveLength(1);
      expect(t.streams.count('watched')).toBe(1);
      await open[0].waitFor('a tick', setsSignal('tick'));
      const survivors = ids.filter((id) => t.probe.get(id).closed.length === 0);
      expect(survivors).toHaveLength(1);
      expect(ids.filter((id) => t.probe.get(id).closed.join() === 'replaced')).toHaveLength(19);
      expect(streams.filter((s) => s.endedBy === 'end')).toHaveLength(19);
    });

    it('different tabIds coexist, and so do equal tabIds in different scopes', async () => {
      const a = track(await watched(t, 'c1', 'tab-1'));
      const b = track(await watched(t, 'c2', 'tab-2'));
      const other = track(await SseStream.open(t.base, '/ds/live/manual', { signals: { id: 'c3', tabId: 'tab-1' } }));
      await Promise.all([a, b].map((s) => s.waitFor('a tick', setsSignal('tick'))));
      await sleep(50);
      expect([a.open, b.open, other.open]).toEqual([true, true, true]);
      expect(t.streams.counts()).toEqual({ watched: 2, manual: 1 });
      expect(t.probe.get('c3').tabId).toBe('tab-1');
    });

    it.each([
      ['too long', 'x'.repeat(65)],
      ['a space', 'tab 1'],
      ['a slash', 'tab/1'],
      ['markup', '<script>'],
      ['empty', ''],
      ['a number', 42],
      ['an object', { id: 'tab-1' }],
      ['an array', ['tab-1']],
    ])('an invalid tabId (%s) -> a plain stream, no dedup', async (_, tabId) => {
      const a = track(await SseStream.open(t.base, '/ds/live/manual', { signals: { id: 'inv-a', tabId } }));
      const b = track(await SseStream.open(t.base, '/ds/live/manual', { signals: { id: 'inv-b', tabId } }));
      const c = track(await watched(t, 'inv-c', tabId));
      const d = track(await watched(t, 'inv-d', tabId));
      await Promise.all([c, d].map((s) => s.waitFor('a tick', setsSignal('tick'))));
      expect([a, b, c, d].map((s) => [s.status, s.open])).toEqual(Array(4).fill([200, true]));
      expect(t.streams.counts()).toEqual({ manual: 2, watched: 2 });
      // startStream() tells the handler it is a plain stream.
      expect(t.probe.get('inv-a').tabId).toBeNull();
      expect(t.probe.get('inv-b').tabId).toBeNull();
    });

    it('no tabId at all -> plain streams', async () => {
      const a = track(await watched(t, 'none-a'));
      const b = track(await watched(t, 'none-b'));
      await Promise.all([a, b].map((s) => s.waitFor('a tick', setsSignal('tick'))));
      expect(t.streams.count('watched')).toBe(2);
    });

    it('streams.send(res, source, { scope, tabId }) on a user\'s own @Get route: SSE, tracker calls, dedup', async () => {
      const first = track(await SseStream.open(t.base, '/own/o1/tab-own', { headers: BROWSER }));
      expect(first.status).toBe(200);
      expect(first.headers['content-type']).toBe('text/event-stream');
      expect(first.headers['cache-control']).toBe('no-cache, no-transform');
      await first.waitFor('the first event', setsSignal('own', 'o1'));
      // ds.patchSignals() from a setTimeout inside the source reaches this stream.
      await first.waitFor('the timer\'s tracker call', setsSignal('late', 'o1'));
      expect(t.streams.count('own')).toBe(1);

      const second = track(await SseStream.open(t.base, '/own/o2/tab-own', { headers: BROWSER }));
      expect(await first.waitForEnd()).toBe('end');
      expect(t.probe.get('o1').finalized).toBe(1);
      await second.waitFor('the first event', setsSignal('own', 'o2'));
      expect(t.streams.count('own')).toBe(1);

      // A different tab and a plain one (no tabId) coexist with it.
      const third = track(await SseStream.open(t.base, '/own/o3/tab-other'));
      const plain = track(await SseStream.open(t.base, '/own/o4/none'));
      await Promise.all([third, plain].map((s) => s.waitFor('the first event', setsSignal('own'))));
      expect(t.streams.count('own')).toBe(3);
      expect(second.open).toBe(true);
      expect(second.text).not.toMatch(/^id:/m);
    });
  });

  describe('a client that leaves before its stream is set up', () => {
    beforeEach(() => t.probe.entered.clear());

    it('gone during an async guard (before the SSE response opened): nothing is left behind', async () => {
      const req = fire(t.base, '/ds/live/guarded', { id: 'g1', tabId: 'tab-g' });
      await eventually('the guard to run', () => t.probe.entered.has('guard'));
      req.destroy();
      await eventually('the handler to run', () => t.probe.streams.has('g1'), SLOW_MS + 2000);
      await eventually('the stream to be forgotten', () => t.streams.count() === 0, 1000);
      expect(t.pubsub.subscriberCount(LATE_TOPIC)).toBe(0);
      expect(t.app.get(TabClaims).count()).toBe(0);
      expect(t.probe.get('g1')).toMatchObject({ aborted: true, closed: ['client-closed'], finalized: 1 });

      // The tab's next stream is a normal one, not ended by a ghost of the first.
      const next = track(await SseStream.open(t.base, '/ds/live/guarded', { signals: { id: 'g2', tabId: 'tab-g' } }));
      await eventually('the second stream to start', () => t.streams.count('guarded') === 1, SLOW_MS + 2000);
      await t.pubsub.publish(LATE_TOPIC, { type: 'datastar-patch-signals', data: 'signals {"late":true}' });
      await next.waitFor('the topic event', setsSignal('late', true));
      expect(t.app.get(TabClaims).count()).toBe(1);
    });

    it('gone while the handler awaited before startStream(): nothing is left behind', async () => {
      const stream = await SseStream.open(t.base, '/ds/live/slow-start', { signals: { id: 'l1', tabId: 'tab-l' } });
      expect(stream.status).toBe(200);
      await eventually('the handler to run', () => t.probe.entered.has('l1'));
      stream.close();
      await eventually('the handler to finish', () => t.probe.streams.has('l1'), SLOW_MS + 2000);
      await eventually('the stream to be forgotten', () => t.streams.count() === 0, 1000);
      expect(t.pubsub.subscriberCount(LATE_TOPIC)).toBe(0);
      expect(t.app.get(TabClaims).count()).toBe(0);
      expect(t.probe.get('l1')).toMatchObject({ aborted: true, closed: ['client-closed'], finalized: 1 });
    });
  });

  it('tracker calls inside the returned Observable (in map, in a setTimeout) arrive on the stream, in order', async () => {
    const stream = track(await SseStream.open(t.base, '/ds/live/tracked'));
    await stream.waitFor('the setTimeout patch', (e) => (dataOf(e, 'elements') ?? '').includes('from setTimeout'));
    expect(stream.events.map(describeEvent)).toEqual([
      'signals {"start":true}',
      'signals {"inMap":1}',
      'elements <p id="a">from map</p>',
      'signals {"fromTimeout":1}',
      'elements <p id="b">from setTimeout</p>',
    ]);
    expect(stream.open).toBe(true);
  });

  describe('an Observable that errors mid-stream', () => {
    let errors: jest.SpyInstance;
    beforeEach(() => {
      errors = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    });
    afterEach(() => errors.mockRestore());

    it('with exposeErrors: logged, sends a console.error script with the message, and ends the stream cleanly', async () => {
      const exposing = await startApp({ heartbeat: false, exposeErrors: true });
      try {
        const stream = track(await SseStream.open(exposing.base, '/ds/live/fails', { signals: { id: 'f1' } }));
        expect(await stream.waitForEnd()).toBe('end');
        expect(stream.events.map(describeEvent)).toEqual([
          'signals {"before":1}',
          expect.stringMatching(/^elements <script data-effect="el.remove\(\)">console\.error\(.*kaboom/),
          // The page's notice: JSON data, shown as text.
          'signals {"errors":{"page":"live/fails failed: kaboom <mid-stream>"}}',
        ]);
        const script = dataOf(stream.events[1], 'elements')!;
        expect(script).toContain('[datastar] live/fails failed: kaboom');
        // The error text is JSON inside a script: its "<" cannot open a tag.
        expect(script).not.toContain('<mid-stream>');
        expect(dataOf(stream.events[1], 'selector')).toBe('body');
        expect(dataOf(stream.events[1], 'mode')).toBe('append');
        expect(errors).toHaveBeenCalledWith(expect.stringContaining('live/fails failed: kaboom <mid-stream>'), expect.any(String));
        expect(exposing.probe.get('f1')).toMatchObject({ closed: ['error'], aborted: true });
        expect(exposing.streams.count()).toBe(0);
      } finally {
        await exposing.close();
      }
    });

    it('by default: logged with an error id, and the browser gets only a generic text with that id', async () => {
      const stream = track(await SseStream.open(t.base, '/ds/live/fails', { signals: { id: 'f2' } }));
      expect(await stream.waitForEnd()).toBe('end');
      expect(stream.events.map(describeEvent)).toEqual([
        'signals {"before":1}',
        expect.stringMatching(/^elements <script data-effect="el.remove\(\)">console\.error\(.*could not complete this request \(error [0-9a-f]{8}:/),
        expect.stringMatching(/^signals \{"errors":\{"page":"The server could not complete this request \(error [0-9a-f]{8}:/),
      ]);
      expect(stream.text).not.toContain('kaboom');
      const id = /\(error ([0-9a-f]{8}):/.exec(stream.text)![1];
      expect(errors).toHaveBeenCalledWith(expect.stringContaining(`live/fails failed: kaboom <mid-stream> [error ${id}]`), expect.any(String));
      expect(t.probe.get('f2')).toMatchObject({ closed: ['error'], aborted: true });
    });
  });
});

function describeEvent(event: SseEvent): string {
  if (event.type === 'datastar-patch-signals') return `signals ${JSON.stringify(signalsOf(event))}`;
  return `elements ${dataOf(event, 'elements')}`;
}
