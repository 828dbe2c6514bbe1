/**
 * The sample app as a user clicks through it, with the project's own testing kit: the browserless
 * page driver runs /counter and /search, the test client and matchers check the events.
 */
import type { INestApplication } from '@nestjs/common';
import { DatastarPage, DatastarTestClient, setupDatastarMatchers } from 'nestjs-datastar/testing';
import { createSampleApp } from '../../sample/src/create-app';
import { searchFruits } from '../../sample/src/search/fruits';

setupDatastarMatchers();

describe('sample app', () => {
  let app: INestApplication;
  let client: DatastarTestClient;

  beforeAll(async () => {
    app = await createSampleApp({}, false);
    await app.listen(0, '127.0.0.1');
    client = new DatastarTestClient(app);
  });
  afterAll(() => app.close());

  it('/ links every demo', async () => {
    const { status, html } = await client.page('/');
    expect(status).toBe(200);
    for (const href of ['/counter', '/search', '/chat']) expect(html).toContain(`href="${href}"`);
  });

  describe('/counter in the page driver', () => {
    let page: DatastarPage;
    beforeEach(async () => {
      page = await DatastarPage.open(app, '/counter');
    });
    afterEach(() => page.close());

    it('starts at 0 and counts clicks, with a server-rendered history item per click', async () => {
      expect(page.text('#count')).toBe('0');
      for (let i = 1; i <= 3; i++) {
        await page.click('#increment');
        expect(page.text('#count')).toBe(String(i));
      }
      expect(page.count('#history-list li')).toBe(3);
      // The square is computed on the server with assign() only: it is in the HTML, never a signal.
      expect(page.text('#history-list li:last-child')).toContain('is 9');
      expect(page.signals).not.toHaveProperty('square');
      expect(page.errors).toEqual([]);
    });
  });

  describe('/search in the page driver', () => {
    it('filters on the server as the user types', async () => {
      const page = await DatastarPage.open(app, '/search');
      try {
        expect(page.count('#results li')).toBe(searchFruits('').length);
        await page.type('#search', 'ap');
        await page.waitFor(() => page.text('#results-query') === 'ap');
        const items = [...page.document.querySelectorAll('#results li')].map((li: any) => li.textContent);
        expect(items).toEqual(searchFruits('ap'));
        expect(items.length).toBeGreaterThan(0);
      } finally {
        await page.close();
      }
    });
  });

  describe('events through the test client', () => {
    it('increment answers a merged signal patch and an appended history item', async () => {
      const res = await client.event('counter', 'increment', { count: 41 });
      expect(res.status).toBe(200);
      expect(res).toPatchSignals({ count: 42 });
      expect(res).toPatchElements('#history-list', { mode: 'append', contains: 'is 1764' });
    });

    it('a page with no errors shown gets no errors patch (exactly one merged signal patch)', async () => {
      const res = await client.event('counter', 'increment', { count: 1, errors: {} });
      expect(res.events.map((e) => e.type)).toEqual(['datastar-patch-signals', 'datastar-patch-elements']);
      expect(res.events[0].patchSignals?.signals).toEqual({ count: 2 });
      const cleared = await client.event('counter', 'increment', { count: 1, errors: { count: 'was wrong' } });
      expect(cleared.events[0].patchSignals?.signals).toEqual({ count: 2, errors: { count: '' } });
    });

    it('invalid signals: the handler does not run, the page gets an errors signal', async () => {
      const res = await client.event('counter', 'increment', { count: -1 });
      expect(res.status).toBe(200);
      expect(res).toPatchSignals({ errors: { count: expect.stringContaining('count') } });
      expect(res.events).toHaveLength(1);
    });

    it('search escapes what the user typed', async () => {
      const res = await client.event('search', 'search', { query: '<img src=x onerror=alert(1)>' }, { method: 'get' });
      expect(res).toPatchElements('results', { contains: '&lt;img src&#x3D;x onerror&#x3D;alert(1)&gt;' });
      expect(res.text).not.toContain('<img');
    });
  });
});
