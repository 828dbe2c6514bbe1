import { liveModule } from './fixtures/streams.app';
import { ADAPTERS, json, readSse, startApp, type TestApp } from './fixtures/harness';
import { elementsEvent, scriptEvent, signalsEvent } from './fixtures/sse';

const consoleError = (message: string) => scriptEvent(`console.error(${JSON.stringify(message)})`);
/** The same text for the page, in the errors signal (`{{ds-script}}`'s notice shows it). */
const pageError = (text: string) => signalsEvent({ errors: { page: text } });

/** The generic text the browser gets for a failure (no details), with its error id. */
const HIDDEN = /^console\.error\("\[datastar\] The server could not complete this request \(error ([0-9a-f]{8}): the server log has the details under this id\)\."\)$/;

/**
 * An exception after the stream started cannot become a 500 any more: it is logged with an error
 * id, the browser console gets the details only with `exposeErrors: true` (else a generic text with
 * the same id), so does the page's errors signal, and the response ends cleanly.
 */
describe.each(ADAPTERS)('exceptions after the stream started (%s)', (adapter) => {
  describe('exposeErrors: true', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startApp(liveModule(true), adapter);
    });
    afterAll(() => t.close());
    beforeEach(() => t.logger.clear());

    it('sync throw: pending patches flushed, console.error in the stream, logged with the stack', async () => {
      expect(await readSse(await t.fetch('/ds/live/boom', json('POST', {})))).toEqual([
        signalsEvent({ before: 1 }),
        consoleError('[datastar] live/boom failed: kaboom'),
        pageError('live/boom failed: kaboom'),
      ]);
      const errors = t.logger.lines.filter((l) => l.level === 'error');
      expect(errors).toHaveLength(1);
      expect(errors[0].message).toMatch(/^live\/boom failed: kaboom \[error [0-9a-f]{8}\]$/);
      expect(String(errors[0].rest[0])).toContain('Error: kaboom');
    });

    it('async throw', async () => {
      expect(await readSse(await t.fetch('/ds/live/boom-async', json('POST', {})))).toEqual([
        elementsEvent('<p id="a">a</p>'),
        consoleError('[datastar] live/boom-async failed: late kaboom'),
        pageError('live/boom-async failed: late kaboom'),
      ]);
      expect(t.logger.errors().join('\n')).toContain('live/boom-async failed: late kaboom');
    });

    it('an Observable that errors after its first event', async () => {
      expect(await readSse(await t.fetch('/ds/live/boom-stream', json('POST', {})))).toEqual([
        signalsEvent({ first: true }),
        consoleError('[datastar] live/boom-stream failed: stream kaboom'),
        pageError('live/boom-stream failed: stream kaboom'),
      ]);
      expect(t.logger.errors().join('\n')).toContain('live/boom-stream failed: stream kaboom');
    });

    it('an async generator that throws after its first event', async () => {
      expect(await readSse(await t.fetch('/ds/live/boom-generator', json('POST', {})))).toEqual([
        signalsEvent({ first: true }),
        consoleError('[datastar] live/boom-generator failed: generator kaboom'),
        pageError('live/boom-generator failed: generator kaboom'),
      ]);
      expect(t.logger.errors().join('\n')).toContain('live/boom-generator failed: generator kaboom');
    });

    it('the server keeps serving after a failure', async () => {
      await (await t.fetch('/ds/live/boom', json('POST', {}))).text();
      expect(await readSse(await t.fetch('/ds/live/ticks', json('POST', {})))).toHaveLength(3);
    });
  });

  describe('by default (exposeErrors unset)', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startApp(liveModule(), adapter);
    });
    afterAll(() => t.close());
    beforeEach(() => t.logger.clear());

    /** The error id in the browser's generic text; asserts that text carries no details. */
    const hiddenId = (event: { data: string[] }) => {
      const script = event.data.find((line) => line.startsWith('elements '))!.replace(/^elements <script[^>]*>|<\/script>$/g, '');
      const match = HIDDEN.exec(script);
      expect(match).not.toBeNull();
      return match![1];
    };

    it('a secret in an error message stays in the server log: the browser gets an id the log line also has', async () => {
      const res = await t.fetch('/ds/live/leak', json('POST', {}));
      const body = await res.clone().text();
      const events = await readSse(res);
      expect(events).toHaveLength(2);
      expect(body).not.toContain('s3cret');
      expect(body).not.toContain('postgres');
      const id = hiddenId(events[0]);
      expect(events[1]).toEqual(pageError(`The server could not complete this request (error ${id}: the server log has the details under this id).`));
      const logged = t.logger.errors().join('\n');
      expect(logged).toContain('live/leak failed: connect failed: postgres://app:s3cret-pw@db.internal/prod');
      expect(logged).toContain(`[error ${id}]`);
    });

    it('each failure gets its own id; streams end cleanly after the generic text', async () => {
      const first = await readSse(await t.fetch('/ds/live/boom', json('POST', {})));
      const second = await readSse(await t.fetch('/ds/live/boom-stream', json('POST', {})));
      expect(first[0]).toEqual(signalsEvent({ before: 1 }));
      expect(second[0]).toEqual(signalsEvent({ first: true }));
      const ids = [hiddenId(first[1]), hiddenId(second[1])];
      expect(ids[0]).not.toBe(ids[1]);
      expect(t.logger.errors().join('\n')).toContain(`live/boom failed: kaboom [error ${ids[0]}]`);
      expect(t.logger.errors().join('\n')).toContain(`live/boom-stream failed: stream kaboom [error ${ids[1]}]`);
    });
  });
});
