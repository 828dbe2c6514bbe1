/**
 * Hostile input against dispatch, pages and streams, on Express and Fastify. Every request gets a
 * plain 4xx or a safe patch: never a 500, a hang, a crash, a polluted prototype or a forged SSE field.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { runInNewContext } from 'node:vm';
import { readSignals, SignalsError, StreamRegistryService } from 'nestjs-datastar';
import { DatastarTestClient, parseSse } from 'nestjs-datastar/testing';
import { ADAPTERS, sleep, startApp, type AdapterName, type TestApp } from '../core/fixtures/harness';
import { ALL_EVENT_COUNT, asDatastar, hostileModule, seen, SIGNALS_LIMIT } from './fixtures/hostile.app';
import {
  answerProblems, expectUnpolluted, prototypeSnapshot, runRedirect, scriptBody, scriptsOf, sseProblems, type Answer,
} from './fixtures/invariants';
import { rawRequest, rawSocket, statusOf, type RawRequest, type RawResponse } from './fixtures/raw-http';
import { watchProcess } from './fixtures/process-watch';
import { waitFor } from './fixtures/wait';

const JSON_TYPE = { 'content-type': 'application/json' };
const q = (value: unknown) => `?datastar=${encodeURIComponent(typeof value === 'string' ? value : JSON.stringify(value))}`;
const answerOf = (res: RawResponse): Answer => ({
  status: res.status, contentType: String(res.headers['content-type'] ?? ''), text: res.text, timedOut: res.timedOut,
});
/** How the client sees a text after the SSE round trip: lines joined with \n, lone surrogates replaced. */
const received = (text: string) => Buffer.from(text).toString('utf8').replace(/\r\n|\r/g, '\n');
/** Fails with the method, path, status and body when the status is not one of `allowed`. */
function expectStatus(res: RawResponse, allowed: number | number[], label: string): void {
  const list = Array.isArray(allowed) ? allowed : [allowed];
  if (!list.includes(res.status)) {
    throw new Error(`${label}: expected status ${list.join(' or ')}, got ${res.status}${res.error ? ` (${res.error})` : ''} ${res.text.slice(0, 200)}`);
  }
}
const deep = (depth: number) => `{"a":${'['.repeat(depth - 1)}${']'.repeat(depth - 1)}}`;

/** Texts a handler echoes into patches: each tries to end a line, an event or a script early. */
const NASTY: Array<[string, string]> = [
  ['LF + forged fields', 'a\nevent: forged\nid: 666\nretry: 1\n\ndata: signals {"hacked":true}\n\n'],
  ['CRLF + forged event', 'a\r\nretry: 1\r\n\r\nevent: datastar-patch-signals\r\ndata: signals {"hacked":true}\r\n\r\n'],
  ['lone CR + forged event', 'x\revent: datastar-patch-signals\rid: 1\r\rdata: signals {"hacked":true}\r\r'],
  ['only line breaks', '\r\n\r\n\n\n\r\r'],
  ['</script> breakout', '</script><script>alert(1)</script>'],
  ['</SCRIPT > breakout', 'x</SCRIPT >y</sCrIpT\n>'],
  ['<!-- <script> (script data escape state)', '<!--<script>'],
  ['a data line', 'data: elements <b>'],
  ['quotes and ampersands', `"'&<>\`=`],
  ['U+2028 / U+2029 / NEL', '\u2028\u2029\u0085'],
  ['NUL and control characters', '\u0000\u0001\u001b[31m\u007f'],
  ['a lone surrogate', 'a\ud800b'],
  ['emoji and RTL', '👍🏽 \u202e evil'],
  ['everything', 'a\r\n</script>\r<!--\n\u2028"\'id: 1\n\nevent: x\u0000'],
];

