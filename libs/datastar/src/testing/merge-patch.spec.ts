import { composePatch, filterSignals, mergePatch } from './merge-patch';

describe('mergePatch', () => {
  // The test vectors of RFC 7386, appendix A, for object targets and patches.
  it.each([
    [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
    [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
    [{ a: 'b' }, { a: null }, {}],
    [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
    [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
    [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
    [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
    [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
    [{ e: null }, { a: 1 }, { e: null, a: 1 }],
    [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
  ])('RFC 7386: %j + %j = %j', (target, patch, expected) => {
    const t = structuredClone(target) as Record<string, unknown>;
    mergePatch(t, patch as Record<string, unknown>);
    expect(t).toEqual(expected);
  });

  it('with onlyIfMissing keeps existing values and deletes nothing', () => {
    const t: Record<string, unknown> = { a: 1, user: { name: 'Ada' } };
    mergePatch(t, { a: 2, b: 3, user: { name: 'Bo', email: 'e' }, c: null }, true);
    expect(t).toEqual({ a: 1, b: 3, user: { name: 'Ada', email: 'e' } });
  });

  it('copies values instead of sharing them', () => {
    const patch = { list: [1, 2] };
    const t: Record<string, unknown> = {};
    mergePatch(t, patch);
    (t.list as number[]).push(3);
    expect(patch.list).toEqual([1, 2]);
  });

  it('ignores __proto__ keys', () => {
    const t: Record<string, unknown> = {};
    mergePatch(t, JSON.parse('{"__proto__":{"polluted":1}}'));
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(t).toEqual({});
  });
});

describe('composePatch', () => {
  it('folds patches into one, keeping nulls', () => {
    const combined: Record<string, unknown> = {};
    composePatch(combined, { a: 1, user: { name: 'Ada', email: 'x' } });
    composePatch(combined, { user: { email: null }, b: 2 });
    expect(combined).toEqual({ a: 1, b: 2, user: { name: 'Ada', email: null } });
  });
});

describe('filterSignals', () => {
  const signals = { count: 1, _local: 2, user: { name: 'Ada', _token: 't' }, list: [{ _x: 1 }] };

  it('leaves out paths with a segment starting with _, like the client', () => {
    expect(filterSignals(signals)).toEqual({ count: 1, user: { name: 'Ada' }, list: [{ _x: 1 }] });
  });

  it('honours include and exclude, as RegExp or string', () => {
    expect(filterSignals(signals, /^user\./)).toEqual({ user: { name: 'Ada' } });
    expect(filterSignals(signals, '/^(count|_local)$/', 'nothing')).toEqual({ count: 1, _local: 2 });
  });
});
