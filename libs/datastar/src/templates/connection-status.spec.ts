import Handlebars from 'handlebars';
import { resolveDatastarSettings } from '../core/datastar-settings';
import { DATASTAR_LOCALS } from '../datastar.constants';
import { clientFunctionBody, runLikeClient } from '../protocol/client-compile.fixture';
import { CONNECTION_ID, connectionStatusHtml, trackExpression, watchCode, watchdogFor } from './connection-status';
import { registerDatastarHelpers } from './datastar-helpers';
import { pageFailureAttributes } from './page-failures';

/** An element as the expressions touch it: attributes, `setAttribute`, `isConnected`. */
function streamElement(attributes: Record<string, string>) {
  const set: Array<[string, string]> = [];
  return {
    isConnected: true,
    attributes: Object.entries(attributes).map(([name, value]) => ({ name, value })),
    setAttribute: (name: string, value: string) => set.push([name, value]),
    set,
  };
}

/** The indicator: two children whose class names their state. */
function indicator() {
  const child = (state: string) => ({ hidden: true, classList: { contains: (c: string) => c === `${CONNECTION_ID}-${state}` } });
  return { hidden: true, children: [child('reconnecting'), child('lost')] };
}

/** A page for the expressions: `window` with the document, storage, fetch and location they use. */
function page() {
  const e = indicator();
  const storage = new Map<string, string>();
  const fetches: Array<[string, RequestInit]> = [];
  const state = { status: 200, reloads: 0 };
  const timers: Array<[() => void, number]> = [];
  const window: Record<string, unknown> = {
    document: { hidden: false, getElementById: (id: string) => (id === CONNECTION_ID ? e : null) },
    sessionStorage: { getItem: (k: string) => storage.get(k) ?? null, setItem: (k: string, v: string) => storage.set(k, v) },
    location: { href: 'http://app.test/chat', reload: () => state.reloads++ },
    setInterval: (run: () => void, ms: number) => timers.push([run, ms]),
    fetch: (url: string, init: RequestInit) => {
      fetches.push([url, init]);
      return Promise.resolve({ status: state.status });
    },
  };
  const shown = () => (e.hidden ? '' : e.children[0].hidden ? 'lost' : 'reconnecting');
  return { window, e, fetches, state, timers, shown };
}

const WATCHDOG = { tickMs: 250, deadlineMs: 1000 };

