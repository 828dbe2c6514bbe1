/**
 * What a StarController page shows when a request fails, in Chromium with the real Datastar 1.0.2
 * client: the handlers `{{ds-script}}` puts on the client's script element (a 401 reloads, other
 * failures show a notice), and a fragment a handler broadcasts with `renderFragment`, whose
 * `{{ds-action}}` works in another tab.
 */
import type { AddressInfo } from 'node:net';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { useDatastarViews } from 'nestjs-datastar';
import { todosModule } from '../core/fixtures/todos.app';
import { describeInBrowser, launchChromium } from './browser-env';
import { PageWatch } from './page-watch';

const CLIENT_URL = '/_test/datastar.js';
const STEP_TIMEOUT = 10_000;

describeInBrowser('StarController page failures', (env) => {
  let app: INestApplication | undefined;
  let browser: Browser | undefined;
  let context: BrowserContext;
  let base: string;
  let page: Page;
  let watch: PageWatch;

  beforeAll(async () => {
    app = await NestFactory.create(todosModule({ clientUrl: CLIENT_URL }), { logger: false });
    useDatastarViews(app);
    await app.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
    browser = await launchChromium(env);
    context = await browser.newContext();
    await context.route(`${base}${CLIENT_URL}`, (route) =>
      route.fulfill({ status: 200, contentType: 'text/javascript; charset=utf-8', body: env.bundle }));
    await PageWatch.recordFetchEvents(context);
  }, 40_000);

  afterAll(async () => {
    await browser?.close().catch(() => undefined);
    await app?.close();
  }, 20_000);

  afterEach(async () => {
    await context.clearCookies();
    for (const open of context.pages()) await open.close().catch(() => undefined);
  });

  async function open(path: string): Promise<Page> {
    const tab = await context.newPage();
    tab.setDefaultTimeout(STEP_TIMEOUT);
    watch = new PageWatch(tab, base);
    expect((await tab.goto(`${base}${path}`, { waitUntil: 'load' }))?.status()).toBe(200);
    await watch.datastarReady();
    return tab;
  }

  const notice = () => page.locator('#ds-notice');
  const noticeShows = (text: string | RegExp) =>
    page.waitForFunction((want) => {
      const n = document.getElementById('ds-notice');
      if (!n || n.hidden) return false;
      return want.startsWith('/') ? new RegExp(want.slice(1, -1)).test(n.textContent ?? '') : n.textContent === want;
    }, typeof text === 'string' ? text : String(text));

  it("a handler's 404, its crash and a guard's 403 show a notice; the next good request hides it", async () => {
    page = await open('/todos');
    await expect(notice().count()).resolves.toBe(0);

    await page.click('#missing');
    await noticeShows('Todo 999 not found');
    await expect(notice().getAttribute('role')).resolves.toBe('alert');
    await expect(notice().isVisible()).resolves.toBe(true);

    await page.click('#ping');
    await page.waitForFunction(() => document.getElementById('ds-notice')?.hidden === true);
    await expect(page.locator('#pinged').textContent()).resolves.toBe('true');

    await page.click('#crash');
    await noticeShows(/^The server could not complete this request \(error [0-9a-f]{8}: the server log has the details under this id\)\.$/);

    await page.click('#forbidden');
    await noticeShows('Request failed (HTTP 403).');
    await page.screenshot({ path: '/tmp/browser-page-failures.png' });

    // A click dismisses it.
    await notice().click();
    await expect(notice().isHidden()).resolves.toBe(true);
    // Only the failures this test caused: the crash's console line and the 403 (as the browser reports it).
    const problems = await watch.problems();
    expect(problems.filter((p) => !/\/ds\/todos\/forbidden|"status":"403"|\[datastar\] The server could not complete/.test(p))).toEqual([]);
    expect(problems).toContain('datastar-fetch error {"status":"403"}');
  }, 30_000);

  it("a guard's 401 reloads the page (once), and shows the notice with reloadOn401=false", async () => {
    page = await open('/todos');
    await Promise.all([page.waitForEvent('load'), page.click('#private')]);
    await watch.datastarReady();
    expect(await page.evaluate(() => Number(sessionStorage.getItem('dsReload401')) > 0)).toBe(true);
    // Within 10 s of that reload a second 401 does not loop: it shows the notice.
    await page.click('#private');
    await noticeShows('Request failed (HTTP 401).');

    page = await open('/todos?quiet');
    await page.evaluate(() => sessionStorage.clear());
    await page.click('#private');
    await noticeShows('Request failed (HTTP 401).');
    expect(await page.evaluate(() => sessionStorage.getItem('dsReload401'))).toBeNull();
  }, 30_000);

  it('a fragment one tab adds with renderFragment reaches the other tab, and its {{ds-action}} works there', async () => {
    const first = await open('/todos');
    page = await open('/todos');
    await first.fill('#title', 'milk');
    await first.click('#add');
    await page.waitForFunction(() => document.querySelectorAll('#todo-list li').length === 1);
    await page.click('#todo-list li button.toggle');
    await page.waitForFunction(() => document.querySelector('#todo-list li')?.className === 'done');
    await expect(page.locator('#todo-list li').textContent()).resolves.toBe('milk');
    expect(await watch.problems()).toEqual([]);
  }, 30_000);
});
