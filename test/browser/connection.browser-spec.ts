/**
 * The connection state in Chromium with the real Datastar 1.0.2 client: `{{ds-connection}}` shows
 * "Reconnecting…" while the server is gone and hides when it is back, and its watchdog reopens a
 * stream whose path went silent (a TCP proxy that stops forwarding but keeps the sockets open).
 */
import type { AddressInfo } from 'node:net';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { DatastarPubSub, patchSignals } from 'nestjs-datastar';
import { CONNECTION_TOPIC, connectionModule, StreamLog } from '../core/fixtures/connection.app';
import { TcpProxy } from '../resilience/fixtures/tcp-proxy';
import { describeInBrowser, launchChromium } from './browser-env';
import { PageWatch } from './page-watch';

const CLIENT_URL = '/_test/datastar.js';
const BEAT_MS = 500;
const STEP_TIMEOUT = 20_000;

async function startServer(port = 0): Promise<INestApplication> {
  const app = await NestFactory.create(
    connectionModule({ clientUrl: CLIENT_URL, heartbeat: BEAT_MS, heartbeatEvent: true }),
    { logger: false, forceCloseConnections: true },
  );
  await app.listen(port, '127.0.0.1');
  return app;
}

describeInBrowser('The connection state', (env) => {
  let browser: Browser | undefined;
  let context: BrowserContext;
  const apps: INestApplication[] = [];
  let proxy: TcpProxy | undefined;

  beforeAll(async () => {
    browser = await launchChromium(env);
    context = await browser.newContext();
    // Any origin of the test (the server, the proxy): the client from DATASTAR_JS.
    await context.route(`**${CLIENT_URL}`, (route) =>
      route.fulfill({ status: 200, contentType: 'text/javascript; charset=utf-8', body: env.bundle }));
    await PageWatch.recordFetchEvents(context);
  }, 40_000);

  afterAll(async () => {
    await browser?.close().catch(() => undefined);
    await proxy?.close();
    for (const app of apps) await app.close().catch(() => undefined);
  }, 20_000);

  async function open(base: string): Promise<Page> {
    const page = await context.newPage();
    page.setDefaultTimeout(STEP_TIMEOUT);
    const watch = new PageWatch(page, base);
    expect((await page.goto(`${base}/conn`, { waitUntil: 'load' }))?.status()).toBe(200);
    await watch.datastarReady();
    return page;
  }

  /** '' (hidden), 'reconnecting' or 'lost': what the indicator shows. */
  const shown = (page: Page) => page.evaluate(() => {
    const e = document.getElementById('ds-connection');
    if (!e || e.hidden) return '';
    return Array.from(e.children).filter((k) => !(k as HTMLElement).hidden).map((k) => k.className.replace('ds-connection-', '')).join();
  });
  const waitShown = (page: Page, state: string) => page.waitForFunction((want) => {
    const e = document.getElementById('ds-connection');
    if (!e) return false;
    const now = e.hidden ? '' : Array.from(e.children).filter((k) => !(k as HTMLElement).hidden).map((k) => k.className.replace('ds-connection-', '')).join();
    return now === want;
  }, state);

  it('the server killed under an open page: "Reconnecting…"; back: hidden, and the stream delivers again', async () => {
    const first = await startServer();
    apps.push(first);
    const port = (first.getHttpServer().address() as AddressInfo).port;
    const base = `http://127.0.0.1:${port}`;
    const page = await open(base);
    await page.waitForFunction(() => document.getElementById('opened')?.textContent === '1');
    await expect(shown(page)).resolves.toBe('');

    await first.close();
    await waitShown(page, 'reconnecting');
    await expect(page.locator('#ds-connection').isVisible()).resolves.toBe(true);
    await expect(page.locator('.ds-connection-reconnecting').textContent()).resolves.toBe('Reconnecting…');

    const second = await startServer(port);
    apps.push(second);
    // The client's retry reaches the new process; the stream's first event hides the indicator.
    await waitShown(page, '');
    await page.waitForFunction(() => document.getElementById('opened')?.textContent === '1');
    await second.get(DatastarPubSub).publish(CONNECTION_TOPIC, patchSignals({ said: 'back' }));
    await page.waitForFunction(() => document.getElementById('said')?.textContent === 'back');
    await expect(shown(page)).resolves.toBe('');
    await page.close();
  }, 60_000);

  it('a silent path (bytes dropped, sockets open): the watchdog reopens the stream, which delivers again', async () => {
    const app = await startServer();
    apps.push(app);
    proxy = await TcpProxy.start((app.getHttpServer().address() as AddressInfo).port);
    const base = `http://127.0.0.1:${proxy.port}`;
    const log = app.get(StreamLog);
    const page = await open(base);
    await page.waitForFunction(() => document.getElementById('opened')?.textContent === '1');
    expect(log.opened).toBe(1);

    const silencedAt = Date.now();
    // The path dies silently: nothing passes on the connections open now; new ones work.
    proxy.cut('silent');
    proxy.restore();
    // No error ever comes on a silent path: only the watchdog can notice (after two heartbeats).
    await page.waitForFunction(() => document.getElementById('opened')?.textContent !== '1');
    console.log(`silent path: stream reopened after ${Date.now() - silencedAt} ms (heartbeat ${BEAT_MS} ms)`);
    expect(log.opened).toBeGreaterThanOrEqual(2);
    await app.get(DatastarPubSub).publish(CONNECTION_TOPIC, patchSignals({ said: 'still here' }));
    await page.waitForFunction(() => document.getElementById('said')?.textContent === 'still here');
    await expect(shown(page)).resolves.toBe('');
    await page.close();
  }, 60_000);
});
