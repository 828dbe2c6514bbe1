/**
 * Conformance of the sample's /test endpoint with the Datastar SDK test protocol (PROTOCOL.md,
 * last section): our own cases, written from the spec, compared by meaning like the official
 * runner (event fields exact, data keys in any order, lines of one key in order).
 */
import type { INestApplication } from '@nestjs/common';
import { createSampleApp } from '../../sample/src/create-app';

type Parsed = { event?: string; id?: string; retry?: string; data: Record<string, string[]> };

function parse(text: string): Parsed[] {
  return text.split('\n\n').filter((block) => block.trim() !== '').map((block) => {
    const out: Parsed = { data: {} };
    for (const line of block.split('\n')) {
      const colon = line.indexOf(':');
      const field = line.slice(0, colon);
      const value = line.slice(colon + 2);
      if (field === 'data') {
        const space = value.indexOf(' ');
        const key = value.slice(0, space);
        (out.data[key] ??= []).push(value.slice(space + 1));
      } else if (field === 'event' || field === 'id' || field === 'retry') {
        out[field] = value;
      } else {
        throw new Error(`unexpected line ${JSON.stringify(line)}`);
      }
    }
    return out;
  });
}

const cases: Array<{ name: string; events: unknown[]; expected: string }> = [
  {
    name: 'patchElements with defaults only writes elements',
    events: [{ type: 'patchElements', elements: '<div id="a">A</div>', mode: 'outer', useViewTransition: false }],
    expected: 'event: datastar-patch-elements\ndata: elements <div id="a">A</div>\n\n',
  },
  {
    name: 'patchElements with every option',
    events: [{
      type: 'patchElements', elements: '<p>x</p>', selector: '#list', mode: 'prepend', useViewTransition: true,
      namespace: 'svg', eventId: 'e1', retryDuration: 2500,
    }],
    expected: 'event: datastar-patch-elements\nid: e1\nretry: 2500\ndata: selector #list\ndata: mode prepend\n' +
      'data: useViewTransition true\ndata: namespace svg\ndata: elements <p>x</p>\n\n',
  },
  {
    name: 'multi-line elements become one data line each',
    events: [{ type: 'patchElements', elements: '<ul>\n  <li>1</li>\r\n</ul>' }],
    expected: 'event: datastar-patch-elements\ndata: elements <ul>\ndata: elements   <li>1</li>\ndata: elements </ul>\n\n',
  },
  {
    name: 'remove elements by selector, no elements line',
    events: [{ type: 'patchElements', selector: '#gone', mode: 'remove' }],
    expected: 'event: datastar-patch-elements\ndata: selector #gone\ndata: mode remove\n\n',
  },
  {
    name: 'patchSignals object as compact JSON, default retry omitted',
    events: [{ type: 'patchSignals', signals: { a: 1, b: { c: 'x\ny' } }, retryDuration: 1000, onlyIfMissing: false }],
    expected: 'event: datastar-patch-signals\ndata: signals {"a":1,"b":{"c":"x\\ny"}}\n\n',
  },
  {
    name: 'patchSignals with onlyIfMissing and id',
    events: [{ type: 'patchSignals', signals: { a: 1 }, onlyIfMissing: true, eventId: '7' }],
    expected: 'event: datastar-patch-signals\nid: 7\ndata: onlyIfMissing true\ndata: signals {"a":1}\n\n',
  },
  {
    name: 'signals-raw is written as given, line by line, and wins over signals',
    events: [{ type: 'patchSignals', 'signals-raw': '{\n"a": 1,\n"b":  \n2}', signals: { ignored: true } }],
    expected: 'event: datastar-patch-signals\ndata: signals {\ndata: signals "a": 1,\ndata: signals "b":  \ndata: signals 2}\n\n',
  },
  {
    name: 'removing signals is a null merge patch',
    events: [{ type: 'patchSignals', signals: { one: null, two: { alpha: null } } }],
    expected: 'event: datastar-patch-signals\ndata: signals {"one":null,"two":{"alpha":null}}\n\n',
  },
  {
    name: 'executeScript defaults: appended to body, removes itself',
    events: [{ type: 'executeScript', script: 'console.log(1)' }],
    expected: 'event: datastar-patch-elements\ndata: selector body\ndata: mode append\n' +
      'data: elements <script data-effect="el.remove()">console.log(1)</script>\n\n',
  },
  {
    name: 'executeScript with attributes, no autoRemove, id and retry',
    events: [{ type: 'executeScript', script: 'a()\nb()', autoRemove: false, attributes: { type: 'module' }, eventId: 's', retryDuration: 10 }],
    expected: 'event: datastar-patch-elements\nid: s\nretry: 10\ndata: selector body\ndata: mode append\n' +
      'data: elements <script type="module">a()\ndata: elements b()</script>\n\n',
  },
  {
    name: 'two events in order',
    events: [{ type: 'patchSignals', signals: { n: 1 } }, { type: 'patchElements', elements: '<b id="n">1</b>' }],
    expected: 'event: datastar-patch-signals\ndata: signals {"n":1}\n\nevent: datastar-patch-elements\ndata: elements <b id="n">1</b>\n\n',
  },
];

describe('SDK test endpoint /test', () => {
  let app: INestApplication;
  let base: string;

  beforeAll(async () => {
    app = await createSampleApp({ sdkTest: true }, false);
    await app.listen(0, '127.0.0.1');
    base = await app.getUrl();
  });
  afterAll(() => app.close());

  describe.each(['GET', 'POST'])('%s', (method) => {
    it.each(cases)('$name', async ({ events, expected }) => {
      const payload = JSON.stringify({ events });
      const res = method === 'GET'
        ? await fetch(`${base}/test?datastar=${encodeURIComponent(payload)}`, { headers: { 'datastar-request': 'true' } })
        : await fetch(`${base}/test`, {
          method: 'POST', body: payload,
          headers: { 'content-type': 'application/json', 'datastar-request': 'true' },
        });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/event-stream');
      const text = await res.text();
      expect(text).not.toMatch(/^:/m); // no heartbeat comments on this endpoint
      expect(parse(text)).toEqual(parse(expected));
    });
  });

  it('answers bad input with 4xx, never 500', async () => {
    const bad = await fetch(`${base}/test`, { method: 'POST', body: '{"events":[{"type":"nope"}]}', headers: { 'content-type': 'application/json' } });
    expect(bad.status).toBe(400);
    const malformed = await fetch(`${base}/test?datastar=%7Bnope`);
    expect(malformed.status).toBe(400);
  });
});
