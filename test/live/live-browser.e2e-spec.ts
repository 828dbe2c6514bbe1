/**
 * The sample's live pages in Chromium with the real Datastar 1.0.2 client (playwright-core):
 * ticks and events over the session stream, soft navigation (URL changes, one stream), back
 * button, modifier clicks, flash, and the 401 -> reload fallback. Needs DATASTAR_JS (the bundle,
 * not on npm) and Chromium (CHROMIUM_PATH or /usr/bin/chromium); without them it says so and passes.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { LiveSessionsService } from 'nestjs-datastar';
import { createSampleApp } from '../../sample/src/create-app';

const SHA256 = '2837d87acf6ee0ba8e4e63765926c25a98d63883b02f88be194a86b81d3fd24a'; // bundles/datastar.js v1.0.2
const CLIENT_URL = '/_test/datastar.js';
const bundlePath = process.env.DATASTAR_JS;
const chromiumPath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const ready = !!bundlePath && existsSync(bundlePath) && existsSync(chromiumPath);

if (!ready) {
  describe('live views in a real browser', () => {
    it('did not run: set DATASTAR_JS=/path/to/datastar.js (v1.0.2) and install chromium', () => {
      process.stderr.write('\n!!! live browser test did not run: DATASTAR_JS or Chromium missing !!!\n\n');
      expect(ready).toBe(false);
    });
  });
} else {
  describe('live views in Chromium with the Datastar 1.0.2 client', () => {
    let app: NestExpressApplication;
    let browser: Browser;
    let context: BrowserContext;
    let base: string;
    let page: Page;
    const requests: string[] = [];
    // Its own session folder: the restart test needs the sessions the first app kept.
    const storeDir = mkdtempSync(join(tmpdir(), 'live-browser-'));
    const options = { clientUrl: CLIENT_URL, liveSecret: 's'.repeat(40), liveStoreDir: storeDir };

    beforeAll(async () => {
      const bundle = readFileSync(bundlePath!);
      expect(createHash('sha256').update(bundle).digest('hex')).toBe(SHA256);
      app = await createSampleApp(options, false);
      await app.listen(0, '127.0.0.1');
      base = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
      browser = await chromium.launch({ executablePath: chromiumPath, args: ['--headless', '--no-sandbox', '--disable-gpu'] });
      context = await browser.newContext();
      await context.route(`${base}${CLIENT_URL}`, (route) =>
        route.fulfill({ status: 200, contentType: 'text/javascript; charset=utf-8', body: bundle }));
      page = await context.newPage();
      page.setDefaultTimeout(5000);
      page.on('request', (r) => requests.push(`${r.method()} ${new URL(r.url()).pathname}`));
    }, 30_000);

    afterAll(async () => {
      await browser?.close().catch(() => undefined);
      await app?.close();
      rmSync(storeDir, { recursive: true, force: true });
    });

    it('counter: server ticks and increments arrive over the session stream', async () => {
      await page.goto(`${base}/live/counter`);
      await page.waitForFunction(() => Number(document.querySelector('#ticks')?.textContent) >= 2);
      await page.click('#increment');
      await page.waitForFunction(() => document.querySelector('#count')?.textContent === '1');
      await page.click('#increment');
      await page.waitForFunction(() => document.querySelector('#count')?.textContent === '2');
      expect(requests.filter((r) => r === 'GET /ds/_stream')).toHaveLength(1);
    }, 15_000);

    it('soft navigation: URL and content change, one session, one stream; back works; ctrl-click opens a tab', async () => {
      requests.length = 0;
      await page.click('#to-pages'); // counter -> /live/a, a {{ds-link}}
      await page.waitForURL(`${base}/live/a`);
      await page.waitForSelector('#title-a');
      const session = await page.textContent('#session');
      await page.click('#hello');
      await page.waitForFunction(() => document.querySelector('#clicks')?.textContent === '1');
      expect(await page.textContent('#ds-flash')).toBe('Hello from page A');

      await page.click('#to-b');
      await page.waitForURL(`${base}/live/b`);
      await page.waitForSelector('#title-b');
      expect(await page.textContent('#session')).toBe(session);
      expect(await page.title()).toBe('Live page B · nestjs-datastar');
      await page.fill('#note', 'hi there');
      await page.click('#save');
      await page.waitForSelector('#saved');
      expect(await page.textContent('#saved')).toBe('Saved: hi there');

      await page.goBack();
      await page.waitForSelector('#title-a');
      expect(page.url()).toBe(`${base}/live/a`);

      const [tab] = await Promise.all([context.waitForEvent('page'), page.click('#to-b', { modifiers: ['Control'] })]);
      await tab.waitForLoadState();
      expect(tab.url()).toBe(`${base}/live/b`);
      expect(page.url()).toBe(`${base}/live/a`);
      await tab.close();

      // No page load and no new stream for any of it: only events and navigation posts.
      expect(requests.filter((r) => r.startsWith('GET '))).toEqual([]);
      expect(new Set(requests)).toEqual(new Set(['POST /ds/_nav', 'POST /live/a/_event/hello', 'POST /live/b/_event/save']));
    }, 20_000);

    it('a 401 (the session is gone) makes the page reload into a new session', async () => {
      const sessions = app.get(LiveSessionsService);
      const origin = await page.evaluate(() => performance.timeOrigin);
      await sessions.terminateAll();
      await page.click('#hello'); // 401: no session behind the token
      await page.waitForFunction((t) => performance.timeOrigin !== t, origin);
      await page.waitForSelector('#title-a');
      await page.waitForFunction(() => document.querySelector('#clicks')?.textContent === '0');
      await page.click('#hello');
      await page.waitForFunction(() => document.querySelector('#clicks')?.textContent === '1');
      expect(sessions.list().filter((s) => s.connected).map((s) => s.route)).toEqual(['/live/a']);
    }, 15_000);

    it('a session that cannot be resumed: the page reloads and says so, naming the click that was not applied', async () => {
      await page.goto(`${base}/live/a`);
      await page.waitForSelector('#title-a');
      const origin = await page.evaluate(() => performance.timeOrigin);
      await page.evaluate(() => sessionStorage.removeItem('dsLiveReload')); // the 10 s reload guard of the test above
      await app.get(LiveSessionsService).terminateAll();
      await page.click('#hello');
      await page.waitForFunction((t) => performance.timeOrigin !== t, origin);
      await page.waitForSelector('#ds-flash .ds-flash-error');
      expect(await page.textContent('#ds-flash .ds-flash-error')).toBe(
        'Your live session could not be resumed, so the page was reloaded. Your last action (hello) was not applied: please do it again.',
      );
    }, 15_000);

    it('the server restarts under an open counter page: same count, no reload, ticks come back, the next click counts', async () => {
      await page.goto(`${base}/live/counter`);
      await page.waitForFunction(() => Number(document.querySelector('#ticks')?.textContent) >= 1);
      for (const n of ['1', '2']) {
        await page.click('#increment');
        await page.waitForFunction((v) => document.querySelector('#count')?.textContent === v, n);
      }
      const origin = await page.evaluate(() => performance.timeOrigin);
      const port = (app.getHttpServer().address() as { port: number }).port;
      await app.close(); // SIGTERM's path: shutdown hooks, then the process would exit
      app = await createSampleApp(options, false);
      await app.listen(port, '127.0.0.1');

      const ticks = Number(await page.textContent('#ticks'));
      await page.waitForFunction((t) => Number(document.querySelector('#ticks')?.textContent) > t + 1, ticks, { timeout: 10_000 });
      await page.click('#increment');
      await page.waitForFunction(() => document.querySelector('#count')?.textContent === '3');
      expect(await page.evaluate(() => performance.timeOrigin)).toBe(origin);
      expect(app.get(LiveSessionsService).list().map((s) => [s.route, s.connected])).toEqual([['/live/counter', true]]);
    }, 30_000);
  });
}
