/**
 * Issue 9, items 7 and 12: every body kind is scrubbed the same way (no `__proto__`, `constructor`
 * or `prototype` key at any depth, also where a form parser nested the fields), and invalid UTF-8
 * is a 400 wherever the bytes can be seen (Datastar reads the body, or Nest kept them: `rawBody: true`).
 */
import type { INestApplication } from '@nestjs/common';
import { ADAPTERS, type AdapterName } from '../core/fixtures/harness';
import { prototypeKeysIn } from './fixtures/invariants';
import { limitsModule, received, startLimitsApp } from './fixtures/limits.app';
import { rawRequest, type RawRequest } from './fixtures/raw-http';

const DS = { 'datastar-request': 'true' };
const FORM = { ...DS, 'content-type': 'application/x-www-form-urlencoded' };
const HOSTILE_JSON = '{"a":{"constructor":{"prototype":{"p2":1}},"ok":1},"b":[{"__proto__":{"p":1},"prototype":1,"y":2}],"c":{"x":{"constructor":2}}}';

describe.each(ADAPTERS)('prototype keys in every body kind (%s)', (adapter: AdapterName) => {
  let app: INestApplication;
  let base: string;
  beforeAll(async () => {
    ({ app, base } = await startLimitsApp(limitsModule(), adapter));
  });
  afterAll(() => app.close());

  async function signalsFor(req: RawRequest): Promise<Record<string, unknown>> {
    received.signals = undefined;
    const res = await rawRequest(base, req);
    expect({ status: res.status, text: res.status === 200 ? '' : res.text }).toEqual({ status: 200, text: '' });
    return received.signals!;
  }

  it.each([
    ['form (a[constructor][prototype][p2]=1)', { method: 'POST', path: '/ds/limits/echo', headers: FORM, body: 'a[constructor][prototype][p2]=1&a[ok]=1&c[x][constructor]=2&d[prototype]=3&e=4' }],
    ['JSON', { method: 'POST', path: '/ds/limits/echo', headers: { ...DS, 'content-type': 'application/json' }, body: HOSTILE_JSON }],
    ['text/plain', { method: 'POST', path: '/ds/limits/echo', headers: { ...DS, 'content-type': 'text/plain' }, body: HOSTILE_JSON }],
    ['query', { method: 'GET', path: `/ds/limits/echo-get?datastar=${encodeURIComponent(HOSTILE_JSON)}`, headers: DS }],
  ] as Array<[string, RawRequest]>)('%s: no prototype key at any depth, the other keys kept', async (kind, req) => {
    if (adapter === 'fastify' && kind === 'JSON') {
      // Fastify's own JSON parser refuses prototype keys before Datastar sees the body.
      expect((await rawRequest(base, req)).status).toBe(400);
      return;
    }
    const signals = await signalsFor(req);
    expect(prototypeKeysIn(signals)).toEqual([]);
    expect(Object.getPrototypeOf(signals)).toBe(Object.prototype);
    if (kind.startsWith('form')) {
      // Express nests the fields (qs); Fastify keeps them flat: either way nothing prototype-shaped is an own key.
      if (adapter === 'express') expect(signals).toEqual({ a: { ok: '1' }, c: { x: {} }, d: {}, e: '4' });
      else expect(signals.e).toBe('4');
    } else {
      expect(signals).toEqual({ a: { ok: 1 }, b: [{ y: 2 }], c: { x: {} } });
    }
  });

  it('multipart/form-data without a multipart parser: 415', async () => {
    const res = await rawRequest(base, {
      method: 'POST', path: '/ds/limits/echo', headers: { ...DS, 'content-type': 'multipart/form-data; boundary=zz' },
      body: '--zz\r\nContent-Disposition: form-data; name="a[constructor][prototype]"\r\n\r\n1\r\n--zz--\r\n',
    });
    expect(res.status).toBe(415);
  });
});

describe.each(ADAPTERS)('invalid UTF-8 in an application/json body (%s)', (adapter: AdapterName) => {
  // {"name":"a<ff><c3>"}: a stray byte and a truncated two-byte sequence.
  const bytes = Buffer.concat([Buffer.from('{"name":"a'), Buffer.from([0xff, 0xc3]), Buffer.from('"}')]);
  const send = (base: string) => rawRequest(base, {
    method: 'POST', path: '/ds/limits/echo', headers: { ...DS, 'content-type': 'application/json' }, body: bytes,
  });

  it('with rawBody: true (Nest keeps the bytes): 400, the handler never runs', async () => {
    const { app, base } = await startLimitsApp(limitsModule(), adapter, true);
    try {
      const runs = received.runs;
      const res = await send(base);
      expect(res.status).toBe(400);
      expect(res.text).toMatch(/not valid UTF-8/);
      expect(received.runs).toBe(runs);
      // Valid UTF-8, U+FFFD included, still passes.
      const ok = await rawRequest(base, {
        method: 'POST', path: '/ds/limits/echo', headers: { ...DS, 'content-type': 'application/json' }, body: '{"name":"é\ufffd"}',
      });
      expect(ok.status).toBe(200);
      expect(received.signals).toEqual({ name: 'é\ufffd' });
    } finally {
      await app.close();
    }
  });

  it('without rawBody the platform parser already replaced the bytes with U+FFFD (documented): accepted as that text', async () => {
    const { app, base } = await startLimitsApp(limitsModule(), adapter);
    try {
      const res = await send(base);
      expect(res.status).toBe(200);
      expect(received.signals).toEqual({ name: 'a\ufffd\ufffd' });
    } finally {
      await app.close();
    }
  });
});
