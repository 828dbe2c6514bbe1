import { encodeEvent } from './encoder';
import { flatJson, nullPatch, patchSignals, patchSignalsRaw, removeSignals } from './signals';

const EV = 'event: datastar-patch-signals\n';

function expectSafeEvent(sse: string): string[] {
  expect(sse).not.toMatch(/\r/);
  expect(sse.endsWith('\n\n')).toBe(true);
  const lines = sse.slice(0, -2).split('\n');
  expect(lines[0]).toBe('event: datastar-patch-signals');
  let i = 1;
  if (lines[i]?.startsWith('id: ')) i++;
  if (lines[i]?.startsWith('retry: ')) i++;
  for (const line of lines.slice(i)) expect(line.startsWith('data: ')).toBe(true);
  return lines;
}

describe('patchSignals: exact bytes', () => {
  it('writes the object as compact JSON', () => {
    expect(encodeEvent(patchSignals({ count: 1 }))).toBe(`${EV}data: signals {"count":1}\n\n`);
  });

  it('writes nested objects, arrays, null and strings', () => {
    expect(encodeEvent(patchSignals({ user: { name: 'Ada', tags: ['a', 'b'] }, gone: null, n: 1.5, ok: false }))).toBe(
      `${EV}data: signals {"user":{"name":"Ada","tags":["a","b"]},"gone":null,"n":1.5,"ok":false}\n\n`,
    );
  });

  it('writes onlyIfMissing true and omits false', () => {
    expect(encodeEvent(patchSignals({ a: 1 }, { onlyIfMissing: true }))).toBe(
      `${EV}data: onlyIfMissing true\ndata: signals {"a":1}\n\n`,
    );
    expect(encodeEvent(patchSignals({ a: 1 }, { onlyIfMissing: false }))).toBe(`${EV}data: signals {"a":1}\n\n`);
  });

  it('writes eventId and a non-default retryDuration, omits retryDuration 1000', () => {
    expect(encodeEvent(patchSignals({ a: 1 }, { eventId: 'ev-7', retryDuration: 250, onlyIfMissing: true }))).toBe(
      `${EV}id: ev-7\nretry: 250\ndata: onlyIfMissing true\ndata: signals {"a":1}\n\n`,
    );
    expect(encodeEvent(patchSignals({ a: 1 }, { retryDuration: 1000 }))).toBe(`${EV}data: signals {"a":1}\n\n`);
  });

  it('writes an empty object', () => {
    expect(encodeEvent(patchSignals({}))).toBe(`${EV}data: signals {}\n\n`);
  });

  it('keeps CR, LF and CRLF inside string values escaped on one data line', () => {
    const sse = encodeEvent(patchSignals({ msg: 'a\nb\rc\r\nd', 'k\ney': 'event: evil' }));
    expectSafeEvent(sse);
    expect(sse).toBe(`${EV}data: signals {"msg":"a\\nb\\rc\\r\\nd","k\\ney":"event: evil"}\n\n`);
    const json = sse.split('\n')[1].slice('data: signals '.length);
    expect(JSON.parse(json)).toEqual({ msg: 'a\nb\rc\r\nd', 'k\ney': 'event: evil' });
  });

  it('strips line breaks from eventId', () => {
    const sse = encodeEvent(patchSignals({ a: 1 }, { eventId: 'x\r\nevent: evil\r' }));
    expectSafeEvent(sse);
    expect(sse).toBe(`${EV}id: xevent: evil\ndata: signals {"a":1}\n\n`);
  });

  it.each([[null], [[1, 2]], ['{"a":1}'], [5]])('refuses a non-object %p', (value) => {
    expect(() => patchSignals(value as unknown as Record<string, unknown>)).toThrow(TypeError);
  });
});

describe('patchSignalsRaw', () => {
  it('writes the JSON text as given', () => {
    expect(encodeEvent(patchSignalsRaw('{"count":1}'))).toBe(`${EV}data: signals {"count":1}\n\n`);
    expect(encodeEvent(patchSignalsRaw('{ "a" : [1, 2] }'))).toBe(`${EV}data: signals { "a" : [1, 2] }\n\n`);
  });

  it('writes onlyIfMissing, eventId and retryDuration', () => {
    expect(encodeEvent(patchSignalsRaw('{"a":1}', { onlyIfMissing: true, eventId: '3', retryDuration: 2000 }))).toBe(
      `${EV}id: 3\nretry: 2000\ndata: onlyIfMissing true\ndata: signals {"a":1}\n\n`,
    );
  });

  it('splits multi-line JSON (CR, LF, CRLF) into signals lines only', () => {
    const sse = encodeEvent(patchSignalsRaw('{\r\n  "a": 1,\r  "b": 2\n}'));
    expectSafeEvent(sse);
    expect(sse).toBe(`${EV}data: signals {\ndata: signals   "a": 1,\ndata: signals   "b": 2\ndata: signals }\n\n`);
  });

  it.each([
    ['JavaScript', 'alert(1)'],
    ['a JS object literal', '{a:1}'],
    ['single quotes', "{'a':1}"],
    ['trailing garbage', '{"a":1};alert(1)'],
    ['an empty string', ''],
    ['a raw line break in a string', '{"a":"x\ny"}'],
  ])('refuses non-JSON: %s', (_name, text) => {
    expect(() => patchSignalsRaw(text)).toThrow(TypeError);
  });

  it.each([['[1,2]'], ['1'], ['"x"'], ['null'], ['true']])('refuses non-object JSON %s', (text) => {
    expect(() => patchSignalsRaw(text)).toThrow(TypeError);
  });
});

