/** Signed live tokens: which session may drive which view path, until when. */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { INVALID_TOKEN_TTL, TOKEN_SECRET_EMPTY } from './live.messages';

/** What a live token proves: this session may drive the view mounted at this path, until `exp`. */
export interface LiveTokenPayload {
  /** Session id (random, 128 bits). */
  sid: string;
  /** The concrete path the view was mounted at, e.g. `/live/users/42`. */
  path: string;
  /** Expiry, epoch ms. */
  exp: number;
}

export type LiveTokenFailure = 'missing' | 'malformed' | 'signature' | 'expired' | 'session' | 'path';

export type LiveTokenResult =
  | { ok: true; payload: LiveTokenPayload }
  | { ok: false; reason: LiveTokenFailure };

const VERSION = 'v1';
const MAX_TOKEN_LENGTH = 4096;
const B64URL = /^[A-Za-z0-9_-]+$/;
/** Domain separation: a secret shared with other HMAC uses cannot mint live tokens. */
const CONTEXT = 'nestjs-datastar live token\n';

/**
 * Signs and checks live tokens: `v1.<payload>.<HMAC-SHA256>` (base64url), compared in constant
 * time. Stateless: the server keeps no token list; binding to the session and path is checked
 * by `verify()` when the caller says what to expect.
 * @example const tokens = new LiveTokens(secret, 3_600_000); tokens.verify(tokens.sign('sid', '/live/a'), { path: '/live/a' })
 */
export class LiveTokens {
  private readonly key: Buffer;

  constructor(
    secret: string | Buffer,
    readonly ttlMs: number,
  ) {
    this.key = Buffer.isBuffer(secret) ? secret : Buffer.from(secret, 'utf8');
    if (this.key.length === 0) throw new TypeError(TOKEN_SECRET_EMPTY);
    if (!Number.isFinite(ttlMs) || ttlMs <= 0) throw new TypeError(INVALID_TOKEN_TTL(ttlMs));
  }

  /** A token for session `sid` on the view mounted at `path`, valid for `ttlMs` from `now`. */
  sign(sid: string, path: string, now = Date.now()): string {
    const payload: LiveTokenPayload = { sid, path, exp: now + this.ttlMs };
    const body = `${VERSION}.${Buffer.from(JSON.stringify(payload), 'utf8').toString('base64url')}`;
    return `${body}.${this.mac(body).toString('base64url')}`;
  }

  /** Checks signature, expiry and, when given, the session id and path the token must be bound to. */
  verify(token: unknown, expect: { sid?: string; path?: string } = {}, now = Date.now()): LiveTokenResult {
    if (typeof token !== 'string' || token === '') return { ok: false, reason: 'missing' };
    if (token.length > MAX_TOKEN_LENGTH) return { ok: false, reason: 'malformed' };
    const parts = token.split('.');
    if (parts.length !== 3 || parts[0] !== VERSION || !B64URL.test(parts[1]) || !B64URL.test(parts[2])) {
      return { ok: false, reason: 'malformed' };
    }
    const given = Buffer.from(parts[2], 'base64url');
    const expected = this.mac(`${parts[0]}.${parts[1]}`);
    // timingSafeEqual needs equal lengths; the length of a MAC is no secret.
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'signature' };
    let payload: LiveTokenPayload;
    try {
      payload = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
    } catch {
      return { ok: false, reason: 'malformed' };
    }
    if (!payload || typeof payload.sid !== 'string' || typeof payload.path !== 'string' || typeof payload.exp !== 'number') {
      return { ok: false, reason: 'malformed' };
    }
    if (now >= payload.exp) return { ok: false, reason: 'expired' };
    if (expect.sid !== undefined && payload.sid !== expect.sid) return { ok: false, reason: 'session' };
    if (expect.path !== undefined && payload.path !== expect.path) return { ok: false, reason: 'path' };
    return { ok: true, payload };
  }

  private mac(body: string): Buffer {
    return createHmac('sha256', this.key).update(CONTEXT).update(body).digest();
  }
}