describe.each(ADAPTERS)('hostile input (%s)', (adapter: AdapterName) => {
  let t: TestApp;
  let client: DatastarTestClient;
  let prototypes: string;
  const watch = watchProcess();

  beforeAll(async () => {
    t = await startApp(hostileModule(), adapter);
    client = new DatastarTestClient(t.base);
    prototypes = prototypeSnapshot();
  });
  afterAll(async () => {
    expect(t.app.get(StreamRegistryService).count()).toBe(0);
    await t.close();
    watch.expectNothing();
  });
  beforeEach(() => seen.reset());
  afterEach(() => {
    expectUnpolluted(prototypes);
    // The only errors the app may log are the handlers' own failures (a refused redirect).
    for (const line of t.logger.errors()) expect(line).toMatch(/^echo\/(redirect|remove)(-\w+)? failed: /);
    t.logger.clear();
  });

  /** As the Datastar client sends it (the header), to the echo event that answers its method. */
  const send = (req: RawRequest) => rawRequest(t.base, asDatastar(req));
  /** A 4xx before any SSE byte, and the handler never ran. */
  async function expectRejected(req: RawRequest, status: number | number[]) {
    const res = await send(req);
    expect(answerProblems(answerOf(res))).toEqual([]);
    expectStatus(res, status, `${req.method ?? 'GET'} ${req.path.slice(0, 80)}`);
    expect(res.headers['content-type'] ?? '').not.toContain('text/event-stream');
    expect(seen.runs).toBe(0);
    return res;
  }

  describe('malformed, truncated and non-object signals -> 400, handler not run', () => {
    const bodies: Array<[string, string]> = [
      ['truncated object', '{"text":"a'],
      ['truncated after a key', '{"text":'],
      ['a trailing comma', '{"text":"a",}'],
      ['single quotes', "{'text':'a'}"],
      ['plain words', 'hello'],
      ['an array', '["text"]'],
      ['a string', '"text"'],
      ['a number', '42'],
      ['true', 'true'],
      ['null', 'null'],
      ['two objects', '{}{}'],
      ['NaN', '{"n":NaN}'],
    ];
    it.each(bodies)('POST body: %s', async (_name, body) => {
      await expectRejected({ method: 'POST', path: '/ds/echo/all', headers: JSON_TYPE, body }, 400);
    });
    it.each(bodies)('GET query: %s', async (_name, body) => {
      await expectRejected({ path: `/ds/echo/all${q(body)}` }, 400);
    });
    it.each(bodies.slice(0, 6))('streaming event and page: %s', async (_name, body) => {
      await expectRejected({ path: `/ds/echo/stream${q(body)}` }, 400);
      await expectRejected({ path: `/echo/page${q(body)}` }, 400);
    });
    it('a truncated chunked body (the client sends half of it)', async () => {
      await expectRejected({ method: 'PATCH', path: '/ds/echo/all', headers: JSON_TYPE, parts: ['{"te', 'xt": [1, 2'] }, 400);
    });
    it('broken percent-encoding in the query is read leniently, never a 500', async () => {
      for (const raw of ['%7B%22text%22%3A%22%E0%A4%22%7D', '%7B%22text%22%3A%22%FF%22%7D', '%ZZ', '%', '%7B%']) {
        const res = await send({ path: `/ds/echo/all?datastar=${raw}` });
        expect(answerProblems(answerOf(res), { events: ALL_EVENT_COUNT })).toEqual([]);
        expect([200, 400]).toContain(res.status);
      }
    });
  });

  describe('sizes', () => {
    const over = { text: 'x'.repeat(SIGNALS_LIMIT) };
    it('a body over signalsLimit -> 413 (dispatch and streams)', async () => {
      await expectRejected({ method: 'POST', path: '/ds/echo/all', headers: JSON_TYPE, body: JSON.stringify(over) }, 413);
      await expectRejected({ method: 'POST', path: '/ds/echo/stream', headers: JSON_TYPE, body: JSON.stringify(over) }, 413);
    });
    it('a 5 MiB body -> 413, with or without Content-Length', async () => {
      const body = JSON.stringify({ text: 'x'.repeat(5 * 1024 * 1024) });
      await expectRejected({ method: 'POST', path: '/ds/echo/all', headers: JSON_TYPE, body, timeoutMs: 10_000 }, 413);
      const parts = [body.slice(0, 10), body.slice(10, 3_000_000), body.slice(3_000_000)];
      await expectRejected({ method: 'PUT', path: '/ds/echo/all', headers: JSON_TYPE, parts, timeoutMs: 10_000 }, 413);
    });
    it('a 5 MiB text/plain body (read by Datastar itself where no parser runs) -> 413', async () => {
      const body = JSON.stringify({ text: 'x'.repeat(5 * 1024 * 1024) });
      await expectRejected({ method: 'POST', path: '/ds/echo/all', headers: { 'content-type': 'text/plain' }, body, timeoutMs: 10_000 }, 413);
    });
    it('a query over signalsLimit (under the header limit) -> 413 on dispatch, streams and pages', async () => {
      await expectRejected({ path: `/ds/echo/all${q(over)}` }, 413);
      await expectRejected({ path: `/ds/echo/stream${q(over)}` }, 413);
      await expectRejected({ path: `/echo/page${q(over)}` }, 413);
    });
    it("a query over Node's 16 KiB header limit -> 431", async () => {
      const huge = q({ text: 'x'.repeat(20 * 1024) });
      await expectRejected({ path: `/ds/echo/all${huge}` }, 431);
      await expectRejected({ path: `/echo/page${huge}` }, 431);
      await expectRejected({ method: 'POST', path: '/ds/echo/all', headers: { ...JSON_TYPE, cookie: 'c='.padEnd(20 * 1024, 'x') }, body: '{}' }, 431);
    });
    it('just under signalsLimit is still served (the limit is not off by a lot)', async () => {
      const body = JSON.stringify({ text: 'y'.repeat(SIGNALS_LIMIT - 20) });
      const res = await send({ method: 'POST', path: '/ds/echo/redirect', headers: JSON_TYPE, body });
      expect(res.status).toBe(200);
    });
  });

  describe('deep nesting -> 413 naming signalsLimits.depth (default 32 levels)', () => {
    it.each([33, 500, 2000])('%i levels in a JSON body, a chunked body, a text/plain body, a query and a page query', async (depth) => {
      const text = deep(depth);
      await expectRejected({ method: 'POST', path: '/ds/echo/all', headers: JSON_TYPE, body: text }, 413);
      await expectRejected({ method: 'POST', path: '/ds/echo/all', headers: JSON_TYPE, parts: [text.slice(0, 9), text.slice(9)] }, 413);
      await expectRejected({ method: 'POST', path: '/ds/echo/all', headers: { 'content-type': 'text/plain' }, body: text }, 413);
      await expectRejected({ path: `/ds/echo/stream${q(text)}` }, 413);
      await expectRejected({ path: `/echo/page${q(text)}` }, 413);
    });
    it('32 levels are accepted', async () => {
      const res = await send({ method: 'POST', path: '/ds/echo/all', headers: JSON_TYPE, body: deep(32) });
      expect(res.status).toBe(200);
      expect(sseProblems(res.text, { events: ALL_EVENT_COUNT })).toEqual([]);
    });
  });

  describe('__proto__, constructor and prototype keys never pollute', () => {
    const hostile = [
      '{"__proto__":{"polluted":"yes"},"text":"a"}',
      '{"constructor":{"prototype":{"polluted":"yes"}},"text":"a"}',
      '{"text":"a","nested":{"__proto__":{"isAdmin":true}},"list":[{"__proto__":{"polluted":1}}]}',
      '{"__pro\\u0074o__":{"polluted":"yes"},"constructo\\u0072":{"prototype":{"polluted":1}}}',
      '{"prototype":{"polluted":1},"a":{"constructor":{"prototype":{"x":1}}}}',
    ];
    it.each(hostile)('%s in a JSON body, a text/plain body, a query, a stream and a page', async (text) => {
      const requests: RawRequest[] = [
        { method: 'POST', path: '/ds/echo/all', headers: JSON_TYPE, body: text },
        { method: 'PUT', path: '/ds/echo/all', headers: { 'content-type': 'text/plain' }, body: text },
        { path: `/ds/echo/all${q(text)}` },
        { method: 'DELETE', path: `/ds/echo/all${q(text)}` },
        { path: `/ds/echo/stream${q(text)}` },
        { path: `/echo/page${q(text)}` },
      ];
      for (const req of requests) {
        const res = await send(req);
        expect(answerProblems(answerOf(res))).toEqual([]);
        // Fastify's own JSON parser refuses these keys with 400; everything else drops them.
        expect([200, 400]).toContain(res.status);
        expectUnpolluted(prototypes);
      }
    });
    it('form fields named __proto__ and constructor', async () => {
      const res = await send({
        method: 'POST', path: '/ds/echo/all', headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: '__proto__[polluted]=1&constructor[prototype][polluted]=1&text=a%0D%0Aid:%201',
      });
      expect(answerProblems(answerOf(res))).toEqual([]);
      expect([200, 400]).toContain(res.status);
    });
  });

  describe('invalid UTF-8 in bodies', () => {
    // {"text":"<ff><c3>"} : a stray continuation byte and a truncated two-byte sequence.
    const bytes = Buffer.concat([Buffer.from('{"text":"a'), Buffer.from([0xff, 0xc3]), Buffer.from('"}')]);
    const strictDecode = (b: Buffer) => new TextDecoder('utf-8', { fatal: true }).decode(b);
    it.each([
      ['application/json', { express: [200], fastify: [200] }],
      ['text/plain', { express: [400], fastify: [200] }],
      ['(none)', { express: [400], fastify: [415] }],
    ] as const)('as %s: 400 where Datastar decodes, U+FFFD where the platform does; output is valid UTF-8', async (type, statuses) => {
      const headers: Record<string, string> = type === '(none)' ? {} : { 'content-type': type };
      const res = await send({ method: 'POST', path: '/ds/echo/all', headers, body: bytes });
      expect(statuses[adapter]).toContain(res.status);
      expect(answerProblems(answerOf(res), res.status === 200 ? { events: ALL_EVENT_COUNT } : {})).toEqual([]);
      expect(() => strictDecode(res.bytes)).not.toThrow();
      if (res.status === 200) expect(parseSse(res.text)[0].patchSignals?.signals).toEqual({ echo: 'a\ufffd\ufffd' });
    });
  });

  describe('CR, LF and </script in every text that reaches a patch', () => {
    /** Runs a console script as the browser would; returns what it logged. */
    function logged(script: string): unknown[][] {
      const calls: unknown[][] = [];
      const log = (...args: unknown[]) => calls.push(args);
      runInNewContext(script, { console: { log, error: log } }, { timeout: 2000 });
      return JSON.parse(JSON.stringify(calls));
    }

    describe.each(['post', 'get'] as const)('dispatch (%s): merged signals, patchSignals, HTML, selector, template, scripts, console', (method) => {
      it.each(NASTY)('%s', async (_name, text) => {
        const res = await client.event('echo', method === 'get' ? 'all-get' : 'all', { text }, { method });
        expect(res.status).toBe(200);
        expect(sseProblems(res.text, { events: ALL_EVENT_COUNT })).toEqual([]);
        const [merged, again, raw, escaped, attrScript, rawScript, template, consoleEvent] = res.events;
        // Signals survive as data, byte for byte: JSON escapes every line break.
        expect(merged.patchSignals?.signals).toEqual({ echo: text });
        expect(again.patchSignals?.signals).toEqual({ again: text, nested: { [text]: text } });
        // HTML keeps its text; the line breaks became data lines that the client joins with \n.
        expect(raw.patchElements?.elements).toBe(received(`<p id="raw">${text}</p>`));
        // A selector is one line whatever the handler passes.
        expect(escaped.patchElements?.selector).toBe(received(`#${text}`.replace(/[\r\n]+/g, '').trim()));
        expect(template.patchElements?.mode).toBe('append');
        expect(template.patchElements?.elements).not.toMatch(/<(?!\/?li\b)/);
        // Scripts: a `</script` or `<!--` in the text cannot end them early, and they still mean the same.
        expect(attrScript.patchElements?.elements).toMatch(/^<script data-text="[^"<>]*" data-effect="el.remove\(\)">/);
        expect(logged(scriptBody(attrScript.patchElements!.elements)!)).toEqual([[text]]);
        expect(scriptBody(rawScript.patchElements!.elements)).toBeDefined();
        expect(logged(scriptBody(consoleEvent.patchElements!.elements)!)).toEqual([[text, { text }]]);
      });
    });

    it.each(NASTY)('streams (an Observable echoing 3 times): %s', async (_name, text) => {
      const res = await client.stream('/ds/echo/stream-get', { method: 'get', signals: { text, count: 3 } });
      expect(res.ended).toBe(true);
      expect(sseProblems(res.text, { events: 15 })).toEqual([]);
      expect(res.events.filter((e) => e.patchSignals).map((e) => e.patchSignals!.signals.again)).toEqual([text, text, text]);
    });

    it.each(NASTY)('pages (data-signals, an inline script, escaped text): %s', async (_name, text) => {
      const page = await client.page(`/echo/page${q({ text })}`);
      expect(page.status).toBe(200);
      expect(page.html.match(/<script/gi)).toHaveLength(1);
      expect(page.html.match(/<\/script/gi)).toHaveLength(1);
      expect(page.html.match(/<p\b/gi)).toHaveLength(1);
      expect(page.signals).toEqual({ echo: text });
      const window: { initial?: unknown } = {};
      runInNewContext(/<script>([\s\S]*)<\/script>/.exec(page.html)![1], { window }, { timeout: 2000 });
      expect(JSON.parse(JSON.stringify(window.initial))).toEqual({ echo: text });
    });
  });

  describe('redirects', () => {
    const PAGE = 'http://app.test/page';
    /** `events`: 2 for a refused URL (the console line, then the page's `errors.page`). */
    const redirectTo = async (url: string, events = 1) => {
      const res = await client.event('echo', 'redirect', { url });
      expect(res.status).toBe(200);
      expect(sseProblems(res.text, { events })).toEqual([]);
      return scriptsOf(res.text);
    };

    it.each([
      'javascript:alert(1)', 'JaVaScRiPt:alert(1)', '  javascript:alert(1)', 'java\tscript:alert(1)',
      'java\nscript:alert(1)', 'java\rscript:alert(1)', '\u0000javascript:alert(1)', 'javascript:/*</script>*/alert(1)',
      'data:text/html,<script>alert(1)</script>', 'DATA:text/html;base64,PHNjcmlwdD4=', 'vbscript:msgbox(1)',
      'file:///etc/passwd', 'blob:http://app.test/x', 'ftp://app.test/x', '', '\n', 'http://[bad',
    ])('%j is refused: a handler error -> a console.error patch, no navigation', async (url) => {
      const [script, ...rest] = await redirectTo(url, 2);
      expect(rest).toEqual([]);
      expect(script).toMatch(/^console\.error\("\[datastar\] echo\/redirect failed: /);
      expect(script).not.toContain('window.location');
      expect(t.logger.errors()).toHaveLength(1);
    });

    it.each([
      '//evil.example/x', '/\\evil.example/x', '\\\\evil.example', '\\/evil.example', 'https://evil.example/',
      'HTTPS://evil.example', 'http://app.test.evil.example/', 'https:evil.example', ' //evil.example',
    ])('%j is cross-origin: the script refuses to navigate in the browser', async (url) => {
      const [script] = await redirectTo(url);
      expect(runRedirect(script, PAGE)).toEqual({ error: expect.stringContaining('cross-origin redirect refused') });
    });

    it.each([
      ['/next', 'http://app.test/next'],
      ['next?a=1#b', 'http://app.test/next?a=1#b'],
      ['http://app.test/ok', 'http://app.test/ok'],
      ['jav&#x09;ascript:alert(1)', 'http://app.test/jav&'],
      ['%6Aavascript:alert(1)', 'http://app.test/%6Aavascript:alert(1)'],
      // Browsers drop tabs and line breaks inside URLs: so does redirect(), and nothing reaches the SSE framing.
      ['/ok\nid: 1\r\n\r\nevent: forged', 'http://app.test/okid:%201event:%20forged'],
    ])('%j stays on the page origin', async (url, expected) => {
      const [script] = await redirectTo(url);
      const { href, error } = runRedirect(script, PAGE);
      expect(error).toBeUndefined();
      expect(href!.startsWith(expected)).toBe(true);
      expect(new URL(href!).origin).toBe('http://app.test');
    });

    it('removeSignals with a hostile path is a handler error too, never a malformed patch', async () => {
      for (const path of ['__proto__', 'a..b', '', 'constructor.prototype', 'a.__proto__.b']) {
        const res = await client.event('echo', 'remove', { path });
        // The console line, then the page's `errors.page`.
        expect(sseProblems(res.text, { events: 2 })).toEqual([]);
        expect(scriptsOf(res.text)[0]).toMatch(/^console\.error\(/);
      }
    });
  });

  describe('unknown controllers and events -> 404', () => {
    const paths = [
      '/ds/nope/all', '/ds/echo/nope', '/ds/echo/constructor', '/ds/echo/__proto__', '/ds/__proto__/all',
      '/ds/constructor/constructor', '/ds/echo/hasOwnProperty', '/ds/echo/toString', '/ds/echo/page',
      '/ds/Echo/all', '/ds/echo/ALL', '/ds/echo%2Fall/x', '/ds/%2E%2E/%2E%2E', '/ds/..%2F..%2Fetc/passwd',
      '/ds/echo/all/extra', '/ds/echo', '/ds', '/ds/%E0%A4%A/all', '/ds/%00/all', '/ds/echo/all%00',
    ];
    it.each(['GET', 'POST', 'PUT', 'PATCH', 'DELETE'])('%s', async (method) => {
      for (const path of paths) {
        const body = method === 'GET' || method === 'DELETE' ? undefined : '{}';
        await expectRejected({ method, path, headers: body ? JSON_TYPE : {}, body }, path === '/ds/%E0%A4%A/all' ? [400, 404] : 404);
      }
    });
  });

  describe('wrong methods -> 404/405, never 500', () => {
    it('HEAD on events and streams -> 405 with Allow (the one method each answers); the handler does not run; the connection stays usable', async () => {
      for (const [path, allow] of [['/ds/echo/all', 'POST'], ['/ds/echo/hold', 'GET'], ['/ds/echo/stream', 'POST'], ['/ds/echo/all-get', 'GET']]) {
        const res = await expectRejected({ method: 'HEAD', path }, 405);
        expect(res.headers.allow).toBe(allow);
      }
      // An unknown event: there is no method to allow.
      await expectRejected({ method: 'HEAD', path: '/ds/nope/x' }, 404);
      expect(seen.opened).toBe(0);
      // HEAD then GET on one keep-alive connection: a HEAD that opened a stream would never end,
      // and the GET would wait for ever behind it.
      const reply = await rawSocket(t.base,
        'HEAD /ds/echo/hold HTTP/1.1\r\nHost: x\r\nDatastar-Request: true\r\n\r\n' +
        'GET /ds/echo/redirect-get?datastar=%7B%22url%22%3A%22%2Fok%22%7D HTTP/1.1\r\nHost: x\r\nDatastar-Request: true\r\n\r\n',
        // The answer completes at once: it has a Content-Length (a chunked one ends with 0\r\n\r\n).
        3000, (text) => text.includes('window.location.href=new URL("/ok",') && (text.endsWith('\n\n') || text.endsWith('\r\n0\r\n\r\n')));
      expect(reply.timedOut).toBe(false);
      expect(statusOf(reply.text)).toBe(405);
      expect(reply.text).toContain('window.location.href=new URL("/ok",');
      expect(seen.opened).toBe(0);
    });

    it.each(['OPTIONS', 'TRACE', 'PROPFIND', 'MKCOL', 'PURGE', 'LINK'])('%s on events, streams and pages', async (method) => {
      for (const path of ['/ds/echo/all', '/ds/echo/hold', '/echo/page', '/ds/nope/x']) {
        await expectRejected({ method, path }, [404, 405]);
      }
    });

    it('CONNECT and an unknown method token: the connection is refused or closed, the server lives on', async () => {
      for (const bytes of ['CONNECT 127.0.0.1:1 HTTP/1.1\r\nHost: x\r\n\r\n', 'BREW /ds/echo/all HTTP/1.1\r\nHost: x\r\n\r\n',
        'GET /ds/echo/all HTTP/9.9\r\n\r\n', 'GET /ds/echo/all\u0000 HTTP/1.1\r\n\r\n', 'GET /ds/echo/all HTTP/1.1\r\n\r\n',
        'GET /ds/echo/all HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n']) {
        const reply = await rawSocket(t.base, bytes);
        expect(reply.timedOut).toBe(false);
        expect(statusOf(reply.text) === 0 || statusOf(reply.text) < 500).toBe(true);
      }
      expect(seen.runs).toBe(0);
      // HTTP/1.0 has no chunked encoding and no keep-alive unless asked: the answer ends with the connection.
      const old = await rawSocket(t.base, 'GET /ds/echo/all-get HTTP/1.0\r\nDatastar-Request: true\r\n\r\n');
      expect(old.timedOut).toBe(false);
      expect(statusOf(old.text)).toBe(200);
      expect(sseProblems(old.text.slice(old.text.indexOf('\r\n\r\n') + 4), { events: ALL_EVENT_COUNT })).toEqual([]);
      expect((await client.event('echo', 'all', { text: 'alive' })).status).toBe(200);
    });
  });

  describe('wrong content types -> 415', () => {
    it.each([
      'application/xml', 'text/html', 'image/png', 'application/octet-stream', 'multipart/form-data; boundary=x',
      'application/javascript', 'text/csv', 'video/mp4',
    ])('%s', async (type) => {
      await expectRejected({ method: 'POST', path: '/ds/echo/all', headers: { 'content-type': type }, body: '{"text":"a"}' }, 415);
      await expectRejected({ method: 'POST', path: '/ds/echo/stream', headers: { 'content-type': type }, body: '{"text":"a"}' }, 415);
    });
    it.each([
      'application/json; charset=utf-16', 'application/json; charset=latin1', ';;;', 'application/', '*/*',
      'APPLICATION/JSON', 'application/json, text/html', 'application/vnd.api+json', 'text/plain; charset=utf-8',
    ])('odd but harmless %j: a 4xx or a safe patch', async (type) => {
      const res = await send({ method: 'POST', path: '/ds/echo/all', headers: { 'content-type': type }, body: '{"text":"a\\nid: 1"}' });
      expect(answerProblems(answerOf(res), res.status === 200 ? { events: ALL_EVENT_COUNT } : {})).toEqual([]);
      expect(res.status === 200 || (res.status >= 400 && res.status < 500)).toBe(true);
    });
  });

  it('the server still answers normally after all of it', async () => {
    const res = await client.event('echo', 'all', { text: 'fine' });
    expect(res.status).toBe(200);
    expect(res.events[0].patchSignals?.signals).toEqual({ echo: 'fine' });
  });
});

/**
 * Bodies that stop arriving. Platform parsers (Express' body-parser, Fastify) have no body timeout
 * of their own: the server's idle timeout bounds them, as it does in production. Bodies Datastar
 * reads itself end with 408 after `timeout` (30 s by default).
 */
describe.each(ADAPTERS)('bodies and headers that stop (%s)', (adapter) => {
  const IDLE_MS = 700;
  const BOUND_MS = IDLE_MS + 2500;
  let t: TestApp;
  const watch = watchProcess();
  beforeAll(async () => {
    t = await startApp(hostileModule({ heartbeat: 50, heartbeatEvent: false }), adapter);
    t.app.getHttpServer().setTimeout(IDLE_MS);
  });
  afterAll(async () => {
    await t.close();
    watch.expectNothing();
  });
  beforeEach(() => seen.reset());

  it.each([
    ['JSON (platform parser)', { 'content-type': 'application/json', 'content-length': 100 }],
    ['text/plain (Datastar reads it on Express)', { 'content-type': 'text/plain', 'content-length': 100 }],
    ['chunked JSON', { 'content-type': 'application/json' }],
    ['chunked, no content type', {}],
  ])('a %s body that stops: 408 or closed within the bound; nothing left behind', async (_name, headers) => {
    const res = await rawRequest(t.base, asDatastar({
      method: 'POST', path: '/ds/echo/all', headers, parts: ['{"text":"sl'], stall: true, timeoutMs: BOUND_MS + 2000,
    }));
    expect(res.timedOut).toBe(false);
    expect(res.ms).toBeLessThan(BOUND_MS);
    // Closed by the idle timeout, 408 from Datastar's reader, or refused at once (Fastify: no content type -> 415).
    expect(res.status === 0 || (res.status >= 400 && res.status < 500)).toBe(true);
    expect(seen.runs).toBe(0);
  });

  it('headers that stop mid-line: closed within the bound', async () => {
    const started = Date.now();
    const reply = await rawSocket(t.base, 'POST /ds/echo/all HTTP/1.1\r\nHost: x\r\nContent-Ty', BOUND_MS + 2000);
    expect(reply.timedOut).toBe(false);
    expect(Date.now() - started).toBeLessThan(BOUND_MS);
  });

  it('a slow but live body (a chunk every 100 ms) is waited for and served', async () => {
    const body = '{"text":"slow but alive"}';
    const parts = body.match(/.{1,5}/g)!;
    const res = await rawRequest(t.base, asDatastar({ method: 'POST', path: '/ds/echo/all', headers: JSON_TYPE, parts, gapMs: 100, timeoutMs: 5000 }));
    expect(res.status).toBe(200);
    expect(parseSse(res.text)[0].patchSignals?.signals).toEqual({ echo: 'slow but alive' });
  });

  it('the idle timeout does not cut a live stream: heartbeats keep it open', async () => {
    const streams = t.app.get(StreamRegistryService);
    const abort = new AbortController();
    const res = await fetch(`${t.base}/ds/echo/hold`, { signal: abort.signal, headers: { 'datastar-request': 'true' } });
    let text = '';
    const decoder = new TextDecoder();
    const reading = (async () => {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) text += decoder.decode(chunk, { stream: true });
    })().catch(() => undefined);
    await sleep(IDLE_MS * 3);
    expect(streams.count()).toBe(1);
    expect(seen.closed).toBe(0);
    // The topic's position, an id of ours (not the client's) alone in its block, the first the topic sends.
    expect(text).toMatch(/^id: [\w-]+:\d+\n\n/m);
    expect(sseProblems(text.replace(/^id: [\w-]+:\d+\n\n/m, ''), { comments: true, events: 1 })).toEqual([]);
    expect(text.match(/^:$/gm)?.length ?? 0).toBeGreaterThanOrEqual(3);
    abort.abort();
    await reading;
    await waitFor('the stream to close', () => streams.count() === 0 && seen.closed === 1, 3000);
    expect(seen.reasons).toEqual({ 'client-closed': 1 });
  });

  it('afterwards: no stream and no connection left', async () => {
    await sleep(IDLE_MS);
    expect(t.app.get(StreamRegistryService).count()).toBe(0);
    const server = t.app.getHttpServer();
    const connections = () => new Promise<number>((resolve) => server.getConnections((_: unknown, n: number) => resolve(n)));
    const deadline = Date.now() + 3000;
    while ((await connections()) > 0 && Date.now() < deadline) await sleep(50);
    expect(await connections()).toBe(0);
  });
});

describe('readSignals on a body that stops: 408 after its timeout', () => {
  let server: Server;
  let base: string;
  beforeAll(async () => {
    server = createServer((req, res) => {
      readSignals({ method: req.method!, url: req.url, headers: req.headers, stream: req }, { timeout: 300 }).then(
        () => res.end('read'),
        (error: SignalsError) => {
          res.statusCode = error.status ?? 500;
          res.end(error.message);
        },
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  }));

  it('answers 408 within ~300 ms, for a sized and for a chunked body', async () => {
    const sized: Record<string, string | number> = { 'content-type': 'application/json', 'content-length': 50 };
    for (const headers of [sized, { 'content-type': 'application/json' }]) {
      const res = await rawRequest(base, { method: 'POST', path: '/', headers, parts: ['{"a":'], stall: true, timeoutMs: 3000 });
      expect(res.status).toBe(408);
      expect(res.text).toBe('The request body stopped arriving.');
      expect(res.ms).toBeLessThan(1500);
    }
  });
});