describe('removeSignals', () => {
  it('removes one signal with a null patch', () => {
    expect(encodeEvent(removeSignals('count'))).toBe(`${EV}data: signals {"count":null}\n\n`);
  });

  it('merges dot paths into one nested null patch', () => {
    expect(encodeEvent(removeSignals(['user.email', 'user.name']))).toBe(
      `${EV}data: signals {"user":{"email":null,"name":null}}\n\n`,
    );
  });

  it('merges deep and sibling paths', () => {
    expect(encodeEvent(removeSignals(['a.b.c', 'a.b.d', 'a.e', 'f']))).toBe(
      `${EV}data: signals {"a":{"b":{"c":null,"d":null},"e":null},"f":null}\n\n`,
    );
  });

  it('lets a shorter path win over its children, in either order', () => {
    expect(nullPatch(['user', 'user.email'])).toEqual({ user: null });
    expect(nullPatch(['user.email', 'user'])).toEqual({ user: null });
    expect(nullPatch(['a.b', 'a.b.c.d'])).toEqual({ a: { b: null } });
  });

  it('takes eventId and retryDuration', () => {
    expect(encodeEvent(removeSignals(['x'], { eventId: 'r', retryDuration: 99 }))).toBe(
      `${EV}id: r\nretry: 99\ndata: signals {"x":null}\n\n`,
    );
  });

  it.each([[''], ['a..b'], ['.a'], ['a.'], ['__proto__'], ['a.__proto__.b'], ['constructor'], ['a.prototype']])(
    'refuses the invalid path %p',
    (path) => {
      expect(() => removeSignals([path])).toThrow(TypeError);
    },
  );

  it('treats names of Object.prototype members as ordinary signals', () => {
    const protoToString = Object.prototype.toString as unknown as Record<string, unknown>;
    expect(encodeEvent(removeSignals(['toString.x', 'hasOwnProperty.y', 'valueOf']))).toBe(
      `${EV}data: signals {"toString":{"x":null},"hasOwnProperty":{"y":null},"valueOf":null}\n\n`,
    );
    expect(Object.prototype.hasOwnProperty.call(protoToString, 'x')).toBe(false);
    expect(protoToString.x).toBeUndefined();
  });
});

describe('flatJson (patchSignals without JSON.stringify for flat objects)', () => {
  /** A small seeded generator: the same cases on every run. */
  function random(seed: number): () => number {
    let s = seed >>> 0;
    return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  }
  const next = random(20261203);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)];
  const CHARS = ['a', 'Z', '0', '_', '-', ' ', '.', '"', '\\', '\n', '\u0001', '\u2028', '\ud83d\ude00', '\ud800', 'é', '<', '/'];
  const text = () => Array.from({ length: Math.floor(next() * 6) }, () => pick(CHARS)).join('');
  const VALUES: Array<() => unknown> = [
    () => Math.floor(next() * 1000) - 500, () => next() * 1e6, () => -0, () => 1e21, () => 5e-324, () => NaN, () => Infinity,
    () => true, () => false, () => null, () => undefined, text, () => ({ a: 1 }), () => [1], () => () => 1, () => new Date(0),
  ];

  it('writes exactly what JSON.stringify writes, or leaves it to JSON.stringify (2,000 seeded objects)', () => {
    let flat = 0;
    for (let i = 0; i < 2000; i++) {
      const object: Record<string, unknown> = {};
      const keys = Math.floor(next() * 5);
      for (let k = 0; k < keys; k++) object[next() < 0.2 ? String(Math.floor(next() * 20)) : text() || 'k'] = pick(VALUES)();
      const json = flatJson(object);
      if (json !== undefined) {
        flat++;
        expect(json).toBe(JSON.stringify(object));
      }
      expect(encodeEvent(patchSignals(object))).toBe(encodeEvent(patchSignalsRaw(JSON.stringify(object))));
    }
    expect(flat).toBeGreaterThan(300); // the fast path is really taken
  });

  it('leaves objects with a prototype of their own (toJSON, getters) to JSON.stringify', () => {
    class Money {
      constructor(readonly cents: number) {}
      toJSON() {
        return `${this.cents / 100} EUR`;
      }
    }
    expect(flatJson(new Money(250) as unknown as Record<string, unknown>)).toBeUndefined();
    expect(flatJson(Object.create({ inherited: 1 }))).toBeUndefined();
    expect(flatJson(Object.assign(Object.create(null), { a: 1 }))).toBe('{"a":1}');
    expect(flatJson({})).toBe('{}');
  });
});
