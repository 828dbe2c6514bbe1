import { Logger } from '@nestjs/common';
import { MemoryTabClaims, validTabId } from './tab-claims';

const scopesOf = (claims: MemoryTabClaims) =>
  (claims as unknown as { scopes: Map<string, Map<string, unknown>> }).scopes;

describe('validTabId', () => {
  it.each(['a', 'tab-1', 'Tab_2', 'x'.repeat(64), 'AZaz09_-'])('accepts %j', (id) => {
    expect(validTabId(id)).toBe(id);
  });

  it.each([
    '', 'x'.repeat(65), 'tab 1', 'tab/1', 'tab:1', 'tab.1', 'tåb', 'tab\n', '<script>',
    undefined, null, 42, {}, ['tab'],
  ])('refuses %j', (id) => {
    expect(validTabId(id)).toBeUndefined();
  });
});

describe('MemoryTabClaims', () => {
  let claims: MemoryTabClaims;
  beforeEach(() => (claims = new MemoryTabClaims()));
  afterEach(() => claims.close());

  it('takes over the previous holder synchronously, exactly once', () => {
    const first = jest.fn();
    const a = claims.claim('chat', 'tab-1', first);
    const b = claims.claim('chat', 'tab-1', jest.fn());
    expect(first).toHaveBeenCalledTimes(1);
    expect(a.live).toBe(false);
    expect(b.live).toBe(true);
    expect(claims.count('chat')).toBe(1);
    a.release();
    claims.claim('other', 'tab-1', jest.fn());
    expect(first).toHaveBeenCalledTimes(1);
  });

  it('passes the claim down a chain: each holder is told once, only the newest lives', () => {
    const callbacks = [jest.fn(), jest.fn(), jest.fn()];
    const held = callbacks.map((cb) => claims.claim('chat', 'tab-1', cb));
    expect(callbacks.map((cb) => cb.mock.calls.length)).toEqual([1, 1, 0]);
    expect(held.map((c) => c.live)).toEqual([false, false, true]);
    expect(claims.count()).toBe(1);
  });

  it('release leaves no map entry and never calls onTakeover', () => {
    const onTakeover = jest.fn();
    const claim = claims.claim('chat', 'tab-1', onTakeover);
    claim.release();
    claim.release();
    expect(onTakeover).not.toHaveBeenCalled();
    expect(claim.live).toBe(false);
    expect(claims.count()).toBe(0);
    expect(claims.count('chat')).toBe(0);
    expect(scopesOf(claims).size).toBe(0);
  });

  it('a taken-over claim releasing late does not remove the new holder', () => {
    const old = claims.claim('chat', 'tab-1', jest.fn());
    const current = claims.claim('chat', 'tab-1', jest.fn());
    old.release();
    expect(current.live).toBe(true);
    expect(claims.count('chat')).toBe(1);
    const next = jest.fn();
    claims.claim('chat', 'tab-1', next);
    expect(current.live).toBe(false);
  });

  it('lets onTakeover release its own claim (the usual stream cleanup)', () => {
    const old = claims.claim('chat', 'tab-1', () => old.release());
    claims.claim('chat', 'tab-1', jest.fn());
    expect(claims.count('chat')).toBe(1);
  });

  it('keeps scopes and tabs apart and counts per scope', () => {
    const onTakeover = jest.fn();
    claims.claim('chat', 'tab-1', onTakeover);
    claims.claim('chat', 'tab-2', onTakeover);
    claims.claim('feed', 'tab-1', onTakeover);
    expect(onTakeover).not.toHaveBeenCalled();
    expect(claims.count('chat')).toBe(2);
    expect(claims.count('feed')).toBe(1);
    expect(claims.count('none')).toBe(0);
    expect(claims.count()).toBe(3);
  });

  it('keeps owners apart: only a claim of the same owner takes a tab over', () => {
    const victim = jest.fn();
    claims.claim('chat', 'tab-1', victim, 'browser-a');
    claims.claim('chat', 'tab-1', jest.fn(), 'browser-b');
    claims.claim('chat', 'tab-1', jest.fn());
    expect(victim).not.toHaveBeenCalled();
    expect(claims.count('chat')).toBe(3);
    claims.claim('chat', 'tab-1', jest.fn(), 'browser-a');
    expect(victim).toHaveBeenCalledTimes(1);
    expect(claims.count('chat')).toBe(3);
    expect(() => claims.claim('chat', 'tab-1', jest.fn(), 'bad\nowner')).toThrow(/Invalid claim owner/);
  });

  it('keeps the new claim when the old holder throws, and logs it', () => {
    const error = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    try {
      claims.claim('chat', 'tab-1', () => {
        throw new Error('cleanup failed');
      });
      const current = claims.claim('chat', 'tab-1', jest.fn());
      expect(current.live).toBe(true);
      expect(error).toHaveBeenCalledWith(expect.stringContaining('cleanup failed'), expect.anything());
    } finally {
      error.mockRestore();
    }
  });

  it('leaves exactly one live holder after a burst of concurrent claims', async () => {
    const calls = new Array(200).fill(0);
    const held = await Promise.all(
      calls.map(async (_, i) => {
        await Promise.resolve();
        return claims.claim('chat', 'tab-1', () => calls[i]++);
      }),
    );
    expect(held.filter((c) => c.live)).toHaveLength(1);
    expect(calls.filter((n) => n === 1)).toHaveLength(199);
    expect(calls.every((n) => n <= 1)).toBe(true);
    expect(claims.count()).toBe(1);
  });

  it.each([
    ['', /Invalid claim scope/],
    ['x'.repeat(257), /Invalid claim scope/],
    ['chat\r', /Invalid claim scope/],
  ])('refuses the scope %j', (scope, message) => {
    expect(() => claims.claim(scope, 'tab-1', jest.fn())).toThrow(message);
  });

  it('refuses an invalid tab id and tells to use validTabId', () => {
    expect(() => claims.claim('chat', 'bad id', jest.fn())).toThrow(/validTabId\(\)/);
    expect(() => claims.claim('chat', 'tab', undefined as never)).toThrow(/onTakeover/);
    expect(claims.count()).toBe(0);
  });

  it('forgets every claim on close without calling onTakeover', async () => {
    const onTakeover = jest.fn();
    const claim = claims.claim('chat', 'tab-1', onTakeover);
    await claims.onApplicationShutdown();
    expect(claim.live).toBe(false);
    expect(claims.count()).toBe(0);
    expect(scopesOf(claims).size).toBe(0);
    expect(onTakeover).not.toHaveBeenCalled();
  });
});
