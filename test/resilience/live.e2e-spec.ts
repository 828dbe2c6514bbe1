/**
 * Live views under hostile input: forged, tampered, expired and misbound tokens get 401 (never an
 * SSE byte, never a 500) on the session stream and on events; hostile navigation targets get 400;
 * text a handler echoes stays inside its patch.
 */
import { LiveSessionsService, LiveTokens } from 'nestjs-datastar';
import { parseSse } from 'nestjs-datastar/testing';
import { ADAPTERS, startApp, type TestApp } from '../core/fixtures/harness';
import { answerProblems, expectUnpolluted, prototypeSnapshot, sseProblems } from './fixtures/invariants';
import { LIVE_SECRET, liveModule } from './fixtures/live.app';
import { watchProcess } from './fixtures/process-watch';
import { rawRequest, type RawResponse } from './fixtures/raw-http';

const decode = (s: string) =>
  s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const sidOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8')).sid as string;

describe.each(ADAPTERS)('live views under hostile input (%s)', (adapter) => {
  let t: TestApp;
  let sessions: LiveSessionsService;
  let prototypes: string;
  const watch = watchProcess();

  beforeAll(async () => {
    t = await startApp(liveModule(), adapter);
    sessions = t.app.get(LiveSessionsService);
    prototypes = prototypeSnapshot();
  });
  afterAll(async () => {
    await t.close();
    watch.expectNothing();
  });
  afterEach(() => expectUnpolluted(prototypes));

  /** Loads a live page and returns its signed token (the `_lv` signal of the live wrapper). */
  async function tokenFor(path: string): Promise<string> {
    const res = await rawRequest(t.base, { path });
    expect(res.status).toBe(200);
    const attr = /<[^>]*\bid="ds-live"[^>]*?\sdata-signals="([^"]*)"/.exec(res.text);
    if (!attr) throw new Error(`no live wrapper in ${res.text.slice(0, 300)}`);
    return JSON.parse(decode(attr[1]))._lv;
  }

  /** Datastar's own header on every live request (the request policy refuses requests without it). */
  const DS = { 'datastar-request': 'true' };
  const stream = (token?: string, query = '') =>
    rawRequest(t.base, { path: `/ds/_stream${query}`, headers: { ...DS, ...(token === undefined ? {} : { 'x-live-token': token }) }, timeoutMs: 3000 });
  const event = (view: string, token: string | undefined, body = '{"text":"x"}', name = 'echo') =>
    rawRequest(t.base, {
      method: 'POST', path: `${view}/_event/${name}`, body,
      headers: { 'content-type': 'application/json', ...DS, ...(token === undefined ? {} : { 'x-live-token': token }) },
    });
  const nav = (token: string | undefined, to: unknown) =>
    rawRequest(t.base, {
      method: 'POST', path: '/ds/_nav', body: JSON.stringify({ to }),
      headers: { 'content-type': 'application/json', ...DS, ...(token === undefined ? {} : { 'x-live-token': token }) },
    });

  function expect401(res: RawResponse, label: string) {
    expect({ label, status: res.status, sse: String(res.headers['content-type'] ?? '').includes('event-stream') })
      .toEqual({ label, status: 401, sse: false });
    expect(answerProblems({ status: res.status, contentType: String(res.headers['content-type']), text: res.text })).toEqual([]);
  }

  it('HEAD on the session stream: 405, no stream opened (it would never end and wedge the connection)', async () => {
    const token = await tokenFor('/live/echo');
    const res = await rawRequest(t.base, { method: 'HEAD', path: '/ds/_stream', headers: { ...DS, 'x-live-token': token }, timeoutMs: 3000 });
    expect(res.status).toBe(405);
    expect(String(res.headers.allow)).toBe('GET');
  });

  it('forged and tampered tokens: 401 on the stream (header and query) and on events; sessions untouched', async () => {
    // The URL is no place for a token (access logs keep it): a valid one there is refused too.
    expect401(await stream(undefined, `?token=${encodeURIComponent(await tokenFor('/live/echo'))}`), 'stream ?token= valid');
    const token = await tokenFor('/live/echo');
    const [version, payload, signature] = token.split('.');
    const flipped = signature.slice(0, -2) + (signature.endsWith('AA') ? 'BB' : 'AA');
    const other = await tokenFor('/live/echo');
    const forged: Array<[string, string | undefined]> = [
      ['missing', undefined],
      ['empty', ''],
      ['garbage', 'garbage'],
      ['only a version', 'v1'],
      ['empty parts', 'v1..'],
      ['another version', `v2.${payload}.${signature}`],
      ['a flipped signature', `${version}.${payload}.${flipped}`],
      ['no signature', `${version}.${payload}.`],
      ['padding', `${version}.${payload}=.${signature}`],
      ['another session, same signature', `${version}.${b64({ sid: sidOf(other), path: '/live/echo', exp: Date.now() + 60_000 })}.${signature}`],
      ['a longer expiry, same signature', `${version}.${b64({ sid: sidOf(token), path: '/live/echo', exp: Date.now() + 1e12 })}.${signature}`],
      ['another secret', new LiveTokens('someone-elses-secret'.padEnd(40, 'y'), 60_000).sign(sidOf(token), '/live/echo')],
      ['5,000 characters', `${version}.${'A'.repeat(5000)}.${signature}`],
      ['latin-1 bytes', `${version}.${payload}é.${signature}`],
      ['a JSON payload', '{"sid":"x"}'],
    ];
    const before = sessions.count();
    for (const [label, bad] of forged) {
      expect401(await stream(bad), `stream ${label}`);
      if (bad) expect401(await stream(undefined, `?token=${encodeURIComponent(bad)}`), `stream ?token= ${label}`);
      expect401(await event('/live/echo', bad), `event ${label}`);
      expect401(await event('/live/stateless-echo', bad), `stateless event ${label}`);
    }
    expect(sessions.count()).toBe(before);
  });

  it('correctly signed but expired, misbound or sessionless tokens: 401', async () => {
    const token = await tokenFor('/live/echo');
    const right = new LiveTokens(LIVE_SECRET, 60_000);
    const expired = new LiveTokens(LIVE_SECRET, 1).sign(sidOf(token), '/live/echo', Date.now() - 1000);
    expect401(await stream(expired), 'expired stream');
    expect401(await event('/live/echo', expired), 'expired event');
    // A token for another view's path cannot drive this one.
    expect401(await event('/live/echo', right.sign(sidOf(token), '/live/stateless-echo')), 'another path');
    // Sessions that do not exist, with ids that would hit an object's prototype if looked up naively.
    for (const sid of ['__proto__', 'constructor', 'hasOwnProperty', 'toString', '', 'x'.repeat(2000)]) {
      expect401(await stream(right.sign(sid, '/live/echo')), `stream sid ${sid.slice(0, 20)}`);
      expect401(await event('/live/echo', right.sign(sid, '/live/echo')), `event sid ${sid.slice(0, 20)}`);
    }
  });

  it('hostile navigation targets: 400 with or without a valid token; never a redirect elsewhere', async () => {
    const token = await tokenFor('/live/echo');
    for (const to of ['javascript:alert(1)', 'JAVASCRIPT:alert(1)', '//evil.example/x', '/\\evil.example', 'https://evil.example/',
      'data:text/html,<script>alert(1)</script>', '\u0000/live/echo', '/live/echo\r\nSet-Cookie: x=1', 42, null, ['/live/echo'], { to: '/' }]) {
      for (const tok of [token, undefined, 'forged']) {
        const res = await nav(tok, to);
        expect({ to, status: res.status }).toEqual({ to, status: 400 });
        expect(answerProblems({ status: res.status, contentType: String(res.headers['content-type']), text: res.text })).toEqual([]);
      }
    }
    // A forged token on a safe target: a full page load of that same-origin path, never a 500.
    const res = await nav('forged', '/live/echo');
    expect(res.status).toBe(200);
    expect(sseProblems(res.text)).toEqual([]);
  });

  it('malformed bodies and hostile event names with a valid token: 400, or a safe answer', async () => {
    const token = await tokenFor('/live/echo');
    // Malformed: 400; nested deeper than the signals limits allow: 413.
    for (const [body, status] of [['{"text":', 400], ['[1]', 400], ['null', 400], [`{"a":${'['.repeat(100)}${']'.repeat(100)}}`, 413]] as const) {
      const res = await event('/live/echo', token, body);
      expect({ body: body.slice(0, 20), status: res.status }).toEqual({ body: body.slice(0, 20), status });
      expect(answerProblems({ status: res.status, contentType: String(res.headers['content-type']), text: res.text })).toEqual([]);
    }
    const proto = await event('/live/echo', token, '{"__proto__":{"polluted":1},"text":"p"}');
    expect([200, 400]).toContain(proto.status);
    expect(answerProblems({ status: proto.status, contentType: String(proto.headers['content-type']), text: proto.text })).toEqual([]);
    for (const name of ['%0d%0aevent:%20x', '..%2F..%2Fx', 'x'.repeat(500), '%00']) {
      const res = await event('/live/echo', token, '{}', name);
      // Fastify refuses path parameters over 100 characters itself: 414.
      expect({ name: name.slice(0, 20), ok: [400, 414].includes(res.status) }).toEqual({ name: name.slice(0, 20), ok: true });
    }
    // Names the view does not handle (prototype members included) do nothing: 204.
    for (const name of ['__proto__', 'constructor', 'toString', 'unknown']) {
      const res = await event('/live/echo', token, '{}', name);
      expect({ name, status: res.status }).toEqual({ name, status: 204 });
    }
  });

  it('CR, LF and </script echoed by a stateless view stay inside their patch', async () => {
    const token = await tokenFor('/live/stateless-echo');
    for (const text of ['a\nevent: forged\nid: 1\n\ndata: x', 'x\revent: datastar-patch-signals\r\rdata: signals {}', '</script><script>alert(1)</script>']) {
      const res = await event('/live/stateless-echo', token, JSON.stringify({ text }));
      expect(res.status).toBe(200);
      expect(sseProblems(res.text)).toEqual([]);
      const echoed = parseSse(res.text).map((e) => e.patchSignals?.signals.echoed).filter((v) => v !== undefined);
      expect(echoed).toEqual([text]);
      const html = parseSse(res.text).map((e) => e.patchElements?.elements ?? '').join('\n');
      expect(html).not.toMatch(/<script|<\/script/i);
    }
  });
});
