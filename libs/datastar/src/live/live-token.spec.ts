import { LiveTokens } from './live-token';

const SECRET = 'k'.repeat(40);
const NOW = 1_700_000_000_000;

/** Re-encodes a token's payload with changes, keeping its signature. */
function withPayload(token: string, change: (p: any) => void): string {
  const [v, body, sig] = token.split('.');
  const payload = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
  change(payload);
  return [v, Buffer.from(JSON.stringify(payload)).toString('base64url'), sig].join('.');
}

describe('LiveTokens', () => {
  const tokens = new LiveTokens(SECRET, 60_000);

  it('round-trips session id, path and expiry', () => {
    const result = tokens.verify(tokens.sign('sid-1', '/live/a', NOW), {}, NOW + 1);
    expect(result).toEqual({ ok: true, payload: { sid: 'sid-1', path: '/live/a', exp: NOW + 60_000 } });
  });

  it('is bound to the session and the path it was signed for', () => {
    const token = tokens.sign('sid-1', '/live/a', NOW);
    expect(tokens.verify(token, { sid: 'sid-1', path: '/live/a' }, NOW).ok).toBe(true);
    expect(tokens.verify(token, { sid: 'sid-2' }, NOW)).toEqual({ ok: false, reason: 'session' });
    expect(tokens.verify(token, { path: '/live/b' }, NOW)).toEqual({ ok: false, reason: 'path' });
    expect(tokens.verify(token, { path: '/live/a/' }, NOW)).toEqual({ ok: false, reason: 'path' });
  });

  it('expires after ttlMs (and not a millisecond before)', () => {
    const token = tokens.sign('s', '/p', NOW);
    expect(tokens.verify(token, {}, NOW + 59_999).ok).toBe(true);
    expect(tokens.verify(token, {}, NOW + 60_000)).toEqual({ ok: false, reason: 'expired' });
  });

  it('refuses a payload changed under a kept signature (other session, other path, later expiry)', () => {
    const token = tokens.sign('sid-1', '/live/a', NOW);
    for (const change of [(p: any) => (p.sid = 'sid-2'), (p: any) => (p.path = '/live/admin'), (p: any) => (p.exp += 3_600_000)]) {
      expect(tokens.verify(withPayload(token, change), {}, NOW)).toEqual({ ok: false, reason: 'signature' });
    }
  });

  it('refuses every single-character change of the signature', () => {
    const token = tokens.sign('sid-1', '/live/a', NOW);
    const cut = token.lastIndexOf('.') + 1;
    for (let i = cut; i < token.length; i++) {
      const other = token[i] === 'A' ? 'B' : 'A';
      const forged = token.slice(0, i) + other + token.slice(i + 1);
      const result = tokens.verify(forged, {}, NOW);
      expect(result.ok).toBe(false);
    }
  });

  it('refuses a token signed with another secret', () => {
    const other = new LiveTokens('o'.repeat(40), 60_000);
    expect(tokens.verify(other.sign('sid-1', '/live/a', NOW), {}, NOW)).toEqual({ ok: false, reason: 'signature' });
  });

  it.each([
    [undefined, 'missing'], ['', 'missing'], [42, 'missing'], ['abc', 'malformed'], ['v1.a.b.c', 'malformed'],
    ['v2.eyJ9.abc', 'malformed'], ['v1.e$J9.abc', 'malformed'], ['v1..abc', 'malformed'], ['x'.repeat(5000), 'malformed'],
    ['v1.eyJ9.' + 'A'.repeat(43), 'signature'],
  ])('refuses %j as %s', (token, reason) => {
    expect(tokens.verify(token, {}, NOW)).toEqual({ ok: false, reason });
  });

  it('refuses a correctly signed payload that is not a token payload', () => {
    // Sign a payload with the wrong shape through the public API: a path that is not a string.
    const forged = withPayload(tokens.sign('s', '/p', NOW), (p) => (p.path = 1));
    expect(tokens.verify(forged, {}, NOW).ok).toBe(false);
  });

  it('needs a secret and a positive lifetime', () => {
    expect(() => new LiveTokens('', 1000)).toThrow(/non-empty secret/);
    expect(() => new LiveTokens(SECRET, 0)).toThrow(/tokenTtlMs/);
  });
});
