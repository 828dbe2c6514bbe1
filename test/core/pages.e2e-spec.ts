import { useDatastarViews } from 'nestjs-datastar';
import { HOSTILE, PagesAppModule } from './fixtures/pages.app';
import { ADAPTERS, json, readSse, startApp, type TestApp } from './fixtures/harness';
import { signalsEvent } from './fixtures/sse';

const unescapeHtml = (s: string) =>
  s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

/** The JSON in a page's data-signals attribute. */
function dataSignals(html: string): unknown {
  const match = /<body data-signals="([^"]*)">/.exec(html);
  if (!match) throw new Error(`no data-signals on <body> in ${html}`);
  return JSON.parse(unescapeHtml(match[1]));
}

describe('pages (express, useDatastarViews)', () => {
  let t: TestApp;
  let html: string;
  beforeAll(async () => {
    t = await startApp(PagesAppModule, 'express', { setup: (app) => useDatastarViews(app) });
    const res = await t.fetch('/shelf');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    html = await res.text();
  });
  afterAll(() => t.close());

  it('data-signals carries exactly the tracked signals (never the assigns)', () => {
    expect(dataSignals(html)).toEqual({ count: 3, quote: HOSTILE });
    expect(html).not.toContain('</script><script>alert');
  });

  it('assigns and signals are template data, HTML-escaped', () => {
    expect(html).toContain('<h1>Shelf &lt;1&gt;</h1><p id="note">server-only</p>');
    expect(html).toContain('<span id="count" data-text="$count">3</span>');
  });

  it("{{ds-post 'increment'}} and {{ds-delete 'drop'}} point at this controller's events", () => {
    expect(html).toContain('<button id="inc" data-on:click="@post(&quot;/ds/shelf/increment&quot;)">+</button>');
    expect(html).toContain('<button id="drop" data-on:click="@delete(&quot;/ds/shelf/drop&quot;)">x</button>');
  });

  it('{{ds-script}} loads the pinned Datastar client with its integrity hash', () => {
    expect(html).toContain(
      '<head><script type="module" src="https://cdn.jsdelivr.net/gh/starfederation/datastar@v1.0.2/bundles/datastar.js" ' +
      'integrity="sha256-KDfYes9u4LqOTmN2WSbCWpjWOIOwL4i+GUqGuB0/0ko=" crossorigin="anonymous" data-on:datastar-fetch="',
    );
    // Then the page's failure handlers (test/core/page-failures.e2e-spec.ts), and nothing else.
    expect(html).toMatch(/ data-on:datastar-fetch="[^"]*" data-on:datastar-signal-patch="[^"]*"><\/script><\/head>/);
  });

  it('the action the page names answers', async () => {
    expect(await readSse(await t.fetch('/ds/shelf/increment', json('POST', dataSignals(html))))).toEqual([
      signalsEvent({ count: 4 }),
    ]);
  });
});

describe.each(ADAPTERS)('tracker outside Datastar, and initSignals (%s)', (adapter) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp(PagesAppModule, adapter);
  });
  afterAll(() => t.close());
  beforeEach(() => t.logger.clear());

  it('initSignals() is HTML-safe JSON: no <, >, & or quote survives, and it parses back', async () => {
    const res = await t.fetch('/shelf/init');
    expect(res.status).toBe(200);
    const body = await res.text();
    expect(body).not.toMatch(/[<>&']|\u2028/);
    expect(JSON.parse(body)).toEqual({ evil: HOSTILE, n: 1 });
  });

  it('the tracker in a non-Star controller -> 500, and the clear message is logged', async () => {
    const res = await t.fetch('/plain');
    expect(res.status).toBe(500);
    expect(await res.text()).not.toContain('unreachable');
    expect(t.logger.errors().join('\n')).toContain(
      'SignalTracker.signal() was called outside a Datastar request: call it from a @StarController() page handler ' +
      'or an @OnEvent() handler (or code they await).',
    );
  });

  it('a patch on a page GET -> 500, and the message says what to do', async () => {
    const res = await t.fetch('/shelf/patch');
    expect(res.status).toBe(500);
    expect(t.logger.errors().join('\n')).toContain(
      'SignalTracker.patchElements() sends a patch, but a page GET renders HTML',
    );
  });
});
