import { liveModule } from './fixtures/streams.app';
import { ADAPTERS, json, readSse, startApp, type TestApp } from './fixtures/harness';
import { elementsEvent, scriptEvent, signalsEvent } from './fixtures/sse';

const consoleError = (message: string) => scriptEvent(`console.error(${JSON.stringify(message)})`);

/**
 * An exception after the stream started cannot become a 500 any more: it is logged, shown in the
 * browser console outside production, and the response ends cleanly.
 */
describe.each(ADAPTERS)('exceptions after the stream started (%s)', (adapter) => {
  describe('development', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startApp(liveModule(false), adapter);
    });
    afterAll(() => t.close());
    beforeEach(() => t.logger.clear());

    it('sync throw: pending patches flushed, console.error in the stream, logged with the stack', async () => {
      expect(await readSse(await t.fetch('/ds/live/boom', json('POST', {})))).toEqual([
        signalsEvent({ before: 1 }),
        consoleError('[datastar] live/boom failed: kaboom'),
      ]);
      const errors = t.logger.lines.filter((l) => l.level === 'error');
      expect(errors).toHaveLength(1);
      expect(errors[0].message).toBe('live/boom failed: kaboom');
      expect(String(errors[0].rest[0])).toContain('Error: kaboom');
    });

    it('async throw', async () => {
      expect(await readSse(await t.fetch('/ds/live/boom-async', json('POST', {})))).toEqual([
        elementsEvent('<p id="a">a</p>'),
        consoleError('[datastar] live/boom-async failed: late kaboom'),
      ]);
      expect(t.logger.errors().join('\n')).toContain('live/boom-async failed: late kaboom');
    });

    it('an Observable that errors after its first event', async () => {
      expect(await readSse(await t.fetch('/ds/live/boom-stream', json('POST', {})))).toEqual([
        signalsEvent({ first: true }),
        consoleError('[datastar] live/boom-stream failed: stream kaboom'),
      ]);
      expect(t.logger.errors().join('\n')).toContain('live/boom-stream failed: stream kaboom');
    });

    it('an async generator that throws after its first event', async () => {
      expect(await readSse(await t.fetch('/ds/live/boom-generator', json('POST', {})))).toEqual([
        signalsEvent({ first: true }),
        consoleError('[datastar] live/boom-generator failed: generator kaboom'),
      ]);
      expect(t.logger.errors().join('\n')).toContain('live/boom-generator failed: generator kaboom');
    });

    it('the server keeps serving after a failure', async () => {
      await (await t.fetch('/ds/live/boom', json('POST', {}))).text();
      expect(await readSse(await t.fetch('/ds/live/ticks', json('POST', {})))).toHaveLength(3);
    });
  });

  describe('production: true', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startApp(liveModule(true), adapter);
    });
    afterAll(() => t.close());

    it('no console.error script reaches the browser; still logged; clean end', async () => {
      expect(await readSse(await t.fetch('/ds/live/boom', json('POST', {})))).toEqual([signalsEvent({ before: 1 })]);
      expect(await readSse(await t.fetch('/ds/live/boom-stream', json('POST', {})))).toEqual([signalsEvent({ first: true })]);
      expect(t.logger.errors().join('\n')).toContain('live/boom failed: kaboom');
      expect(t.logger.errors().join('\n')).toContain('live/boom-stream failed: stream kaboom');
    });
  });
});