describe('connection status', () => {
  let now: number;
  beforeEach(() => {
    now = 1_000_000;
    jest.spyOn(Date, 'now').mockImplementation(() => now);
  });
  afterEach(() => {
    jest.restoreAllMocks();
    delete (globalThis as { window?: unknown }).window;
  });

  // Each run gets a fresh copy of `window`: what the expression kept there is carried to the next run.
  const fire = (p: ReturnType<typeof page>, type: string, el: unknown) =>
    Object.assign(p.window, runLikeClient(trackExpression(WATCHDOG), { evt: { detail: { type, el, argsRaw: {} } }, window: p.window }).window);
  const tick = (p: ReturnType<typeof page>, watchdog: typeof WATCHDOG | undefined = WATCHDOG) =>
    Object.assign(p.window, runLikeClient(watchCode(watchdog), { window: p.window }).window);

  describe('the expressions, compiled like client 1.0.2', () => {
    it.each([
      ['track, with the watchdog', trackExpression(WATCHDOG)],
      ['track, the probe only', trackExpression()],
    ])('%s: no `$`, `@` or non-ASCII, and the client rewrites nothing', (_name, expression) => {
      expect(expression).toMatch(/^[\x20-\x7e]*$/);
      expect(expression).not.toMatch(/[$@]/);
      expect(clientFunctionBody(expression, false)).toBe(expression.trim());
    });

    it('the page-failure handler still compiles untouched, and defers a lost stream to #ds-connection', () => {
      const attribute = pageFailureAttributes({ notice: true, reloadOn401: true, errorsSignal: 'errors' });
      const fetchHandler = /data-on:datastar-fetch="([^"]*)"/.exec(attribute)![1].replace(/&#39;/g, "'").replace(/&quot;/g, '"').replace(/&amp;/g, '&');
      expect(clientFunctionBody(fetchHandler, false)).toBe(fetchHandler);
      expect(fetchHandler).toContain(`document.getElementById("${CONNECTION_ID}")`);
    });
  });

  describe('track: the indicator follows the datastar-fetch events', () => {
    it('hidden while requests work; "reconnecting" while one is retried; hidden again at its next event', () => {
      const p = page();
      const stream = streamElement({ 'data-init': "@get('/s')" });
      fire(p, 'started', stream);
      fire(p, 'datastar-patch-signals', stream);
      expect(p.shown()).toBe('');
      fire(p, 'retrying', stream);
      expect(p.shown()).toBe('reconnecting');
      // A retry that works fires no `started`: the stream's first event says it is back.
      fire(p, 'retrying', stream);
      expect(p.shown()).toBe('reconnecting');
      fire(p, 'datastar-heartbeat', stream);
      expect(p.shown()).toBe('');
    });

    it('"lost" once the client gives up, and it stays (the reload is the way out)', () => {
      const p = page();
      const stream = streamElement({ 'data-init': "@get('/s')" });
      fire(p, 'started', stream);
      fire(p, 'retrying', stream);
      fire(p, 'retries-failed', stream);
      fire(p, 'finished', stream);
      expect(p.shown()).toBe('lost');
      const other = streamElement({});
      fire(p, 'started', other);
      fire(p, 'datastar-patch-elements', other);
      expect(p.shown()).toBe('lost');
    });

    it('an HTTP error is not a lost connection', () => {
      const p = page();
      const button = streamElement({});
      fire(p, 'started', button);
      fire(p, 'error', button);
      fire(p, 'finished', button);
      expect(p.shown()).toBe('');
    });
  });

  describe('watch: a request silent for longer than the deadline is reopened', () => {
    it("sets the element's data-init attributes again (nothing else), once per deadline", () => {
      const p = page();
      const stream = streamElement({ 'data-signals': '{"a":1}', 'data-init__delay.10ms': "@get('/s')", 'data-on:click': 'x()' });
      fire(p, 'started', stream);
      tick(p);
      now += 250;
      tick(p);
      fire(p, 'datastar-heartbeat', stream);
      for (let i = 0; i < 4; i++) {
        now += 250;
        tick(p);
      }
      expect(stream.set).toEqual([]); // 1000 ms since the beat: not more than the deadline yet
      now += 250;
      tick(p);
      expect(stream.set).toEqual([['data-init__delay.10ms', "@get('/s')"]]);
      now += 250;
      tick(p);
      expect(stream.set).toHaveLength(1);
    });

    it('the reopened request: the old one finishing after the new one started keeps it watched', () => {
      const p = page();
      const stream = streamElement({ 'data-init': "@get('/s')" });
      fire(p, 'started', stream);
      tick(p);
      for (let i = 0; i < 5; i++) {
        now += 250;
        tick(p);
      }
      expect(stream.set).toHaveLength(1);
      fire(p, 'started', stream); // the client runs data-init again...
      fire(p, 'finished', stream); // ...and the request it cancelled ends
      for (let i = 0; i < 5; i++) {
        now += 250;
        tick(p);
      }
      expect(stream.set).toHaveLength(2);
    });

    it('nothing for a request that finished, one the client is retrying, a hidden tab, or a late timer', () => {
      const p = page();
      const done = streamElement({ 'data-init': "@get('/a')" });
      const retried = streamElement({ 'data-init': "@get('/b')" });
      fire(p, 'started', done);
      fire(p, 'finished', done);
      fire(p, 'started', retried);
      fire(p, 'retrying', retried);
      tick(p);
      for (let i = 0; i < 8; i++) {
        now += 250;
        tick(p);
      }
      expect(done.set).toEqual([]);
      expect(retried.set).toEqual([]);

      const silent = streamElement({ 'data-init': "@get('/c')" });
      fire(p, 'started', silent);
      (p.window.document as { hidden: boolean }).hidden = true;
      for (let i = 0; i < 8; i++) {
        now += 250;
        tick(p);
      }
      (p.window.document as { hidden: boolean }).hidden = false;
      now += 60_000; // the timer was held back (a sleeping laptop): the clock restarts
      tick(p);
      expect(silent.set).toEqual([]);
      for (let i = 0; i < 5; i++) {
        now += 250;
        tick(p);
      }
      expect(silent.set).toHaveLength(1);
    });

    it('an element gone from the page is forgotten', () => {
      const p = page();
      const gone = streamElement({ 'data-init': "@get('/a')" });
      fire(p, 'started', gone);
      gone.isConnected = false;
      tick(p);
      now += 5000;
      tick(p);
      expect(gone.set).toEqual([]);
      expect((p.window.dsConnection as { streams: Map<unknown, unknown> }).streams.size).toBe(0);
    });
  });

  describe('watch: once the client gave up', () => {
    it('probes the page with HEAD and reloads when the server answers, at most once a minute', async () => {
      const p = page();
      // The probe's callbacks run after runLikeClient has put the global `window` back: ours then.
      (globalThis as { window?: unknown }).window = p.window;
      const stream = streamElement({ 'data-init': "@get('/s')" });
      fire(p, 'started', stream);
      tick(p, undefined);
      expect(p.fetches).toEqual([]);
      fire(p, 'retries-failed', stream);
      p.state.status = 502; // a proxy in front of a server still down
      tick(p, undefined);
      await new Promise((resolve) => setImmediate(resolve));
      expect(p.fetches).toEqual([['http://app.test/chat', { method: 'HEAD', cache: 'no-store' }]]);
      expect(p.state.reloads).toBe(0);
      p.state.status = 200;
      tick(p, undefined);
      await new Promise((resolve) => setImmediate(resolve));
      expect(p.state.reloads).toBe(1);
      now += 30_000;
      tick(p, undefined);
      await new Promise((resolve) => setImmediate(resolve));
      expect(p.fetches).toHaveLength(3);
      expect(p.state.reloads).toBe(1);
    });
  });

  describe('the markup', () => {
    const decode = (value: string) => value.replace(/&#39;/g, "'").replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
    const attribute = (html: string, name: string) => {
      const match = new RegExp(` ${name.replace(/[.]/g, '\\.')}="([^"]*)"`).exec(html);
      return match ? decode(match[1]) : undefined;
    };

    it('heartbeat events on: the watchdog ticks every half heartbeat and reopens after two', () => {
      const writer = { heartbeat: 500, heartbeatEvent: true };
      expect(watchdogFor(writer)).toEqual({ tickMs: 250, deadlineMs: 1000 });
      const html = connectionStatusHtml(writer);
      expect(html).toMatch(/^<div id="ds-connection" role="status" aria-live="polite" hidden style="[^"]*"/);
      const track = attribute(html, 'data-on:datastar-fetch')!;
      expect(track).toBe(trackExpression({ tickMs: 250, deadlineMs: 1000 }));
      expect(track).toContain(`window.setInterval(() => { ${watchCode({ tickMs: 250, deadlineMs: 1000 })} }, 250)`);
      expect(track).toContain('else if (now - r.at > 1000)');
      // The one attribute: nothing the testing module's page emulator refuses (data-on-interval).
      expect(html.match(/ data-[a-z-]+[:=_]/g)).toEqual([' data-on:', ' data-on:']);
    });

    it("the first event starts the page's one timer, which runs the watchdog", () => {
      const p = page();
      const stream = streamElement({ 'data-init': "@get('/s')" });
      fire(p, 'started', stream);
      fire(p, 'datastar-heartbeat', stream);
      expect(p.timers.map(([, ms]) => ms)).toEqual([250]);
      (globalThis as { window?: unknown }).window = p.window; // the timer runs later, on the page's window
      const [run] = p.timers[0];
      run();
      for (let i = 0; i < 5; i++) {
        now += 250;
        run();
      }
      expect(stream.set).toEqual([['data-init', "@get('/s')"]]);
    });

    it.each([
      ['comments', { heartbeat: 15_000, heartbeatEvent: false }],
      ['no heartbeat', { heartbeat: false as const, heartbeatEvent: true }],
    ])('%s: no watchdog (a quiet stream is not a dead one), the probe every 5 s', (_name, writer) => {
      expect(watchdogFor(writer)).toBeUndefined();
      const html = connectionStatusHtml(writer);
      expect(attribute(html, 'data-on:datastar-fetch')).toBe(trackExpression());
      expect(html).toContain('}, 5000); ');
      expect(html).not.toContain('s.setAttribute(a.name, a.value)');
    });

    it('texts from hash options are escaped; style=false drops the inline style; a wrong option is refused', () => {
      const html = connectionStatusHtml({ heartbeat: 100, heartbeatEvent: true }, {
        reconnecting: '<b>Reconnexion…</b>', lost: 'Perdu "x"', reload: "Recharger l'app", style: false,
      });
      expect(html).toContain('<span class="ds-connection-reconnecting">&lt;b&gt;Reconnexion…&lt;/b&gt;</span>');
      expect(html).toContain('Perdu &quot;x&quot; <button type="button" data-on:click="window.location.reload()">Recharger l&#39;app</button>');
      expect(html).not.toContain('style=');
      expect(() => connectionStatusHtml({ heartbeat: 100, heartbeatEvent: true }, { color: 'red' })).toThrow(/ds-connection.*color="red"/);
      expect(() => connectionStatusHtml({ heartbeat: 100, heartbeatEvent: true }, { style: 'no' })).toThrow(/style="no"/);
    });

    it('{{ds-connection}} renders it from the module settings, and nothing in a live page (its shell has one)', () => {
      const hbs = Handlebars.create();
      const settings = resolveDatastarSettings({ heartbeat: 400, heartbeatEvent: true });
      registerDatastarHelpers(hbs, settings, () => 'ds');
      const template = hbs.compile("{{#if x}}{{ds-connection reload='Again'}}{{/if}}");
      const html = template({ x: true });
      expect(html).toBe(connectionStatusHtml(settings.writer, { reload: 'Again' }));
      expect(html).toContain('}, 200); ');
      expect(template({ x: true, [DATASTAR_LOCALS]: { signals: {}, connectionShown: true } })).toBe('');
    });
  });
});
