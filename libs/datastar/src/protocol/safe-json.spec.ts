import { htmlSafeJson, isUnsafeKey, parseJsonSafely } from './safe-json';

afterEach(() => {
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
});

describe('isUnsafeKey', () => {
  it('flags __proto__, constructor and prototype only', () => {
    expect(isUnsafeKey('__proto__')).toBe(true);
    expect(isUnsafeKey('constructor')).toBe(true);
    expect(isUnsafeKey('prototype')).toBe(true);
    expect(isUnsafeKey('proto')).toBe(false);
    expect(isUnsafeKey('Constructor')).toBe(false);
    expect(isUnsafeKey('toString')).toBe(false);
    expect(isUnsafeKey('')).toBe(false);
  });
});

describe('parseJsonSafely', () => {
  it('parses ordinary JSON like JSON.parse', () => {
    expect(parseJsonSafely('{"a":[1,{"b":null}],"c":"x"}')).toEqual({ a: [1, { b: null }], c: 'x' });
    expect(parseJsonSafely('[1,2]')).toEqual([1, 2]);
    expect(parseJsonSafely('"s"')).toBe('s');
    expect(parseJsonSafely('null')).toBeNull();
  });

  it('keeps harmless keys that merely contain the words', () => {
    expect(parseJsonSafely('{"protocol":"https","myconstructor":1,"proto":2}')).toEqual({ protocol: 'https', myconstructor: 1, proto: 2 });
  });

  it('throws SyntaxError on malformed JSON', () => {
    expect(() => parseJsonSafely('{"a":')).toThrow(SyntaxError);
    expect(() => parseJsonSafely('{"__proto__":')).toThrow(SyntaxError);
  });

  it('drops __proto__, constructor and prototype at every depth, including inside arrays', () => {
    const value = parseJsonSafely(
      '{"__proto__":{"polluted":1},"a":{"constructor":{"prototype":{"polluted":1}},"b":[{"__proto__":{"polluted":1},"c":1}]},"prototype":0}',
    ) as Record<string, unknown>;
    expect(value).toEqual({ a: { b: [{ c: 1 }] } });
    expect(Object.prototype.hasOwnProperty.call(value, '__proto__')).toBe(false);
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(Object.keys(value)).toEqual(['a']);
  });

  it.each([
    ['\\u005f_proto__'],
    ['__prot\\u006f__'],
    ['\\u005F\\u005F\\u0070\\u0072\\u006F\\u0074\\u006F\\u005F\\u005F'],
    ['constructo\\u0072'],
    ['\\u0063onstructor'],
    ['prot\\u006ftype'],
  ])('drops the key "%s" spelled with JSON escapes', (key) => {
    const value = parseJsonSafely(`{"${key}":{"polluted":1},"x":{"${key}":2}}`) as Record<string, unknown>;
    expect(value).toEqual({ x: {} });
    expect(Object.keys(value)).toEqual(['x']);
    expect(Object.keys(value.x as object)).toEqual([]);
  });
});

describe('htmlSafeJson', () => {
  it('escapes <, >, &, \' and the JS line separators, and still parses back', () => {
    const value = { s: '</script><!-- & \' " \u2028\u2029' };
    const text = htmlSafeJson(value);
    expect(text).toBe('{"s":"\\u003c/script\\u003e\\u003c!-- \\u0026 \\u0027 \\" \\u2028\\u2029"}');
    expect(text).not.toMatch(/[<>&'\u2028\u2029]/);
    expect(JSON.parse(text)).toEqual(value);
  });

  it('writes numbers, booleans, null and arrays as JSON', () => {
    expect(htmlSafeJson([1, true, null, 'x'])).toBe('[1,true,null,"x"]');
  });

  it('writes values JSON cannot represent as null', () => {
    expect(htmlSafeJson(undefined)).toBe('null');
    expect(htmlSafeJson(() => 1)).toBe('null');
  });
});
