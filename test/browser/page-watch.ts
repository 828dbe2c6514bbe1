import type { BrowserContext, Page } from 'playwright-core';

/** One `datastar-fetch` event the client dispatched on `document` (started, finished, error, retrying...). */
export interface FetchEventRecord {
  type: string;
  argsRaw: Record<string, string>;
}

/**
 * Everything that would tell a developer the page is broken: console errors, uncaught exceptions
 * (Datastar 1.0 throws its errors), failed requests, HTTP errors, and requests that left the test
 * server (the page must load the client from `clientUrl`, not the CDN).
 */
export class PageWatch {
  readonly consoleErrors: string[] = [];
  readonly pageErrors: string[] = [];
  readonly failedRequests: string[] = [];
  readonly httpErrors: string[] = [];
  readonly foreignRequests: string[] = [];
  /** Datastar action responses: `POST /ds/counter/increment -> 200 text/event-stream`. */
  readonly actions: string[] = [];

  constructor(readonly page: Page, private readonly origin: string) {
    page.on('console', (msg) => {
      if (msg.type() === 'error') this.consoleErrors.push(`${msg.text()} (${msg.location().url}:${msg.location().lineNumber})`);
    });
    page.on('pageerror', (error) => this.pageErrors.push(String(error.stack ?? error)));
    page.on('requestfailed', (request) => {
      this.failedRequests.push(`${request.method()} ${request.url()}: ${request.failure()?.errorText}`);
    });
    page.on('request', (request) => {
      if (!request.url().startsWith(`${this.origin}/`)) this.foreignRequests.push(`${request.method()} ${request.url()}`);
    });
    page.on('response', (response) => {
      const request = response.request();
      const path = new URL(response.url()).pathname;
      if (response.status() >= 400) this.httpErrors.push(`${request.method()} ${response.url()} -> ${response.status()}`);
      if (path.startsWith('/ds/')) {
        this.actions.push(`${request.method()} ${path} -> ${response.status()} ${response.headers()['content-type'] ?? ''}`);
      }
    });
  }

  /** Waits for the client's `datastar-ready` event: the document is applied and observed. */
  async datastarReady(): Promise<void> {
    await this.page.waitForFunction(() => (window as unknown as { __dsReady?: boolean }).__dsReady === true);
  }

  /** Records the client's `datastar-fetch` events into `window.__dsFetch` (and `datastar-ready` into `__dsReady`) on every page the context opens. */
  static async recordFetchEvents(context: BrowserContext): Promise<void> {
    await context.addInitScript(() => {
      const w = window as unknown as { __dsFetch: Array<{ type: string; argsRaw: Record<string, string> }>; __dsReady: boolean };
      w.__dsFetch = [];
      w.__dsReady = false;
      document.addEventListener('datastar-ready', () => { w.__dsReady = true; });
      document.addEventListener('datastar-fetch', (evt) => {
        const detail = (evt as CustomEvent<{ type: string; argsRaw: Record<string, string> }>).detail;
        w.__dsFetch.push({ type: detail.type, argsRaw: { ...detail.argsRaw } });
      });
    });
  }

  async fetchEvents(): Promise<FetchEventRecord[]> {
    return this.page.evaluate(() => (window as unknown as { __dsFetch?: FetchEventRecord[] }).__dsFetch ?? []);
  }

  /** Problems found so far, one line each (empty = the page is healthy). */
  async problems(): Promise<string[]> {
    const fetchErrors = (await this.fetchEvents().catch(() => []))
      .filter((e) => e.type === 'error' || e.type === 'retries-failed')
      .map((e) => `datastar-fetch ${e.type} ${JSON.stringify(e.argsRaw)}`);
    return [
      ...this.consoleErrors.map((e) => `console.error: ${e}`),
      ...this.pageErrors.map((e) => `pageerror: ${e}`),
      ...this.failedRequests.map((e) => `request failed: ${e}`),
      ...this.httpErrors.map((e) => `HTTP error: ${e}`),
      ...this.foreignRequests.map((e) => `request outside the test server: ${e}`),
      ...fetchErrors,
    ];
  }
}
