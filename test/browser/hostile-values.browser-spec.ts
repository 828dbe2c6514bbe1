/**
 * Hostile values in Chromium with the real Datastar 1.0.2 client: nicknames built against its
 * expression compiler (escape markers with `$'`, `@post(` in text, `</script>`, line separators,
 * lone surrogates) rendered through `{{ds-post}}`, `action()`, a live view's `{{ds-event}}`, the live
 * page's `data-signals` and `{{ds-signals}}`. Each click must run no injected code and deliver the
 * value to the server byte for byte. Needs DATASTAR_JS (see README.md); without it, says so.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { useDatastarViews } from 'nestjs-datastar';
import { startApp, type TestApp } from '../core/fixtures/harness';
import { describeInBrowser, launchChromium } from './browser-env';
import { HostileValuesAppModule, NICKS, received } from './fixtures/hostile-values.app';
import { PageWatch } from './page-watch';

const CLIENT_URL = '/_test/datastar.js';
describeInBrowser('hostile values', (env) => {
  let t: TestApp | undefined;
  let browser: Browser | undefined;
  let context: BrowserContext;
  let page: Page;
  let watch: PageWatch;

  beforeAll(async () => {
    t = await startApp(HostileValuesAppModule, 'express', { setup: (app) => useDatastarViews(app) });
    browser = await launchChromium(env);
    context = await browser.newContext();
    await context.route(`${t.base}${CLIENT_URL}`, (route) =>
      route.fulfill({ status: 200, contentType: 'text/javascript; charset=utf-8', body: env.bundle }));
    await PageWatch.recordFetchEvents(context);
  }, 40_000);

  afterAll(async () => {
    await browser?.close().catch(() => undefined);
    await t?.close();
  }, 20_000);

  beforeEach(async () => {
    received.length = 0;
    page = await context.newPage();
    page.setDefaultTimeout(10_000);
    watch = new PageWatch(page, t!.base);
  });

  afterEach(async () => {
    await page?.close().catch(() => undefined);
  });

  async function open(path: string): Promise<void> {
    const response = await page.goto(`${t!.base}${path}`, { waitUntil: 'load' });
    expect(response?.status()).toBe(200);
    await watch.datastarReady();
  }

  /** Clicks `selector` and waits for the server to receive one more request (or the step timeout). */
  async function click(selector: string): Promise<Record<string, unknown>> {
    const before = received.length;
    await page.click(selector);
    const end = Date.now() + 10_000;
    while (received.length === before && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    expect({ selector, requests: received.length - before }).toEqual({ selector, requests: 1 });
    return received[received.length - 1];
  }

  async function pwned(): Promise<unknown> {
    return page.evaluate(() => (window as unknown as { __pwned?: unknown }).__pwned);
  }

  it.each(NICKS.map((nick, i) => [i, JSON.stringify(nick), nick] as const))(
    '#%i %s: {{ds-post}}, action() and {{ds-signals}} run nothing and deliver it exactly',
    async (i, _label, nick) => {
      await open(`/greeter?i=${i}`);
      expect(await click('#helper')).toEqual({ nick, via: 'helper' });
      expect(await click('#action')).toEqual({ nick, via: 'action' });
      expect(await click('#signals-back')).toEqual({ nick, extra: nick, via: 'signals' });
      expect(await pwned()).toBeUndefined();
      expect(await watch.problems()).toEqual([]);
    },
    40_000,
  );

  it.each(NICKS.map((nick, i) => [i, JSON.stringify(nick), nick] as const))(
    '#%i %s: a live view\'s {{ds-event}}, page data-signals and {{ds-signals}} run nothing and deliver it exactly',
    async (i, _label, nick) => {
      await open(`/live/hostile?i=${i}`);
      expect(await click('#event')).toEqual({ nick, via: 'live' });
      const signals = await click('#live-signals');
      expect({ note: signals.note, extra: signals.extra }).toEqual({ note: nick, extra: nick });
      expect(await pwned()).toBeUndefined();
      expect(await watch.problems()).toEqual([]);
    },
    40_000,
  );
});
