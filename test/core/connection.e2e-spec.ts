import { connectionModule } from './fixtures/connection.app';
import { ADAPTERS, ds, eventually, startApp, type TestApp } from './fixtures/harness';

const BEAT_MS = 100;
const EVENT_BEAT = 'event: datastar-heartbeat\n\n';

/** Reads a stream's text as it arrives, with when each chunk came. */
async function openStream(t: TestApp, path: string) {
  const abort = new AbortController();
  const openedAt = Date.now();
  const res = await fetch(t.base + path, ds({ signal: abort.signal }));
  const read = { text: '', arrivals: [] as Array<{ at: number; length: number }> };
  const decoder = new TextDecoder();
  void (async () => {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      read.text += decoder.decode(chunk, { stream: true });
      read.arrivals.push({ at: Date.now(), length: read.text.length });
    }
  })().catch(() => undefined);
  return { res, read, openedAt, close: () => abort.abort() };
}

/**
 * The connection state (`{{ds-connection}}`, the live shell) and the heartbeat event its watchdog
 * needs: on the wire at the configured interval, in the page with the same interval.
 */
describe.each(ADAPTERS)('connection state (%s)', (adapter) => {
  describe('heartbeatEvent unset (the default: true)', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startApp(connectionModule({ heartbeat: BEAT_MS }), adapter);
    });
    afterAll(() => t?.close());

    it('an idle stream beats with `event: datastar-heartbeat` (27 bytes, no data), one per heartbeat at most', async () => {
      const stream = await openStream(t, '/ds/conn/idle');
      try {
        expect(stream.res.status).toBe(200);
        await eventually(() => stream.read.text.length >= 4 * EVENT_BEAT.length, 5000);
        expect(Buffer.byteLength(EVENT_BEAT)).toBe(27);
        expect(stream.read.text).toMatch(/^(event: datastar-heartbeat\n\n)+$/);
        // A beat needs a heartbeat of silence since the last write: the 3rd cannot come before 3 of them.
        const third = stream.read.arrivals.find((a) => a.length >= 3 * EVENT_BEAT.length)!;
        expect(third.at - stream.openedAt).toBeGreaterThanOrEqual(3 * BEAT_MS);
      } finally {
        stream.close();
      }
    });

    it('a page with {{ds-connection}}: the indicator, whose watchdog ticks every half heartbeat and reopens after two', async () => {
      const html = await (await t.fetch('/conn')).text();
      expect(html.match(/id="ds-connection"/g)).toHaveLength(1);
      expect(html).toMatch(/<div id="ds-connection" role="status" aria-live="polite" hidden style="[^"]*" data-on:datastar-fetch="[^"]*now - r\.at &gt; 200\)[^"]*\}, 50\); [^"]*">/);
      expect(html).toContain('<span class="ds-connection-reconnecting">Reconnecting…</span>');
    });

    it('a live page: the shell shows it, and the layout\'s {{ds-connection}} adds no second one', async () => {
      const res = await t.fetch('/conn/live');
      expect(res.status).toBe(200);
      const html = await res.text();
      expect(html.match(/id="ds-connection"/g)).toHaveLength(1);
      expect(html).toMatch(/<main id="ds-live"[^>]*>.*<div id="ds-connection" [^>]*\}, 50\); /s);
    });
  });

  describe('heartbeatEvent: false', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startApp(connectionModule({ heartbeat: BEAT_MS, heartbeatEvent: false }), adapter);
    });
    afterAll(() => t?.close());

    it('beats stay 3-byte comments, and the page has the indicator without a watchdog', async () => {
      const stream = await openStream(t, '/ds/conn/idle');
      try {
        await eventually(() => stream.read.text.length >= 3 * 3, 5000);
        expect(stream.read.text).toMatch(/^(:\n\n)+$/);
      } finally {
        stream.close();
      }
      const html = await (await t.fetch('/conn')).text();
      expect(html).toContain('}, 5000); ');
      expect(html).not.toContain('s.setAttribute(a.name, a.value)');
    });
  });
});
