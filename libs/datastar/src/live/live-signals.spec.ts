import { mergePatch } from '../testing/merge-patch';
import { jsonClone, signalsDiff } from './live-signals';

describe('signalsDiff', () => {
  it('leaves out what the browser already has', () => {
    expect(signalsDiff({ a: 1, b: 'x', c: [1, 2], d: { e: 1 } }, { a: 1, b: 'x', c: [1, 2], d: { e: 1 } })).toEqual({});
  });

  it('sends changed keys only, nested objects key by key', () => {
    expect(signalsDiff({ a: 1, b: { c: 1, d: 2 } }, { a: 2, b: { c: 1, d: 3 } })).toEqual({ a: 2, b: { d: 3 } });
  });

  it('removes keys the state no longer has with null, at any depth', () => {
    expect(signalsDiff({ a: 1, b: { c: 1, d: 2 } }, { b: { c: 1 } })).toEqual({ a: null, b: { d: null } });
  });

  it('replaces arrays and changed types whole', () => {
    expect(signalsDiff({ a: [1, 2], b: { x: 1 }, c: 1 }, { a: [1, 3], b: 5, c: { y: 1 } })).toEqual({ a: [1, 3], b: 5, c: { y: 1 } });
  });

  it('never emits prototype keys', () => {
    const next = JSON.parse('{"__proto__":{"polluted":1},"a":1}');
    expect(signalsDiff({}, next)).toEqual({ a: 1 });
  });

  it('turns the old state into the new one when applied as a merge patch', () => {
    const cases: Array<[Record<string, unknown>, Record<string, unknown>]> = [
      [{ a: 1, b: { c: 1, d: [1] } }, { b: { c: 2, d: [] }, e: 'x' }],
      [{}, { a: { b: { c: 1 } } }],
      [{ a: { b: { c: 1 } } }, {}],
    ];
    for (const [before, after] of cases) {
      const state = jsonClone(before);
      mergePatch(state, signalsDiff(before, after)); // what the client (and the testing kit) applies
      expect(state).toEqual(after);
    }
  });
});

describe('jsonClone', () => {
  const viaJson = (value: unknown) => JSON.parse(JSON.stringify(value));

  it('gives what a JSON round trip gives, flat signals or not', () => {
    class Point {
      x = 1;
    }
    const cases: unknown[] = [
      { a: 1, b: 'x', c: true, d: null, '2': 2, _lv: 'token' },
      { a: -0, b: NaN, c: Infinity },
      { a: undefined, b: 1 },
      { a: { b: [1, { c: 2 }] }, d: new Date(0) },
      { toJSON: () => ({ replaced: true }) },
      JSON.parse('{"__proto__":1,"a":2}'),
      Object.assign(Object.create(null), { a: 1 }),
      new Point(),
      [1, 'x', null],
      'text',
      7,
      null,
    ];
    for (const value of cases) {
      const copy = jsonClone(value);
      expect(copy).toStrictEqual(viaJson(value));
      expect(JSON.stringify(copy)).toBe(JSON.stringify(value));
    }
    expect(jsonClone(undefined)).toBeUndefined();
  });

  it('is a copy: later changes to the original do not reach it', () => {
    const signals: Record<string, unknown> = { a: 1 };
    const copy = jsonClone(signals);
    signals.a = 2;
    expect(copy).toEqual({ a: 1 });
  });
});
