/**
 * The sample (a child process, as `npm start` runs it, no Redis) in Chromium with the real Datastar
 * 1.0.2 client, across what a deploy and a network do to open pages (issue 11): a SIGTERM restart
 * on the same port and session folder, then cuts of 3 s and 20 s (longer than the live grace
 * period, so the session comes back from the store) through a TCP proxy. Chat messages sent
 * meanwhile are replayed, the live count is kept, a click made during a cut counts (the client
 * retries its POST), no page is reloaded, and `#ds-connection` says "Reconnecting…" while the
 * path is down; a chat tab that had received no message yet gets them too (its stream opened with
 * the room's position as its first `id:`).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startSample, type SampleProcess } from '../resilience/fixtures/sample-process';
import { TcpProxy } from '../resilience/fixtures/tcp-proxy';
import { describeInBrowser, launchChromium } from './browser-env';
import { PageWatch } from './page-watch';

const CLIENT_URL = '/_test/datastar.js';
/** Longest wait of one step: after a 20 s cut the client's backoff (1, 2, 4, 8, 16 s) retries at 31 s, 11 s after the path is back. */
const STEP_TIMEOUT = 25_000;

interface Tab {
  page: Page;
  watch: PageWatch;
}

describeInBrowser('The sample across a restart and network cuts', (env) => {
  let browser: Browser | undefined;
  let context: BrowserContext;
  const running: SampleProcess[] = [];
  const proxies: TcpProxy[] = [];
  const dirs: string[] = [];
  const tabs: Tab[] = [];

  beforeAll(async () => {
    browser = await launchChromium(env);
    context = await browser.newContext();
    // Every origin of the test (the sample, the proxy): the client from DATASTAR_JS.
    await context.route(`**${CLIENT_URL}`, (route) =>
      route.fulfill({ status: 200, contentType: 'text/javascript; charset=utf-8', body: env.bundle }));
    await PageWatch.recordFetchEvents(context);
  }, 40_000);

  afterEach(async () => {
    for (const { page } of tabs.splice(0)) await page.close().catch(() => undefined);
    for (const proxy of proxies.splice(0)) await proxy.close();
    await Promise.all(running.splice(0).map((p) => p.stop('SIGKILL')));
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  }, 20_000);

  afterAll(async () => {
    await browser?.close().catch(() => undefined);
  }, 20_000);

  /** The sample on `port` (default a free one) with its sessions in `dir`, serving the test's client. */
  async function sample(dir: string, port?: number): Promise<SampleProcess> {
    const started = await startSample({ LIVE_STORE_DIR: dir, LIVE_SECRET: undefined, REDIS_URL: undefined, DATASTAR_CLIENT_URL: CLIENT_URL }, port);
    running.push(started);
    return started;
  }

  function folder(): string {
    const dir = mkdtempSync(join(tmpdir(), 'browser-resilience-'));
    dirs.push(dir);
    return dir;
  }

  /** A new tab on `base + path`, Datastar applied; marked so a reload (a new document) shows. */
  async function open(base: string, path: string): Promise<Tab> {
    const page = await context.newPage();
    page.setDefaultTimeout(STEP_TIMEOUT);
    const tab = { page, watch: new PageWatch(page, base) };
    tabs.push(tab);
    expect((await page.goto(`${base}${path}`, { waitUntil: 'load' }))?.status()).toBe(200);
    await tab.watch.datastarReady();
    await page.evaluate(() => ((window as unknown as { __sameDocument: boolean }).__sameDocument = true));
    return tab;
  }

  /** '' (hidden), 'reconnecting' or 'lost': what the connection indicator shows. */
  const waitShown = ({ page }: Tab, state: string) => page.waitForFunction((want) => {
    const e = document.getElementById('ds-connection');
    if (!e) return false;
    const now = e.hidden ? '' : Array.from(e.children).filter((k) => !(k as HTMLElement).hidden).map((k) => k.className.replace('ds-connection-', '')).join();
    return now === want;
  }, state);

  const online = ({ page }: Tab, n: number) =>
    page.waitForFunction((want) => document.querySelector('#online')?.textContent === want, String(n));
  /** The chat's messages as `name: text`, oldest first. */
  const messages = ({ page }: Tab) =>
    page.locator('#messages li').evaluateAll((lis) => lis.map((li) => li.textContent!.replace(/^\d\d:\d\d:\d\d /, '')));
  const showsMessage = ({ page }: Tab, text: string) =>
    page.waitForFunction((want) => Array.from(document.querySelectorAll('#messages li')).some((li) => li.textContent?.endsWith(`: ${want}`)), text);

  /** Sends `text` from a chat tab; resolves once the server took it (the input is cleared by its answer). */
  async function say({ page }: Tab, text: string): Promise<void> {
    await page.locator('#message').fill(text);
    await page.click('#send');
    await page.waitForFunction(() => (document.querySelector('#message') as HTMLInputElement).value === '');
  }

  const count = ({ page }: Tab) => page.locator('#count').textContent();
  const ticks = async ({ page }: Tab) => Number(await page.locator('#ticks').textContent());
  const countIs = ({ page }: Tab, n: number) =>
    page.waitForFunction((want) => document.querySelector('#count')?.textContent === want, String(n));
  const ticksPast = ({ page }: Tab, n: number) =>
    page.waitForFunction((after) => Number(document.querySelector('#ticks')?.textContent) > after, n);

  /** One click on the live counter, confirmed by the count the page shows. */
  async function increment(tab: Tab, to: number): Promise<void> {
    await tab.page.click('#increment');
    await countIs(tab, to);
  }

  /** Same document as when opened, no request refused (a 401 would have reloaded a live page), no error thrown. */
  async function expectNeverReloaded(all: Tab[]): Promise<void> {
    for (const { page, watch } of all) {
      await expect(page.evaluate(() => (window as unknown as { __sameDocument?: boolean }).__sameDocument)).resolves.toBe(true);
      expect(watch.httpErrors).toEqual([]);
      expect(watch.pageErrors).toEqual([]);
      const failed = (await watch.fetchEvents()).filter((e) => e.type === 'retries-failed' || e.type === 'error');
      expect(failed).toEqual([]);
    }
  }

  it('SIGTERM restart with two /chat tabs and a /live/counter tab open: they come back by themselves, chat live again, the live count kept', async () => {
    const dir = folder();
    const first = await sample(dir);
    const port = Number(new URL(first.base).port);
    const chatA = await open(first.base, '/chat');
    const chatB = await open(first.base, '/chat');
    const live = await open(first.base, '/live/counter');
    await online(chatA, 2);
    await online(chatB, 2);
    await say(chatB, 'before the deploy');
    await showsMessage(chatA, 'before the deploy');
    for (let n = 1; n <= 3; n++) await increment(live, n);
    const ticksBefore = await ticks(live);

    const stoppedAt = Date.now();
    expect(await first.stop('SIGTERM')).toBe('SIGTERM');
    // The streams were dropped with a retry hint, not ended: every tab is retrying, and says so.
    for (const tab of [chatA, chatB, live]) await waitShown(tab, 'reconnecting');
    const second = await sample(dir, port);
    for (const tab of [chatA, chatB, live]) await waitShown(tab, '');
    console.log(`SIGTERM restart: every tab streaming again ${Date.now() - stoppedAt} ms after the signal`);

    await online(chatA, 2);
    await say(chatB, 'after the deploy');
    await showsMessage(chatA, 'after the deploy');
    await say(chatA, 'and back');
    await showsMessage(chatB, 'and back');
    // Without Redis the room's history died with the old process: the resync sends nothing rather
    // than an empty list, so both tabs keep what they showed before the deploy.
    expect(await messages(chatA)).toEqual(await messages(chatB));
    expect((await messages(chatA)).some((m) => m.endsWith(': before the deploy'))).toBe(true);
    expect(await count(live)).toBe('3');
    await ticksPast(live, ticksBefore);
    await increment(live, 4);
    await expectNeverReloaded([chatA, chatB, live]);
    expect(second.output()).not.toMatch(/ERROR/);
  }, 90_000);

  it('3 s and 20 s network cuts: the indicator shows, then chat replays what was said, and the live click made meanwhile counts', async () => {
    const dir = folder();
    const server = await sample(dir);
    const proxy = await TcpProxy.start(Number(new URL(server.base).port));
    proxies.push(proxy);
    // A and the live page reach the sample through the proxy; B directly, to talk during the cuts.
    const chatA = await open(proxy.base, '/chat');
    const live = await open(proxy.base, '/live/counter');
    const chatB = await open(server.base, '/chat');
    await online(chatA, 2);
    await online(chatB, 2);
    await increment(live, 1);
    // A's stream gets an id to come back with (see the test below for a tab that has none yet).
    await say(chatB, 'before the cuts');
    await showsMessage(chatA, 'before the cuts');

    let clicks = 1;
    for (const seconds of [3, 20]) {
      const said = `said during the ${seconds} s cut`;
      const ticksBefore = await ticks(live);
      const lasted = await proxy.cutFor('down', seconds * 1000, async () => {
        await waitShown(chatA, 'reconnecting');
        await waitShown(live, 'reconnecting');
        await say(chatB, said);
        // The click's POST fails (connection reset): the client retries it with its backoff.
        await live.page.click('#increment');
        expect(await count(live)).toBe(String(clicks));
        expect((await messages(chatA)).some((m) => m.endsWith(`: ${said}`))).toBe(false);
      });
      clicks++;
      await showsMessage(chatA, said);
      await countIs(live, clicks);
      for (const tab of [chatA, live]) await waitShown(tab, '');
      await ticksPast(live, ticksBefore);
      console.log(`${seconds} s cut (lasted ${lasted} ms): back and caught up`);
      // Replayed in order, exactly once: both tabs show the same list.
      expect(await messages(chatA)).toEqual(await messages(chatB));
      expect((await messages(chatA)).filter((m) => m.endsWith(`: ${said}`))).toHaveLength(1);
      await increment(live, ++clicks);
    }
    await say(chatA, 'still here');
    await showsMessage(chatB, 'still here');
    await expectNeverReloaded([chatA, chatB, live]);
  }, 120_000);

  it('a chat tab that has received no message yet gets what is said during a 3 s cut', async () => {
    const server = await sample(folder());
    const proxy = await TcpProxy.start(Number(new URL(server.base).port));
    proxies.push(proxy);
    const chatA = await open(proxy.base, '/chat');
    const chatB = await open(server.base, '/chat');
    await online(chatA, 2);
    const said = 'said before A had an id';
    await proxy.cutFor('down', 3000, async () => {
      await waitShown(chatA, 'reconnecting');
      await say(chatB, said);
    });
    await waitShown(chatA, '');
    await say(chatB, 'after the cut');
    await showsMessage(chatA, 'after the cut');
    // A's stream got no message before the cut (the page's list is in its HTML), only the room's
    // position as an `id:` on open: it came back with that as Last-Event-ID, and the backlog
    // replayed what was said meanwhile, before what came after.
    const shown = await messages(chatA);
    expect(shown.filter((m) => m.endsWith(`: ${said}`))).toHaveLength(1);
    expect(shown.findIndex((m) => m.endsWith(`: ${said}`))).toBeLessThan(shown.findIndex((m) => m.endsWith(': after the cut')));
    await expectNeverReloaded([chatA, chatB]);
  }, 60_000);
});
