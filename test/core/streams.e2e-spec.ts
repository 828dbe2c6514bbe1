import { patchSignals } from 'nestjs-datastar';
import { control, liveModule } from './fixtures/streams.app';
import { ADAPTERS, ds, eventually, json, readSse, startApp, type TestApp } from './fixtures/harness';
import { elementsEvent, scriptEvent, signalsEvent, SseReader } from './fixtures/sse';

/** A handler returning an Observable or an async iterable keeps the response open. */
describe.each(ADAPTERS)('streams (%s)', (adapter) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp(liveModule(false), adapter);
  });
  afterAll(() => t.close());

  it('an Observable of events: each event written, response ended on complete', async () => {
    expect(await readSse(await t.fetch('/ds/live/ticks', json('POST', {})))).toEqual([
      signalsEvent({ tick: 0 }),
      signalsEvent({ tick: 1 }),
      signalsEvent({ tick: 2 }),
    ]);
  });

  it('stays open until the Observable completes', async () => {
    control.subject = undefined;
    const res = await t.fetch('/ds/live/subject', json('POST', {}));
    expect(res.status).toBe(200);
    const reader = new SseReader(res);
    // Signals tracked before returning the stream are flushed at once.
    expect(await reader.next()).toEqual(signalsEvent({ open: true }));
    const pending = reader.next();
    let settled = false;
    void pending.then(() => (settled = true));
    await new Promise((r) => setTimeout(r, 30));
    expect(settled).toBe(false); // still open, nothing more written
    control.subject!.next(patchSignals({ pushed: 1 }));
    expect(await pending).toEqual(signalsEvent({ pushed: 1 }));
    control.subject!.complete();
    expect(await reader.end()).toBe(true);
    expect(reader.fields).not.toContain('id');
  });

  it('tracker calls inside the stream still arrive, in order', async () => {
    expect(await readSse(await t.fetch('/ds/live/tracked', json('POST', {})))).toEqual([
      signalsEvent({ start: true }),
      signalsEvent({ n: 0 }),
      elementsEvent('<li id="t0">0</li>', { selector: '#list', mode: 'append' }),
      signalsEvent({ n: 1 }),
      elementsEvent('<li id="t1">1</li>', { selector: '#list', mode: 'append' }),
      // A tracker call with no event emitted after it (tap + ignoreElements) is flushed too.
      signalsEvent({ late: 1 }),
      scriptEvent('console.log("late")'),
    ]);
  });

  it('an async generator of events, with tracker calls between yields', async () => {
    expect(await readSse(await t.fetch('/ds/live/generator', json('POST', {})))).toEqual([
      signalsEvent({ g: 0 }),
      elementsEvent('<p id="g">0</p>'),
      signalsEvent({ g: 1 }),
      elementsEvent('<p id="g">1</p>'),
      signalsEvent({ g: 2 }),
      elementsEvent('<p id="g">2</p>'),
    ]);
  });

  it('a client abort mid-stream unsubscribes the Observable (finalize runs)', async () => {
    const before = control.finalized;
    const abort = new AbortController();
    const res = await fetch(`${t.base}/ds/live/endless`, ds({ method: 'POST', signal: abort.signal }));
    const reader = new SseReader(res);
    expect(await reader.take(2)).toEqual([signalsEvent({ i: 0 }), signalsEvent({ i: 1 })]);
    expect(control.finalized).toBe(before);
    abort.abort();
    await eventually(() => control.finalized === before + 1);
  });

  it('a client abort mid-stream returns the async generator (its finally runs, no more steps)', async () => {
    const before = control.generatorFinally;
    const abort = new AbortController();
    const res = await fetch(`${t.base}/ds/live/endless-generator`, ds({ method: 'POST', signal: abort.signal }));
    const reader = new SseReader(res);
    expect(await reader.take(2)).toEqual([signalsEvent({ i: 0 }), signalsEvent({ i: 1 })]);
    abort.abort();
    await eventually(() => control.generatorFinally === before + 1);
    const steps = control.generatorSteps;
    await new Promise((r) => setTimeout(r, 40));
    expect(control.generatorSteps).toBe(steps);
  });
});
