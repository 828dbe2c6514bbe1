import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough, Readable } from 'node:stream';
import { parseSignals, readSignals, SignalsError, type ReadSignalsOptions, type SignalsSource } from './read-signals';

const JSON_HEADERS = { 'content-type': 'application/json' };

function get(signals: unknown, method = 'GET'): SignalsSource {
  return { method, url: `/ds/x?datastar=${encodeURIComponent(JSON.stringify(signals))}`, headers: {} };
}

function getRaw(text: string, method = 'GET'): SignalsSource {
  return { method, url: `/ds/x?datastar=${encodeURIComponent(text)}`, headers: {} };
}

function streamOf(...chunks: Array<Buffer | string>): Readable {
  return Readable.from(chunks.map((c) => (typeof c === 'string' ? Buffer.from(c) : c)));
}

function post(stream: NodeJS.ReadableStream, headers: SignalsSource['headers'] = JSON_HEADERS, method = 'POST'): SignalsSource {
  return { method, url: '/ds/x', headers, stream };
}

async function expectStatus(promise: Promise<unknown>, status: number): Promise<void> {
  let error: unknown;
  try {
    await promise;
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(SignalsError);
  expect((error as SignalsError).status).toBe(status);
  expect((error as SignalsError).name).toBe('SignalsError');
}

function expectNoPollution(): void {
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  expect((Object.prototype as unknown as Record<string, unknown>).polluted).toBeUndefined();
}

afterEach(() => {
  expectNoPollution();
});

describe('readSignals: GET and DELETE', () => {
  it('reads the datastar query parameter', async () => {
    await expect(readSignals(get({ count: 1, user: { name: 'Ada' } }))).resolves.toEqual({ count: 1, user: { name: 'Ada' } });
  });

  it('reads a parameter encoded by URLSearchParams (spaces as +) among other parameters', async () => {
    const qs = new URLSearchParams({ page: '2', datastar: JSON.stringify({ q: 'a b+c' }) }).toString();
    await expect(readSignals({ method: 'GET', url: `/x?${qs}`, headers: {} })).resolves.toEqual({ q: 'a b+c' });
  });

  it('accepts a lower-case method', async () => {
    await expect(readSignals(get({ a: 1 }, 'get'))).resolves.toEqual({ a: 1 });
  });

  it('reads DELETE from the query parameter', async () => {
    await expect(readSignals(get({ id: 3 }, 'DELETE'))).resolves.toEqual({ id: 3 });
  });

  it('reads DELETE from the body when the query has no parameter (older clients)', async () => {
    await expect(readSignals({ method: 'DELETE', url: '/x', headers: JSON_HEADERS, body: { id: 4 } })).resolves.toEqual({ id: 4 });
  });

  it('ignores a body on GET', async () => {
    await expect(readSignals({ method: 'GET', url: '/x', headers: JSON_HEADERS, body: { a: 1 } })).resolves.toEqual({});
  });

  it.each([['/x'], ['/x?page=1'], [undefined], ['/x?']])('returns {} without the parameter (url %p)', async (url) => {
    await expect(readSignals({ method: 'GET', url, headers: {} })).resolves.toEqual({});
  });

  it.each([['{"a":'], ['{a:1}'], ['undefined'], ["{'a':1}"], ['{"a":1}x']])('answers 400 to malformed JSON %p', async (text) => {
    await expectStatus(readSignals(getRaw(text)), 400);
  });

  it.each([['[1,2]'], ['1'], ['"str"'], ['null'], ['true']])('answers 400 to non-object JSON %s', async (text) => {
    await expectStatus(readSignals(getRaw(text)), 400);
  });

  it('answers 413 to a parameter larger than the limit', async () => {
    await expectStatus(readSignals(get({ text: 'x'.repeat(100) }), { limit: 50 }), 413);
    await expect(readSignals(get({ text: 'x'.repeat(10) }), { limit: 50 })).resolves.toEqual({ text: 'x'.repeat(10) });
  });

  it('counts bytes, not characters, against the limit', async () => {
    // 10 characters, 30 bytes of UTF-8.
    await expectStatus(readSignals(get({ t: '€'.repeat(10) }), { limit: 25 }), 413);
  });

  it('drops prototype keys at any depth and never pollutes Object.prototype', async () => {
    const text = '{"__proto__":{"polluted":1},"a":{"constructor":{"prototype":{"polluted":1}},"b":[{"__proto__":{"polluted":1},"ok":true}]},"prototype":1,"keep":2}';
    const signals = await readSignals(getRaw(text));
    expect(signals).toEqual({ a: { b: [{ ok: true }] }, keep: 2 });
    expect(Object.prototype.hasOwnProperty.call(signals, '__proto__')).toBe(false);
    expect(Object.getPrototypeOf(signals)).toBe(Object.prototype);
    expectNoPollution();
  });

  it('drops prototype keys spelled with JSON escapes', async () => {
    const text = '{"\\u005f_proto__":{"polluted":1},"__prot\\u006f__":{"polluted":1},"constructo\\u0072":{"polluted":1},"x":1}';
    const signals = await readSignals(getRaw(text));
    expect(signals).toEqual({ x: 1 });
    expect(Object.keys(signals)).toEqual(['x']);
  });

  it('answers 413 naming the option to nesting deeper than limits.depth', async () => {
    await expect(readSignals(getRaw('{"a":{"b":{}}}'), { limits: { depth: 3 } })).resolves.toEqual({ a: { b: {} } });
    await expectStatus(readSignals(getRaw('{"a":{"b":{"c":{}}}}'), { limits: { depth: 3 } }), 413);
    await expectStatus(readSignals(getRaw('{"a":[[[1]]]}'), { limits: { depth: 3 } }), 413);
    await expect(readSignals(getRaw('{"a":[[[1]]]}'), { limits: { depth: 3 } })).rejects.toThrow(/deeper than 3 levels.*signalsLimits\.depth/);
  });

  it('answers 413, not a crash, to absurdly deep nesting with the default depth (32)', async () => {
    const depth = 100_000;
    const text = `{"a":${'['.repeat(depth)}${']'.repeat(depth)}}`;
    await expectStatus(readSignals({ method: 'POST', headers: JSON_HEADERS, body: text }), 413);
    const justDeepEnough = `${'{"a":'.repeat(31)}{}${'}'.repeat(31)}`; // 32 levels
    await expect(readSignals({ method: 'POST', headers: JSON_HEADERS, body: justDeepEnough })).resolves.toBeDefined();
    await expectStatus(readSignals({ method: 'POST', headers: JSON_HEADERS, body: `{"b":${justDeepEnough}}` }), 413);
  });
});

describe('readSignals: POST, PUT, PATCH with a parsed body', () => {
  it.each([['POST'], ['PUT'], ['PATCH']])('%s returns a parsed body object', async (method) => {
    await expect(readSignals({ method, url: '/x', headers: JSON_HEADERS, body: { a: 1, b: [true] } })).resolves.toEqual({ a: 1, b: [true] });
  });

  it('removes prototype keys a parser made own properties, at any depth', async () => {
    const body = JSON.parse('{"__proto__":{"polluted":1},"a":{"constructor":{"prototype":{"polluted":1}},"prototype":{},"c":1}}');
    const signals = await readSignals({ method: 'POST', headers: JSON_HEADERS, body });
    expect(signals).toEqual({ a: { c: 1 } });
    expect(Object.keys(signals)).toEqual(['a']);
    expect(Object.keys(signals.a as object)).toEqual(['c']);
  });

  it.each([[[1, 2]], [5], [true]])('answers 400 to a parsed non-object %p', async (body) => {
    await expectStatus(readSignals({ method: 'POST', headers: JSON_HEADERS, body }), 400);
  });

  it('parses a string body', async () => {
    await expect(readSignals({ method: 'POST', headers: JSON_HEADERS, body: '{"a":"é"}' })).resolves.toEqual({ a: 'é' });
  });

  it('parses a Buffer body', async () => {
    await expect(readSignals({ method: 'POST', headers: JSON_HEADERS, body: Buffer.from('{"a":2}') })).resolves.toEqual({ a: 2 });
  });

  it.each([['nope'], ['{"a":'], ['[1]'], ['"s"'], ['null'], ['42']])('answers 400 to the string body %p', async (body) => {
    await expectStatus(readSignals({ method: 'POST', headers: JSON_HEADERS, body }), 400);
  });

  it('answers 413 to a string body larger than the limit', async () => {
    await expectStatus(readSignals({ method: 'POST', headers: JSON_HEADERS, body: `{"a":"${'x'.repeat(100)}"}` }, { limit: 50 }), 413);
  });

  it('returns {} for an empty or blank string body', async () => {
    await expect(readSignals({ method: 'POST', headers: JSON_HEADERS, body: '' })).resolves.toEqual({});
    await expect(readSignals({ method: 'POST', headers: JSON_HEADERS, body: ' \n ' })).resolves.toEqual({});
  });

  it('returns {} with neither body nor stream', async () => {
    await expect(readSignals({ method: 'POST', headers: {} })).resolves.toEqual({});
  });

  it('answers 413 to a parsed body nested deeper than limits.depth', async () => {
    await expectStatus(readSignals({ method: 'POST', headers: JSON_HEADERS, body: { a: { b: { c: 1 } } } }, { limits: { depth: 2 } }), 413);
  });

  it('returns urlencoded form fields of a parsed body, without prototype keys', async () => {
    const body = Object.assign(Object.create(null) as Record<string, unknown>, { name: 'Ada', constructor: 'x', prototype: 'y' });
    Object.defineProperty(body, '__proto__', { value: { polluted: 1 }, enumerable: true });
    const signals = await readSignals({ method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
    expect(signals).toEqual({ name: 'Ada' });
    expect(Object.keys(signals)).toEqual(['name']);
  });

  it('answers 413 to a string form body larger than the limit', async () => {
    await expectStatus(readSignals(
      { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `a=${'x'.repeat(100)}` },
      { limit: 50 },
    ), 413);
  });
});

describe('readSignals: POST from a raw stream', () => {
  it('reads JSON split across chunks', async () => {
    await expect(readSignals(post(streamOf('{"a":', '1,"b"', ':[1,2]}')))).resolves.toEqual({ a: 1, b: [1, 2] });
  });

  it.each([['PUT'], ['PATCH']])('reads a %s stream', async (method) => {
    await expect(readSignals(post(streamOf('{"m":1}'), JSON_HEADERS, method))).resolves.toEqual({ m: 1 });
  });

  it('decodes multi-byte UTF-8 characters split across chunks', async () => {
    const text = '{"name":"café €😀 日本"}';
    const bytes = Buffer.from(text, 'utf8');
    const euro = bytes.indexOf(Buffer.from('€'));
    const emoji = bytes.indexOf(Buffer.from('😀'));
    const chunks = [bytes.subarray(0, euro + 1), bytes.subarray(euro + 1, emoji + 2), bytes.subarray(emoji + 2)];
    await expect(readSignals(post(Readable.from(chunks)))).resolves.toEqual({ name: 'café €😀 日本' });
    // One byte at a time.
    const single = [...bytes].map((b) => Buffer.from([b]));
    await expect(readSignals(post(Readable.from(single)))).resolves.toEqual({ name: 'café €😀 日本' });
  });

  it.each([
    ['a lone continuation byte', Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0x80, 0x22, 0x7d])],
    ['0xff', Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d])],
    ['an overlong encoding', Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc0, 0xaf, 0x22, 0x7d])],
    ['a truncated sequence', Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xe2, 0x82, 0x22, 0x7d])],
  ])('answers 400 to invalid UTF-8 (%s)', async (_name, bytes) => {
    await expectStatus(readSignals(post(Readable.from([bytes]))), 400);
  });

  it('returns {} for an empty stream', async () => {
    await expect(readSignals(post(Readable.from([] as Buffer[])))).resolves.toEqual({});
  });

  it('returns {} for a stream a parser already consumed', async () => {
    const stream = streamOf('{"a":1}');
    stream.resume();
    await new Promise((resolve) => stream.on('end', resolve));
    await expect(readSignals(post(stream))).resolves.toEqual({});
  });

  it.each([['{"a":'], ['[1]'], ['1'], ['null'], ['"x"']])('answers 400 to the streamed body %p', async (text) => {
    await expectStatus(readSignals(post(streamOf(text))), 400);
  });

  it('answers 413 when the streamed bytes exceed the limit (no content-length)', async () => {
    const chunks = Array.from({ length: 10 }, () => Buffer.from('x'.repeat(20)));
    await expectStatus(readSignals(post(Readable.from(chunks)), { limit: 100 }), 413);
  });

  it('answers 413 as soon as the streamed bytes pass the limit, without waiting for the end', async () => {
    const stream = new PassThrough(); // never ends: only a check while reading can answer
    stream.write(Buffer.alloc(150, 0x78));
    const started = Date.now();
    await expectStatus(readSignals(post(stream), { limit: 100, timeout: 3_000 }), 413);
    expect(Date.now() - started).toBeLessThan(2_000);
    stream.destroy();
  });

  it('answers 413 when the streamed bytes exceed the limit although content-length understates them', async () => {
    const chunks = [Buffer.from(`{"a":"${'x'.repeat(200)}"}`)];
    await expectStatus(readSignals(post(Readable.from(chunks), { ...JSON_HEADERS, 'content-length': '10' }), { limit: 100 }), 413);
  });

  it('answers 413 from content-length before reading a byte', async () => {
    const stream = new PassThrough(); // never sends anything: a read would time out instead
    const options: ReadSignalsOptions = { limit: 100, timeout: 5_000 };
    await expectStatus(readSignals(post(stream, { ...JSON_HEADERS, 'content-length': '101' }), options), 413);
    stream.destroy();
  });

  it('accepts a body of exactly the limit', async () => {
    const text = `{"a":"${'x'.repeat(20)}"}`;
    await expect(readSignals(post(streamOf(text), { ...JSON_HEADERS, 'content-length': String(text.length) }), { limit: text.length }))
      .resolves.toEqual({ a: 'x'.repeat(20) });
  });

  it('answers 408 when the stream stops sending', async () => {
    const stream = new PassThrough();
    stream.write('{"a":');
    const started = Date.now();
    await expectStatus(readSignals(post(stream), { timeout: 50 }), 408);
    expect(Date.now() - started).toBeLessThan(2_000);
    stream.destroy();
  });

  it('answers 400 when the stream fails', async () => {
    const stream = new PassThrough();
    const pending = readSignals(post(stream));
    stream.write('{"a":');
    stream.destroy(new Error('socket hang up'));
    await expectStatus(pending, 400);
  });

  it('drops prototype keys at any depth from a streamed body', async () => {
    const text = '{"a":{"b":{"__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":1}},"c":1}},"list":[{"__proto__":{"polluted":1}}]}';
    const signals = await readSignals(post(streamOf(text)));
    expect(signals).toEqual({ a: { b: { c: 1 } }, list: [{}] });
    expectNoPollution();
  });

  it('answers 413 to a streamed body nested deeper than limits.depth', async () => {
    await expectStatus(readSignals(post(streamOf('{"a":{"b":{"c":1}}}')), { limits: { depth: 2 } }), 413);
  });

  it.each([
    ['application/json; charset=utf-8'],
    ['Application/JSON'],
    ['application/vnd.api+json'],
    ['text/plain;charset=UTF-8'],
  ])('accepts content-type %p', async (type) => {
    await expect(readSignals(post(streamOf('{"a":1}'), { 'content-type': type }))).resolves.toEqual({ a: 1 });
  });

  it('accepts a body without content-type', async () => {
    await expect(readSignals(post(streamOf('{"a":1}'), {}))).resolves.toEqual({ a: 1 });
  });

  it.each([['text/html'], ['application/xml'], ['application/octet-stream'], ['image/png']])(
    'answers 415 to content-type %p',
    async (type) => {
      await expectStatus(readSignals(post(streamOf('{"a":1}'), { 'content-type': type })), 415);
    },
  );

  it('answers 415 to an unparsed multipart body', async () => {
    await expectStatus(readSignals(post(streamOf('--b\r\n\r\n--b--'), { 'content-type': 'multipart/form-data; boundary=b' })), 415);
  });

  it('returns urlencoded form fields from the stream, without prototype keys', async () => {
    const stream = streamOf('name=Ada+Lovelace&n=1&__proto__=x&constructor=y&prototype=z&e=%E2%82%AC');
    const signals = await readSignals(post(stream, { 'content-type': 'application/x-www-form-urlencoded' }));
    expect(signals).toEqual({ name: 'Ada Lovelace', n: '1', e: '€' });
    expect(Object.keys(signals)).toEqual(['name', 'n', 'e']);
  });

  it('reads a real IncomingMessage whose body arrived but was not read yet', async () => {
    let result: Promise<unknown> | undefined;
    const server = http.createServer((req, res) => {
      // Give the whole body time to arrive, as Nest's async pipeline does before a handler runs.
      setTimeout(() => {
        result = readSignals({ method: req.method!, url: req.url, headers: req.headers, stream: req }, { timeout: 2_000 });
        result.then(() => res.end('ok'), () => res.end('error'));
      }, 30);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      await new Promise<void>((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/ds', headers: JSON_HEADERS }, (res) => {
          res.resume();
          res.on('end', resolve);
        });
        req.on('error', reject);
        req.end('{"count":5}');
      });
      await expect(result).resolves.toEqual({ count: 5 });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('parseSignals and SignalsError', () => {
  it('parses an object within limits', () => {
    expect(parseSignals('{"a":{"b":1}}', 100, { depth: 2 })).toEqual({ a: { b: 1 } });
  });

  it('throws 400, 413 with the right status', () => {
    expect(() => parseSignals('{"a":{"b":1}}', 100, { depth: 1 })).toThrow(expect.objectContaining({ status: 413 }));
    expect(() => parseSignals('{"a":1}', 3)).toThrow(expect.objectContaining({ status: 413 }));
    expect(() => parseSignals('[]')).toThrow(expect.objectContaining({ status: 400 }));
  });

  it('is an Error with a name and a status', () => {
    const error = new SignalsError(415, 'nope');
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('SignalsError');
    expect(error.status).toBe(415);
    expect(error.message).toBe('nope');
  });
});

describe('readSignals: limits on keys, depth and string length, for every body kind', () => {
  const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
  const TEXT = { 'content-type': 'text/plain' };
  const manyKeys = (n: number) => JSON.stringify(Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, 1])));
  const sources: Array<[string, (text: string) => SignalsSource]> = [
    ['query', (text) => getRaw(text)],
    ['JSON string body', (text) => ({ method: 'POST', headers: JSON_HEADERS, body: text })],
    ['parsed JSON body', (text) => ({ method: 'POST', headers: JSON_HEADERS, body: JSON.parse(text) })],
    ['text/plain stream', (text) => post(streamOf(text), TEXT)],
  ];

  it.each(sources)('%s: counts object keys and array items at every depth (413 past limits.keys)', async (_kind, source) => {
    await expect(readSignals(source('{"a":{"b":1,"c":[1,2]}}'), { limits: { keys: 5 } })).resolves.toEqual({ a: { b: 1, c: [1, 2] } });
    await expectStatus(readSignals(source('{"a":{"b":1,"c":[1,2,3]}}'), { limits: { keys: 5 } }), 413);
    await expect(readSignals(source(manyKeys(10_001)))).rejects.toThrow(/more than 10000 keys.*signalsLimits\.keys/);
    await expect(readSignals(source(manyKeys(9_999)))).resolves.toBeDefined();
  });

  it.each(sources)('%s: bounds the length of strings and keys (413 past limits.stringLength)', async (_kind, source) => {
    await expect(readSignals(source('{"abc":"xyz"}'), { limits: { stringLength: 3 } })).resolves.toEqual({ abc: 'xyz' });
    await expectStatus(readSignals(source('{"abc":["wxyz"]}'), { limits: { stringLength: 3 } }), 413);
    await expectStatus(readSignals(source('{"abcd":1}'), { limits: { stringLength: 3 } }), 413);
    await expect(readSignals(source(`{"a":"${'x'.repeat(256 * 1024 + 1)}"}`), { limit: 1e6 })).rejects.toThrow(/signalsLimits\.stringLength/);
  });

  it('applies the limits to form fields, parsed or not', async () => {
    await expectStatus(readSignals({ method: 'POST', headers: FORM, body: 'a=1&b=2&c=3' }, { limits: { keys: 2 } }), 413);
    await expectStatus(readSignals(post(streamOf('a=1&b=2&c=3'), FORM), { limits: { keys: 2 } }), 413);
    await expectStatus(readSignals({ method: 'POST', headers: FORM, body: { a: { b: { c: '1' } } } }, { limits: { depth: 2 } }), 413);
    await expectStatus(readSignals({ method: 'POST', headers: FORM, body: { a: 'xxxx' } }, { limits: { stringLength: 3 } }), 413);
  });

  it('drops prototype keys at every depth of a form a parser nested (qs: a[constructor][prototype][p2]=1)', async () => {
    const body = { a: { constructor: { prototype: { p2: '1' } }, ok: '1' }, b: [{ prototype: 'x', y: '2' }] };
    const signals = await readSignals({ method: 'POST', headers: FORM, body });
    expect(signals).toEqual({ a: { ok: '1' }, b: [{ y: '2' }] });
    expect(Object.keys(signals.a as object)).toEqual(['ok']);
  });

  it('answers 400 when the bytes a parser kept (rawBody) are not UTF-8, although its text has U+FFFD instead', async () => {
    const rawBody = Buffer.concat([Buffer.from('{"a":"'), Buffer.from([0xff, 0xc3]), Buffer.from('"}')]);
    await expectStatus(readSignals({ method: 'POST', headers: JSON_HEADERS, body: { a: '\ufffd\ufffd' }, rawBody }), 400);
    await expect(readSignals({ method: 'POST', headers: JSON_HEADERS, body: { a: '\ufffd' }, rawBody: Buffer.from('{"a":"\ufffd"}') }))
      .resolves.toEqual({ a: '\ufffd' });
  });
});

describe('limits given with every call', () => {
  it('a frozen object (the module settings) is resolved once; a caller object that changes is read each time', () => {
    const frozen = Object.freeze({ keys: 2 });
    expect(parseSignals('{"a":1,"b":2}', undefined, frozen)).toEqual({ a: 1, b: 2 });
    expect(() => parseSignals('{"a":1,"b":2,"c":3}', undefined, frozen)).toThrow(SignalsError);
    const mutable = { keys: 1 };
    expect(() => parseSignals('{"a":1,"b":2}', undefined, mutable)).toThrow(SignalsError);
    mutable.keys = 5;
    expect(parseSignals('{"a":1,"b":2}', undefined, mutable)).toEqual({ a: 1, b: 2 });
    expect(() => parseSignals('{"a":1,"b":2,"c":3}', undefined, Object.freeze({ keys: 2 }))).toThrow(SignalsError);
  });
});
