import { DefaultLimitAppModule, DispatchAppModule, runs } from './fixtures/dispatch.app';
import { ADAPTERS, ds, json, query, readError, readSse, startApp, type TestApp } from './fixtures/harness';
import { signalsEvent } from './fixtures/sse';

/** Bad requests are plain 4xx before any SSE byte, never a 500, never a hung request. */
describe.each(ADAPTERS)('errors (%s)', (adapter) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp(DispatchAppModule, adapter); // signalsLimit: 256
  });
  afterAll(() => t.close());

  let before: number;
  /** Runs of the echo handlers (one per method). */
  const echoRuns = () => Object.entries(runs).filter(([name]) => name.startsWith('echo')).reduce((n, [, c]) => n + c, 0);
  beforeEach(() => {
    before = echoRuns();
  });
  /** The handler must not have run for a rejected request. */
  const expectNotRun = () => expect(echoRuns()).toBe(before);

  it('unknown controller -> 404 with a message naming what to check', async () => {
    const { status, body } = await readError(await t.fetch('/ds/nope/echo', json('POST', {})));
    expect(status).toBe(404);
    expect(body.message).toBe(
      'No Datastar handler for "nope/echo": check the @StarController() name and the @OnEvent() name.',
    );
  });

  it('unknown event -> 404', async () => {
    const { status } = await readError(await t.fetch(`/ds/shop/nope${query({})}`, ds()));
    expect(status).toBe(404);
  });

  it('a Nest method on the controller that is no @OnEvent() -> 404', async () => {
    // `constructor` and prototype members must not be reachable as events.
    for (const event of ['constructor', 'toString', '__proto__']) {
      const { status } = await readError(await t.fetch(`/ds/shop/${event}`, ds({ method: 'POST' })));
      expect(status).toBe(404);
    }
  });

  it.each([
    ['POST body', () => t.fetch('/ds/shop/echo', json('POST', '{"count":'))],
    ['PUT body', () => t.fetch('/ds/shop/echo-put', json('PUT', '{bad'))],
    ['GET query', () => t.fetch('/ds/shop/echo-get?datastar=%7Bbad', ds())],
    ['DELETE query', () => t.fetch('/ds/shop/echo-delete?datastar=%7B%22a%22%3A', ds({ method: 'DELETE' }))],
  ])('malformed JSON in the %s -> 400', async (_where, send) => {
    const { status } = await readError(await send());
    expect(status).toBe(400);
    expectNotRun();
  });

  it.each([['[1,2]'], ['"text"'], ['42'], ['true'], ['null']])('non-object JSON body %s -> 400', async (body) => {
    const { status } = await readError(await t.fetch('/ds/shop/echo', json('POST', body)));
    expect(status).toBe(400);
    expectNotRun();
  });

  it.each([['[1]'], ['null'], ['"x"']])('non-object JSON query %s -> 400', async (value) => {
    const { status, body } = await readError(await t.fetch(`/ds/shop/echo-get?datastar=${encodeURIComponent(value)}`, ds()));
    expect(status).toBe(400);
    expect(body.message).toBe('Signals must be a JSON object, e.g. {"count":1}.');
    expectNotRun();
  });

  const big = { text: 'x'.repeat(300) };

  it('a body over signalsLimit -> 413', async () => {
    const { status, body } = await readError(await t.fetch('/ds/shop/echo', json('POST', big)));
    expect(status).toBe(413);
    expect(body.message).toBe('Signals exceed the 256-byte limit: send fewer signals or raise signalsLimit in DatastarModule.forRoot().');
    expectNotRun();
  });

  it('a query over signalsLimit -> 413', async () => {
    const { status } = await readError(await t.fetch(`/ds/shop/echo-get${query(big)}`, ds()));
    expect(status).toBe(413);
    expectNotRun();
  });

  it('a chunked body (no Content-Length) over signalsLimit -> 413', async () => {
    const payload = new TextEncoder().encode(JSON.stringify(big));
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(payload.slice(0, 100));
        controller.enqueue(payload.slice(100));
        controller.close();
      },
    });
    const res = await t.fetch('/ds/shop/echo', ds({
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: stream,
      duplex: 'half',
    } as RequestInit));
    const { status } = await readError(res);
    expect(status).toBe(413);
    expectNotRun();
  });

  it('a body just under signalsLimit is accepted', async () => {
    const signals = { text: 'y'.repeat(200) };
    expect(await readSse(await t.fetch('/ds/shop/echo', json('POST', signals)))).toEqual([
      signalsEvent({ seen: { method: 'POST', signals } }),
    ]);
  });

  it.each(['application/xml', 'image/png', 'application/octet-stream'])('content-type %s -> 415', async (type) => {
    const res = await t.fetch('/ds/shop/echo', ds({ method: 'POST', headers: { 'content-type': type }, body: '<a/>' }));
    const { status } = await readError(res);
    expect(status).toBe(415);
    expectNotRun();
  });

  describe('prototype keys never pollute', () => {
    const hostile = '{"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}},' +
      '"nested":{"__proto__":{"polluted":"yes"},"ok":1},"fine":true}';
    afterEach(() => {
      expect(({} as any).polluted).toBeUndefined();
      expect((Object.prototype as any).polluted).toBeUndefined();
    });

    it('in the GET query: the keys are dropped before the handler sees the signals', async () => {
      const res = await t.fetch(`/ds/shop/proto-get?datastar=${encodeURIComponent(hostile)}`, ds());
      expect(await readSse(res)).toEqual([
        signalsEvent({ report: { keys: ['nested', 'fine'], plainPrototype: true, nestedKeys: ['ok'] } }),
      ]);
    });

    it('in a JSON body: dropped (Express) or refused by the platform parser with 400 (Fastify)', async () => {
      const res = await t.fetch('/ds/shop/proto', json('POST', hostile));
      if (adapter === 'fastify') {
        // Fastify's JSON parser rejects __proto__ / constructor.prototype itself (onProtoPoisoning: 'error').
        expect((await readError(res)).status).toBe(400);
      } else {
        expect(await readSse(res)).toEqual([
          signalsEvent({ report: { keys: ['nested', 'fine'], plainPrototype: true, nestedKeys: ['ok'] } }),
        ]);
      }
    });

    it('in a text/plain body read by Datastar itself', async () => {
      const res = await t.fetch('/ds/shop/proto', ds({ method: 'POST', headers: { 'content-type': 'text/plain' }, body: hostile }));
      expect(await readSse(res)).toEqual([
        signalsEvent({ report: { keys: ['nested', 'fine'], plainPrototype: true, nestedKeys: ['ok'] } }),
      ]);
    });
  });

  it('never answers 500 or hangs on any of the above', async () => {
    const attempts: Array<[string, RequestInit?]> = [
      ['/ds/shop/echo', json('POST', '{')],
      ['/ds/shop/echo', json('POST', '[]')],
      ['/ds/shop/echo', json('POST', JSON.stringify(big))],
      ['/ds/shop/echo', ds({ method: 'POST', headers: { 'content-type': 'application/xml' }, body: 'x' })],
      ['/ds/shop/echo-get?datastar=%E0%A4%A', ds()],
      ['/ds/shop/echo-get?datastar=%7B%22a%22%3A1%7D&datastar=2', ds()],
      ['/ds/shop/echo', ds({ method: 'POST', headers: { 'content-type': 'text/plain' }, body: Buffer.from([0x7b, 0xff, 0x7d]) })],
      ['/ds/shop/echo-patch', json('PATCH', '{"a":' + '['.repeat(200) + ']'.repeat(200) + '}')],
      ['/ds/%E0%A4%A/echo', ds()],
      ['/ds/shop', ds()],
    ];
    for (const [path, init] of attempts) {
      const res = await t.fetch(path, init);
      await res.text();
      expect({ path, status: res.status < 500 }).toEqual({ path, status: true });
    }
  });
});

describe.each(ADAPTERS)('signalsLimit is per application (%s)', (adapter) => {
  it('a second app in the same process does not change the first one\'s limit', async () => {
    const limited = await startApp(DispatchAppModule, adapter); // 256 bytes
    const other = await startApp(DefaultLimitAppModule, adapter); // 1 MiB
    try {
      const body = json('POST', { text: 'z'.repeat(300) });
      expect((await readError(await limited.fetch('/ds/shop/echo', body))).status).toBe(413);
      expect((await readSse(await other.fetch('/ds/shop/echo', body))).length).toBe(1);
    } finally {
      await other.close();
      await limited.close();
    }
  });
});
