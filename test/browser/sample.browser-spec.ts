/**
 * The sample app in a real browser: Debian Chromium driven by playwright-core, with the real
 * Datastar v1.0.2 client. The bundle is not on npm and is never committed: give its path in
 * DATASTAR_JS (see test/browser/README.md). Without it the test says loudly that it did not run.
 */
import type { AddressInfo } from 'node:net';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { StreamRegistryService } from 'nestjs-datastar';
import { createSampleApp } from '../../sample/src/create-app';
import { searchFruits } from '../../sample/src/search/fruits';
import { describeInBrowser, launchChromium } from './browser-env';
import { PageWatch } from './page-watch';

const CLIENT_URL = '/_test/datastar.js';
const STEP_TIMEOUT = 10_000;

describeInBrowser('sample app', (env) => {
  let app: NestExpressApplication | undefined;
  let browser: Browser | undefined;
  let context: BrowserContext;
  let base: string;
  let page: Page;
  let watch: PageWatch;

  beforeAll(async () => {
    app = await createSampleApp({ clientUrl: CLIENT_URL }, false);
    await app.listen(0, '127.0.0.1');
    const address = app.getHttpServer().address() as AddressInfo;
    base = `http://127.0.0.1:${address.port}`;

    browser = await launchChromium(env);
    context = await browser.newContext({ viewport: { width: 900, height: 720 } });
    // The page asks the test server for the client; the browser gets the real 1.0.2 file instead.
    await context.route(`${base}${CLIENT_URL}`, (route) =>
      route.fulfill({ status: 200, contentType: 'text/javascript; charset=utf-8', body: env.bundle }));
    await PageWatch.recordFetchEvents(context);
  }, 40_000);

  afterAll(async () => {
    await browser?.close().catch(() => undefined);
    await app?.close();
  }, 20_000);

  beforeEach(async () => {
    page = await context.newPage();
    page.setDefaultTimeout(STEP_TIMEOUT);
    watch = new PageWatch(page, base);
  });

  afterEach(async () => {
    await page?.close().catch(() => undefined);
  });

  /** Opens a page of the sample and waits until Datastar has applied it. */
  async function open(path: string): Promise<void> {
    const response = await page.goto(`${base}${path}`, { waitUntil: 'load' });
    expect(response?.status()).toBe(200);
    expect(await page.locator(`script[type="module"][src="${CLIENT_URL}"]`).count()).toBe(1);
    await watch.datastarReady();
  }

  it('home page links to the counter and the search demos', async () => {
    await open('/');
    await expect(page.title()).resolves.toBe('Demos · nestjs-datastar');
    const links = await page.locator('main a').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
    expect(links).toEqual(expect.arrayContaining(['/counter', '/search']));
    for (const href of links) {
      const response = await page.request.get(`${base}${href}`, { timeout: STEP_TIMEOUT });
      expect(`${href} -> ${response.status()}`).toBe(`${href} -> 200`);
    }

    await page.screenshot({ path: '/tmp/browser-home.png', fullPage: true });
    await page.click('#demo-counter');
    await page.waitForURL(`${base}/counter`);
    await expect(page.locator('h1').textContent()).resolves.toBe('Counter');
    expect(await watch.problems()).toEqual([]);
  }, 30_000);

  it('counter: three clicks count to 3, each with a server-rendered history item', async () => {
    await open('/counter');
    await expect(page.locator('#count').textContent()).resolves.toBe('0');
    // data-show="$errors.count" hides the error line once the client runs
    await expect(page.locator('p.muted[data-show]').isHidden()).resolves.toBe(true);

    for (let n = 1; n <= 3; n++) {
      await page.click('#increment');
      // Wait for each answer: two in-flight actions with the same method and URL cancel each other in 1.0.2.
      await page.waitForFunction((want) => document.querySelector('#count')?.textContent === want, String(n));
      await page.waitForFunction((want) => document.querySelectorAll('#history-list li').length === want, n);
    }

    await expect(page.locator('#count').textContent()).resolves.toBe('3');
    const items = await page.locator('#history-list li').allTextContents();
    expect(items).toHaveLength(3);
    items.forEach((text, i) => {
      const count = i + 1;
      expect(text).toContain(`count became ${count}`);
      expect(text).toContain(`is ${count * count}`);
    });
    expect(items[2]).toContain('9');
    expect(watch.actions).toEqual(Array(3).fill('POST /ds/counter/increment -> 200 text/event-stream'));

    await page.screenshot({ path: '/tmp/browser-counter.png', fullPage: true });
    expect(await watch.problems()).toEqual([]);
  }, 30_000);

  it('counter: the server refuses an invalid count, shows why, and clears it on the next valid one', async () => {
    await open('/counter');
    const error = page.locator('p.muted[data-show]');
    // No control sends a bad count, so patch the signal through the client's own exported mergePatch.
    const setCount = (n: number) => page.evaluate(`import(${JSON.stringify(CLIENT_URL)}).then((ds) => ds.mergePatch({ count: ${n} }))`);

    await setCount(-5);
    await expect(page.locator('#count').textContent()).resolves.toBe('-5');
    await page.click('#increment');
    await page.waitForFunction(() => !!document.querySelector('p.muted[data-show]')?.textContent);
    await expect(error.textContent()).resolves.toMatch(/count must not be less than 0/);
    await expect(error.isVisible()).resolves.toBe(true);
    await expect(page.locator('#count').textContent()).resolves.toBe('-5');
    expect(await page.locator('#history-list li').count()).toBe(0);

    await setCount(2);
    await page.click('#increment');
    await page.waitForFunction(() => document.querySelector('#count')?.textContent === '3');
    await page.waitForFunction(() => document.querySelectorAll('#history-list li').length === 1);
    await expect(error.isHidden()).resolves.toBe(true);
    await expect(page.locator('#history-list li').textContent()).resolves.toContain('is 9');
    expect(await watch.problems()).toEqual([]);
  }, 30_000);

  it('search: typing "ap" shows exactly the fruits the server filters', async () => {
    const expected = searchFruits('ap');
    expect(expected.length).toBeGreaterThan(0);

    await open('/search');
    const all = await page.locator('#results li').allTextContents();
    expect(all).toEqual(searchFruits(''));

    await page.locator('#search').pressSequentially('ap', { delay: 40 });
    await page.waitForFunction(() => document.querySelector('#results-query')?.textContent === 'ap');
    await page.waitForFunction((n) => document.querySelectorAll('#results li').length === n, expected.length);

    expect(await page.locator('#results li').allTextContents()).toEqual(expected);
    await expect(page.locator('#results').textContent()).resolves.toContain('ap');
    await expect(page.locator('#results-query').textContent()).resolves.toBe('ap');
    await expect(page.locator('#search').inputValue()).resolves.toBe('ap');
    expect(watch.actions.length).toBeGreaterThan(0);
    expect(watch.actions.every((a) => a === 'GET /ds/search/search -> 200 text/event-stream')).toBe(true);

    await page.screenshot({ path: '/tmp/browser-search.png', fullPage: true });
    expect(await watch.problems()).toEqual([]);
  }, 30_000);
  it('chat: two tabs see each other live, and a reload leaves exactly one stream per tab', async () => {
    const streams = app!.get(StreamRegistryService);
    const other = await context.newPage(); // its own sessionStorage: another tab id
    other.setDefaultTimeout(STEP_TIMEOUT);
    try {
      await open('/chat');
      await other.goto(`${base}/chat`, { waitUntil: 'load' });
      const online = (p: Page, n: number) =>
        p.waitForFunction((want) => document.querySelector('#online')?.textContent === want, String(n));
      await online(page, 2);
      await online(other, 2);
      expect(streams.count('chat')).toBe(2);

      await page.locator('#message').fill('hello from tab A <b>');
      await page.click('#send');
      await other.waitForFunction(() => document.querySelector('#messages')?.textContent?.includes('hello from tab A <b>'));
      await page.waitForFunction(() => (document.querySelector('#message') as HTMLInputElement).value === '');
      expect(await other.locator('#messages b').count()).toBe(0); // text, not markup

      await page.reload({ waitUntil: 'load' }); // same tab id: the old stream is replaced, not added
      await online(page, 2);
      await page.waitForFunction(() => document.querySelector('#messages')?.textContent?.includes('hello from tab A'));
      expect(streams.count('chat')).toBe(2);
      await page.screenshot({ path: '/tmp/browser-chat.png', fullPage: true });
    } finally {
      await other.close().catch(() => undefined);
    }
    // The closed tab's stream ends when the browser drops its connection.
    for (let i = 0; i < 50 && streams.count('chat') !== 1; i++) await new Promise((r) => setTimeout(r, 100));
    expect(streams.count('chat')).toBe(1);
  }, 40_000);
});
