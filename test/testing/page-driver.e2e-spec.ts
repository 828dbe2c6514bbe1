import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatastarPage, type PageRuntime } from 'nestjs-datastar/testing';
import { findClientBundle, matchesIntegrity } from '../../libs/datastar/src/testing/client-bundle';
import { startFixtureServer, type FixtureServer } from '../../libs/datastar/src/testing/counter-app.fixture';
import { requirePeer } from '../../libs/datastar/src/testing/optional-peer';
import { DATASTAR_1_0_2_SHA256, warnLoudly } from '../browser/browser-env';
import { createSampleApp } from '../../sample/src/create-app';
import { searchFruits } from '../../sample/src/search/fruits';

/**
 * The page driver runs the page's own Datastar client in happy-dom when it has one, else its
 * emulator: the same scenarios must show the same thing in both. The client runs only with
 * DATASTAR_JS (the bundle is never committed); without it this says so, loudly.
 */
const bundlePath = process.env.DATASTAR_JS?.trim() || undefined;
const RUNTIMES: PageRuntime[] = bundlePath ? ['emulator', 'client'] : ['emulator'];

describe.each(RUNTIMES)('DatastarPage with the %s', (runtime) => {
  let app: FixtureServer;
  let page: DatastarPage | undefined;
  const open = (path: string) => DatastarPage.open(app.url, path, { runtime, clientPath: bundlePath });

  beforeAll(async () => { app = await startFixtureServer(); });
  afterEach(async () => {
    await page?.close();
    page = undefined;
    app.requests.length = 0;
  });
  afterAll(() => app.close());

  it('runs the page with what was asked for', async () => {
    page = await open('/counter');
    expect(page.runtime).toBe(runtime);
  });

  it('counts: a click posts the signals and the streamed answer patches signals and elements', async () => {
    page = await open('/counter');
    await page.click('#increment');
    await page.click('#increment');
    expect(page.text('#count')).toBe('2');
    expect(page.signals).toEqual({ count: 2 });
    expect([...page.document.querySelectorAll('#history-list li')].map((li) => li.textContent)).toEqual(['1', '2']);
    expect(app.requests.filter((r) => r.method === 'POST').map((r) => r.headers.cookie)).toEqual(['sid=abc123', 'sid=abc123']);
    expect(page.errors).toEqual([]);
  });

  it('quick clicks on two rows posting to the same URL: the second cancels the first, like the client', async () => {
    page = await open('/rows');
    await Promise.all([page.click('#row-1'), page.click('#row-2')]);
    expect([...page.document.querySelectorAll('#picked li')].map((li) => li.textContent)).toEqual(['picked 2']);
    expect(page.requests.filter((r) => r.url === '/ds/rows/pick')).toHaveLength(2);
  });

  it('reads a missing signal as \'\' and creates it, like the client', async () => {
    page = await open('/rows');
    expect(page.text('#fallback')).toBe('');
    expect(page.signals).toEqual({ row: 0, missing: '' });
  });

  it('waits out __debounce before it sends', async () => {
    page = await open('/search');
    await page.type('#search', 'ap');
    expect([...page.document.querySelectorAll('#results li')].map((li) => li.textContent)).toEqual(['apple', 'apricot']);
    expect(app.requests.filter((r) => r.url.startsWith('/ds/search/query'))).toHaveLength(1);
  });

  it('keeps event and class names as written and camel-cases a signal name only at a dash before a letter, like the client', async () => {
    page = await open('/casing');
    expect(page.signals).toEqual({ v2api: 1, 'item-2': 2, firstName: 'Ada', fired: false });
    expect([...page.document.querySelector('#styled')!.classList].sort()).toEqual(['mt2', 'text-lg']);
    await page.dispatch('#fire', 'my-event2');
    expect(page.signals.fired).toBe(true);
    expect(page.errors).toEqual([]);
  });

  it('runs the library\'s own markup: a tab id, and the connection indicator left hidden; a timer of the page\'s own fails in the emulator', async () => {
    page = await open('/library');
    await page.click('#increment');
    expect(page.text('#count')).toBe('1');
    expect(page.signals.tabId).toMatch(/^[0-9a-f]{32}$/);
    expect(page.document.querySelector('#ds-connection')!.hasAttribute('hidden')).toBe(true);
    expect(page.errors).toEqual([]);
    if (runtime === 'emulator') {
      await expect(open('/library?user')).rejects.toThrow(
        /data-on-interval__duration\.5000ms="\$count\+\+" on <p id="clock">: the page driver's emulator does not run data-on-interval/,
      );
    }
  });

  it('a plugin the emulator does not run fails open() there; the client runs it', async () => {
    if (runtime === 'emulator') {
      await expect(open('/ref')).rejects.toThrow(/data-ref:field="" on <input id="name">: the page driver's emulator does not run data-ref/);
    } else {
      page = await open('/ref');
      expect(page.errors).toEqual([]);
    }
  });
});

describe.each(RUNTIMES)('the sample app with the %s', (runtime) => {
  let app: Awaited<ReturnType<typeof createSampleApp>>;
  let page: DatastarPage | undefined;

  beforeAll(async () => {
    app = await createSampleApp({}, false);
    await app.listen(0, '127.0.0.1');
  });
  afterEach(async () => {
    await page?.close();
    page = undefined;
  });
  afterAll(() => app.close());

  it('counts clicks with a server-rendered history item per click', async () => {
    page = await DatastarPage.open(app, '/counter', { runtime });
    expect(page.runtime).toBe(runtime);
    for (let i = 1; i <= 3; i++) await page.click('#increment');
    expect(page.text('#count')).toBe('3');
    expect(page.count('#history-list li')).toBe(3);
    expect(page.text('#history-list li:last-child')).toContain('is 9');
    expect(page.errors).toEqual([]);
  });

  it('filters on the server as the user types', async () => {
    page = await DatastarPage.open(app, '/search', { runtime });
    await page.type('#search', 'ap');
    await page.waitFor(() => page!.text('#results-query') === 'ap');
    expect([...page.document.querySelectorAll('#results li')].map((li) => li.textContent)).toEqual(searchFruits('ap'));
  });
});

describe('DatastarPage with the page\'s own client', () => {
  if (!bundlePath) {
    it('did not run: DATASTAR_JS is not set', () => {
      warnLoudly('page driver client tests did not run: set DATASTAR_JS=/path/to/datastar.js (Datastar 1.0.2)');
      expect(process.env.DATASTAR_JS).toBeUndefined();
    });
    return;
  }
  const bundle = readFileSync(bundlePath);
  const integrity = `sha256-${createHash('sha256').update(bundle).digest('base64')}`;
  let served: { url: string; hits: () => number; close(): Promise<void> };
  let app: { url: string; close(): Promise<void> };
  let cacheDir: string;

  beforeAll(async () => {
    expect(createHash('sha256').update(bundle).digest('hex')).toBe(DATASTAR_1_0_2_SHA256);
    // A stand-in for the CDN: another origin that serves the bundle.
    let hits = 0;
    const cdn = await listen(createServer((_req, res) => {
      hits++;
      res.writeHead(200, { 'Content-Type': 'text/javascript' });
      res.end(bundle);
    }));
    served = { url: `${cdn.url}/npm/datastar.js`, hits: () => hits, close: cdn.close };
    // An app whose pages load the client from the CDN (with a right or a wrong hash) or from itself.
    app = await listen(createServer((req, res) => {
      const page = (script: string) => {
        res.writeHead(200, { 'Content-Type': 'text/html' });
        res.end(`<!doctype html><html><head>${script}</head><body><p id="p" data-signals:n="41" data-text="$n + 1"></p></body></html>`);
      };
      if (req.url === '/cdn') page(`<script type="module" src="${served.url}" integrity="${integrity}"></script>`);
      else if (req.url === '/cdn-wrong') page(`<script type="module" src="${served.url}" integrity="sha256-${Buffer.alloc(32).toString('base64')}"></script>`);
      else if (req.url === '/own') page('<script type="module" src="/js/datastar.js"></script>');
      else if (req.url === '/js/datastar.js') {
        res.writeHead(200, { 'Content-Type': 'text/javascript' });
        res.end(bundle);
      } else {
        res.writeHead(404);
        res.end();
      }
    }));
  });
  beforeEach(() => { cacheDir = mkdtempSync(join(tmpdir(), 'ds-client-cache-')); });
  afterEach(() => rmSync(cacheDir, { recursive: true, force: true }));
  afterAll(async () => {
    await served.close();
    await app.close();
  });

  it('downloads a CDN client pinned with integrity once, verifies it and runs it from the cache', async () => {
    const before = served.hits();
    await withoutDatastarJs(async () => {
      for (let i = 0; i < 2; i++) {
        const page = await DatastarPage.open(app.url, '/cdn', { runtime: 'client', clientCacheDir: cacheDir });
        expect(page.runtime).toBe('client');
        expect(page.text('#p')).toBe('42');
        await page.close();
      }
    });
    expect(served.hits() - before).toBe(1);
  });

  it('refuses a CDN client that does not match the page\'s integrity', async () => {
    await withoutDatastarJs(() => expect(DatastarPage.open(app.url, '/cdn-wrong', { clientCacheDir: cacheDir })).rejects.toThrow(
      /does not match the page's integrity="sha256-A+=*".*a browser would refuse to run it/,
    ));
  });

  it('refuses a DATASTAR_JS file that does not match the page\'s integrity', async () => {
    await expect(DatastarPage.open(app.url, '/cdn-wrong', { clientPath: bundlePath })).rejects.toThrow(/does not match the page's integrity/);
  });

  it('runs the client the app serves itself', async () => {
    const page = await DatastarPage.open(app.url, '/own', { runtime: 'client' });
    expect(page.runtimeReason).toBe(`the Datastar client from ${app.url}/js/datastar.js`);
    expect(page.text('#p')).toBe('42');
    await page.close();
  });
});

describe('where the client comes from, without a real bundle', () => {
  const code = Buffer.from('export { x as root };');
  const integrity = `sha256-${createHash('sha256').update(code).digest('base64')}`;
  let cdn: { url: string; close(): Promise<void> };
  let hits = 0;
  let cacheDir: string;

  beforeAll(async () => {
    cdn = await listen(createServer((_req, res) => {
      hits++;
      res.writeHead(200, { 'Content-Type': 'text/javascript' });
      res.end(code);
    }));
  });
  beforeEach(() => { cacheDir = mkdtempSync(join(tmpdir(), 'ds-client-cache-')); });
  afterEach(() => rmSync(cacheDir, { recursive: true, force: true }));
  afterAll(() => cdn.close());

  it('checks Subresource Integrity hashes', () => {
    expect(matchesIntegrity(code, integrity)).toBe(true);
    expect(matchesIntegrity(code, `sha384-nope ${integrity}`)).toBe(true);
    expect(matchesIntegrity(Buffer.from('other'), integrity)).toBe(false);
  });

  it('downloads once into the cache, and then reads the cache', async () => {
    const tag = { src: `${cdn.url}/datastar.js`, integrity };
    const before = hits;
    const first = await findClientBundle('http://app.test/', tag, { cacheDir, headers: {} });
    const second = await findClientBundle('http://app.test/', tag, { cacheDir, headers: {} });
    expect(first).toEqual({ code: code.toString(), from: tag.src });
    expect(second).toMatchObject({ code: code.toString() });
    expect((second as { from: string }).from.startsWith(cacheDir)).toBe(true);
    expect(hits - before).toBe(1);
  });

  it('throws on a download that does not match, and caches nothing', async () => {
    const tag = { src: `${cdn.url}/datastar.js`, integrity: `sha256-${Buffer.alloc(32).toString('base64')}` };
    await expect(findClientBundle('http://app.test/', tag, { cacheDir, headers: {} })).rejects.toThrow(/does not match the page's integrity/);
    expect(readdirSync(cacheDir)).toEqual([]);
  });

  it('falls back (with the reason) when a CDN script has no integrity or cannot be downloaded', async () => {
    expect(await findClientBundle('http://app.test/', { src: `${cdn.url}/datastar.js` }, { cacheDir, headers: {} }))
      .toMatch(/without an integrity hash: set clientPath or DATASTAR_JS/);
    expect(await findClientBundle('http://app.test/', { src: 'http://127.0.0.1:1/datastar.js', integrity }, { cacheDir, headers: {} }))
      .toMatch(/downloading http:\/\/127\.0\.0\.1:1\/datastar\.js failed/);
  });

  it('gives up quickly on a CDN that does not answer, says so, and does not try it again in this process', async () => {
    let asked = 0;
    const silent = await listen(createServer(() => { asked++; }));
    const src = `${silent.url}/datastar.js`;
    const page = await listen(createServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end(`<!doctype html><html><head><script type="module" src="${src}" integrity="${integrity}"></script></head>`
        + '<body><p id="n" data-signals:n="1" data-text="$n"></p></body></html>');
    }));
    try {
      await withoutDatastarJs(async () => {
        for (let i = 0; i < 2; i++) {
          const opened = await DatastarPage.open(page.url, '/', { clientCacheDir: cacheDir });
          expect(opened.runtime).toBe('emulator');
          expect(opened.runtimeReason).toBe(
            `downloading ${src} failed (no answer within 2000 ms), and is not tried again in this process: set clientPath or DATASTAR_JS`,
          );
          expect(opened.text('#n')).toBe('1');
          await opened.close();
        }
      });
      expect(asked).toBe(1);
    } finally {
      await Promise.all([silent.close(), page.close()]);
    }
  });

  it('uses the emulator, and says why, when the page has no client to be had', async () => {
    const app = await startFixtureServer();
    try {
      await withoutDatastarJs(async () => {
        const page = await DatastarPage.open(app.url, '/counter');
        expect(page.runtime).toBe('emulator');
        expect(page.runtimeReason).toMatch(/the page has no Datastar <script src>/);
        await expect(DatastarPage.open(app.url, '/counter', { runtime: 'client' })).rejects.toThrow(/runtime 'client' but no Datastar client can be had/);
        await page.close();
      });
    } finally {
      await app.close();
    }
  });
});

describe('loading the kit\'s optional peers', () => {
  it('names the install command for a missing one', () => {
    expect(() => requirePeer('no-such-peer-for-datastar', 'no-such-peer-for-datastar@1'))
      .toThrow('The testing kit needs "no-such-peer-for-datastar", which is not installed: npm install --save-dev no-such-peer-for-datastar@1');
  });

  it('names the real cause and the Jest fix for an ES module it cannot require()', () => {
    const root = mkdtempSync(join(tmpdir(), 'esm-peer-'));
    // Under node_modules, so that Jest does not compile it (as for an installed package).
    const dir = join(root, 'node_modules', 'esm-peer');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'package.json'), '{"type": "module"}');
    writeFileSync(join(dir, 'index.js'), 'export const x = 1;\n');
    try {
      expect(() => requirePeer(join(dir, 'index.js'), 'x')).toThrow(
        /is an ES module, and this runtime cannot require\(\) ES modules .*transformIgnorePatterns: \['\/node_modules\/\(\?!\(@nestjs\|happy-dom\)\/\)'\]/s,
      );
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('loads linkedom and happy-dom under Jest as configured', () => {
    expect(typeof requirePeer<{ parseHTML: unknown }>('linkedom', 'linkedom').parseHTML).toBe('function');
    expect(typeof requirePeer<{ Window: unknown }>('happy-dom', 'happy-dom').Window).toBe('function');
  });
});

async function withoutDatastarJs(fn: () => Promise<void>): Promise<void> {
  const saved = process.env.DATASTAR_JS;
  delete process.env.DATASTAR_JS;
  try {
    await fn();
  } finally {
    if (saved !== undefined) process.env.DATASTAR_JS = saved;
  }
}

async function listen(server: Server): Promise<{ url: string; close(): Promise<void> }> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
