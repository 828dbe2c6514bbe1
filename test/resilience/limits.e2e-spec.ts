/**
 * Issue 9, item 3: one request must not freeze the process. Signals are bounded in keys, depth and
 * string length (413 naming the option) for every body kind, and a `@Signals()` DTO gets only the
 * keys it declares, so class-transformer's quadratic key handling never sees a hostile object.
 */
import type { INestApplication } from '@nestjs/common';
import { parseSse } from 'nestjs-datastar/testing';
import { ADAPTERS, type AdapterName } from '../core/fixtures/harness';
import { limitsModule, ProfileSignals, received, startLimitsApp, ZipSignals } from './fixtures/limits.app';
import { rawRequest } from './fixtures/raw-http';

const DS = { 'datastar-request': 'true' };
/** `{"k0":1,"k1":1,...}`: about 11 bytes a key. */
const manyKeys = (n: number, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ ...extra, ...Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, 1])) });

describe.each(ADAPTERS)('signals limits (%s)', (adapter: AdapterName) => {
  let app: INestApplication;
  let base: string;
  beforeAll(async () => {
    ({ app, base } = await startLimitsApp(limitsModule(), adapter));
  });
  afterAll(() => app.close());

  describe.each(['application/json', 'text/plain'])('as %s', (type) => {
    it('a ~1 MB body with 90,000 keys to a DTO handler: 413 naming the limit, and a concurrent GET is answered in well under a second', async () => {
      const body = manyKeys(90_000, { name: 'Ada' });
      expect(Buffer.byteLength(body)).toBeGreaterThan(900_000);
      const runs = received.runs;
      const hostile = rawRequest(base, {
        method: 'POST', path: '/ds/limits/profile', headers: { ...DS, 'content-type': type }, body, timeoutMs: 30_000,
      });
      // Started while the hostile body is being read and parsed.
      await new Promise((resolve) => setTimeout(resolve, 5));
      const ping = await rawRequest(base, { method: 'GET', path: '/ping', timeoutMs: 30_000 });
      const refused = await hostile;
      expect(refused.status).toBe(413);
      expect(refused.text).toMatch(/more than 10000 keys.*signalsLimits\.keys/);
      expect(refused.headers['content-type']).not.toContain('text/event-stream');
      expect(ping.status).toBe(200);
      expect(ping.ms).toBeLessThan(1000);
      expect(refused.ms).toBeLessThan(1000);
      expect(received.runs).toBe(runs);
    });

    it('just under the key limit, mostly undeclared: answered fast, and the DTO holds only its declared keys', async () => {
      const meta = Object.fromEntries(Array.from({ length: 3000 }, (_, i) => [`m${i}`, i]));
      const body = manyKeys(6_900, { name: 'Ada', address: { zip: '12345', street: 'undeclared', extra: { a: 1 } }, meta });
      const res = await rawRequest(base, {
        method: 'POST', path: '/ds/limits/profile', headers: { ...DS, 'content-type': type }, body, timeoutMs: 30_000,
      });
      expect(res.status).toBe(200);
      expect(res.ms).toBeLessThan(1000);
      expect(parseSse(res.text).map((e) => e.patchSignals?.signals)).toEqual([{ saved: 'Ada' }]);
      const profile = received.profile!;
      expect(profile).toBeInstanceOf(ProfileSignals);
      expect(Object.keys(profile).sort()).toEqual(['address', 'meta', 'name']);
      expect(profile.address).toBeInstanceOf(ZipSignals);
      expect(Object.keys(profile.address!)).toEqual(['zip']);
      // A declared free-form object comes whole (copied: not the request's own object).
      expect(profile.meta).toEqual(meta);
    });
  });

  it.each([
    ['depth', `{"name":"Ada","a":${'['.repeat(40)}${']'.repeat(40)}}`, /nested deeper than 32 levels.*signalsLimits\.depth/],
    ['string length', JSON.stringify({ name: 'x'.repeat(300 * 1024) }), /longer than 262144 characters.*signalsLimits\.stringLength/],
  ])('%s past its default: 413 naming the option, for a body and for the query', async (_name, text, message) => {
    const post = await rawRequest(base, { method: 'POST', path: '/ds/limits/echo', headers: { ...DS, 'content-type': 'application/json' }, body: text });
    expect({ status: post.status, text: post.text }).toEqual({ status: 413, text: expect.stringMatching(message) });
    if (text.length < 4000) {
      const get = await rawRequest(base, { method: 'GET', path: `/ds/limits/echo-get?datastar=${encodeURIComponent(text)}`, headers: DS });
      expect({ status: get.status, text: get.text }).toEqual({ status: 413, text: expect.stringMatching(message) });
    }
  });

  it('form bodies count too: 413 past the key limit', async () => {
    const body = Array.from({ length: 10_001 }, (_, i) => `k${i}=1`).join('&');
    const res = await rawRequest(base, {
      method: 'POST', path: '/ds/limits/echo', headers: { ...DS, 'content-type': 'application/x-www-form-urlencoded' }, body,
    });
    // Express' urlencoded parser stops at 1000 fields itself (413); Fastify's has no bound: ours answers.
    expect(res.status).toBe(413);
    if (adapter === 'fastify') expect(res.text).toMatch(/signalsLimits\.keys/);
  });
});

describe.each(ADAPTERS)('signalsLimits option and forbidNonWhitelisted (%s)', (adapter: AdapterName) => {
  let app: INestApplication;
  let base: string;
  beforeAll(async () => {
    ({ app, base } = await startLimitsApp(limitsModule({
      signalsLimits: { keys: 5, depth: 3, stringLength: 10 },
      validation: { whitelist: true, forbidNonWhitelisted: true },
    }), adapter));
  });
  afterAll(() => app.close());

  const post = (event: string, body: unknown) => rawRequest(base, {
    method: 'POST', path: `/ds/limits/${event}`, headers: { ...DS, 'content-type': 'application/json' }, body: JSON.stringify(body),
  });

  it('the module option sets the limits', async () => {
    expect((await post('echo', { a: 1, b: 2, c: 3, d: 4, e: 5 })).status).toBe(200);
    expect((await post('echo', { a: 1, b: 2, c: 3, d: 4, e: 5, f: 6 })).text).toMatch(/more than 5 keys/);
    expect((await post('echo', { a: { b: { c: {} } } })).text).toMatch(/deeper than 3 levels/);
    expect((await post('echo', { a: 'x'.repeat(11) })).text).toMatch(/longer than 10 characters/);
  });

  it('undeclared keys are still reported as class-validator would, at every depth, without reaching the DTO', async () => {
    const runs = received.runs;
    const res = await post('profile', { name: 'Ada', extra: 1, address: { zip: '12345', bad: 2 } });
    expect(res.status).toBe(200);
    expect(parseSse(res.text).map((e) => e.patchSignals?.signals)).toEqual([
      { errors: { extra: 'property extra should not exist', address: { bad: 'property bad should not exist' } } },
    ]);
    expect(received.runs).toBe(runs);
    expect((await post('profile', { name: 'Ada', address: { zip: '12345' } })).status).toBe(200);
    expect(received.runs).toBe(runs + 1);
  });
});
