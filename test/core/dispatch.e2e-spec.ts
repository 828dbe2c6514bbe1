import { DispatchAppModule } from './fixtures/dispatch.app';
import { ADAPTERS, ds, json, query, readSse, startApp, type TestApp } from './fixtures/harness';
import { elementsEvent, scriptEvent, signalsEvent } from './fixtures/sse';

describe.each(ADAPTERS)('dispatch (%s)', (adapter) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp(DispatchAppModule, adapter);
  });
  afterAll(() => t.close());

  describe('reads signals per method', () => {
    it('GET: the datastar query parameter', async () => {
      const res = await t.fetch(`/ds/shop/echo-get${query({ count: 1, nested: { a: 'x y' } })}`, ds());
      expect(await readSse(res)).toEqual([signalsEvent({ seen: { method: 'GET', signals: { count: 1, nested: { a: 'x y' } } } })]);
    });

    it('GET without the parameter: empty signals', async () => {
      expect(await readSse(await t.fetch('/ds/shop/echo-get', ds()))).toEqual([
        signalsEvent({ seen: { method: 'GET', signals: {} } }),
      ]);
    });

    it('DELETE: the datastar query parameter', async () => {
      const res = await t.fetch(`/ds/shop/echo-delete${query({ id: 9 })}`, ds({ method: 'DELETE' }));
      expect(await readSse(res)).toEqual([signalsEvent({ seen: { method: 'DELETE', signals: { id: 9 } } })]);
    });

    it.each(['POST', 'PUT', 'PATCH'])('%s: the JSON body, answered 200 (never 201)', async (method) => {
      const event = method === 'POST' ? 'echo' : `echo-${method.toLowerCase()}`;
      const res = await t.fetch(`/ds/shop/${event}`, json(method, { count: 2, tags: ['a', 'b'] }));
      expect(res.status).toBe(200);
      expect(await readSse(res)).toEqual([
        signalsEvent({ seen: { method, signals: { count: 2, tags: ['a', 'b'] } } }),
      ]);
    });

    it('POST with no body: empty signals', async () => {
      const res = await t.fetch('/ds/shop/echo', ds({ method: 'POST' }));
      expect(await readSse(res)).toEqual([signalsEvent({ seen: { method: 'POST', signals: {} } })]);
    });

    it('POST with a text/plain JSON body (a form-less fetch)', async () => {
      const res = await t.fetch('/ds/shop/echo', ds({ method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{"n":1}' }));
      expect(await readSse(res)).toEqual([signalsEvent({ seen: { method: 'POST', signals: { n: 1 } } })]);
    });
  });

  it('sends the SSE headers, and Connection keep-alive on HTTP/1.1', async () => {
    const res = await t.fetch('/ds/shop/noop', ds({ method: 'POST' }));
    expect(await readSse(res)).toEqual([]);
    expect(res.headers.get('connection')).toBe('keep-alive');
  });

  it('flushes tracked signals as ONE merged patch, then the other patches in call order', async () => {
    const res = await t.fetch('/ds/shop/order', json('POST', {}));
    const text = await res.clone().text();
    expect(await readSse(res)).toEqual([
      signalsEvent({ a: 3, b: 2 }),
      elementsEvent('<p id="one">1</p>'),
      elementsEvent(undefined, { selector: '#gone', mode: 'remove' }),
      signalsEvent({ now: true }),
      elementsEvent('<p id="two">2</p>', { selector: '#list', mode: 'append' }),
    ]);
    // Exact bytes of the first two events: only \n, no id:, no retry:.
    expect(text.startsWith(
      'event: datastar-patch-signals\ndata: signals {"a":3,"b":2}\n\n' +
      'event: datastar-patch-elements\ndata: elements <p id="one">1</p>\n\n',
    )).toBe(true);
  });

  it('renders a partial, a function and raw HTML; assigns reach templates but are never sent', async () => {
    const res = await t.fetch('/ds/shop/fragments', json('POST', { count: 41 }));
    const events = await readSse(res);
    expect(events).toEqual([
      signalsEvent({ count: 42 }),
      elementsEvent(
        '<li id="item-7">Widget #42 S3CRET <button data-on:click="@post(&quot;/ds/shop/buy&quot;)">buy</button></li>',
        { selector: '#items', mode: 'append' },
      ),
      elementsEvent('<p id="fn">S3CRET:42:Widget</p>'),
      elementsEvent('<div id="raw">raw &amp; ready</div>'),
    ]);
    const signalPatches = events.filter((e) => e.event === 'datastar-patch-signals').flatMap((e) => e.data).join('\n');
    expect(signalPatches).not.toMatch(/secret|S3CRET|label|Widget/);
  });

  it('removeSignals, executeScript, redirect and consoleLog through the tracker', async () => {
    const res = await t.fetch(`/ds/shop/ops${query({})}`, ds());
    expect(await readSse(res)).toEqual([
      signalsEvent({ user: { email: null, name: null } }),
      scriptEvent('console.log(1)'),
      scriptEvent('window.location.href=new URL("/next",window.location.href).href'),
      scriptEvent('console.warn("careful",{"n":1})'),
    ]);
  });
});
