import { resolveDatastarSettings } from '../core/datastar-settings';
import Handlebars from 'handlebars';
import { registerDatastarHelpers } from '../templates/datastar-helpers';
import { registerLiveHelpers } from '../live/live.helpers';
import { liveEventAction, navigate, popstateExpression, streamAction } from '../live/live-actions';
import { action } from './actions';
import { clientFunctionBody, DSP, DSS, runLikeClient } from './client-compile.fixture';
import { expr, Expression, expressionLiteral, stringLiteral } from './expression-literal';

/** Values a user could type that the client's rewrites would act on, and the other usual suspects. */
const HOSTILE: Array<[string, string]> = [
  ['marker break-out', `${DSP}$'${DSS};window.__pwned='act'//`],
  ['marker break-out, backtick', `${DSP}$\`${DSS};window.__pwned='act'//`],
  ['marker break-out, $&', `${DSP}$&${DSS};window.__pwned='act'//`],
  ["$'", "$'"],
  ['$`', '$`'],
  ['$&', '$&'],
  ['$$', '$$'],
  ['a signal name', '$count'],
  ['an interpolation', '${window.__pwned=1}'],
  ['an action', '@post(x)'],
  ['an action in text', 'hello @post(x) and @get("/a")'],
  ['a closing script tag', '</script><script>window.__pwned=1</script>'],
  ['an HTML comment', '<!-- x -->'],
  ['entities', '&amp;&lt;&#39;'],
  ['line separators', 'a\u2028b\u2029c'],
  ['double quotes', '");window.__pwned=1;("'],
  ['single quotes', "');window.__pwned=1;('"],
  ['backslashes', '\\");window.__pwned=1//\\'],
  ['a trailing backslash', 'x\\'],
  ['a statement break', 'a;window.__pwned=1;b'],
  ['control characters', '\u0000\u0001\n\r\t\u001f\u007f'],
  ['emoji', 'héllo 🚀 wörld 🖕'],
  ['lone surrogates', '\ud83d x \ude80 \udfff\ud800'],
  ['the markers alone', `${DSP}${DSS}${DSS}${DSP}`],
];

const PLAIN_ASCII = /^[\x20-\x7e]*$/;

/** String.prototype.toWellFormed (ES2024): lone surrogates as U+FFFD, for what must be a URL. */
const wellFormed = (s: string) => s.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');

/** What a browser reads back from `attr="..."` escaped by Handlebars. */
function attributeValue(html: string, name: string): string {
  const match = new RegExp(`${name.replace(/[.:]/g, '\\$&')}="([^"]*)"`).exec(html);
  if (!match) throw new Error(`no ${name}="..." in ${html}`);
  return match[1]
    .replace(/&quot;/g, '"').replace(/&#x27;|&#39;/g, "'").replace(/&#x60;/g, '`').replace(/&#x3D;/g, '=')
    .replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

/** Runs an action expression like the client, expecting exactly one call of `@name(...)` and no injection. */
function oneAction(source: string, name: string): unknown[] {
  const run = runLikeClient(source);
  expect(run.window).toEqual({});
  expect(run.actions.map((a) => a.name)).toEqual([name]);
  return run.actions[0].args;
}

describe('expressionLiteral', () => {
  it('writes JSON shapes, dropping undefined in objects and nulling it in arrays', () => {
    expect(expressionLiteral({ a: 1, b: 'x', c: [true, null, undefined, () => 1], d: undefined, e: {}, f: -2.5e-7 })).toBe(
      '{"a":1,"b":"x","c":[true,null,null,null],"e":{},"f":-2.5e-7}',
    );
    expect(expressionLiteral(undefined)).toBe('null');
    expect(expressionLiteral([Number.NaN, Infinity, -Infinity])).toBe('[null,null,null]');
    expect(expressionLiteral(new Date(0))).toBe('"1970-01-01T00:00:00.000Z"');
    expect(expressionLiteral(Object.assign(Object.create(null), { x: 1 }))).toBe('{"x":1}');
  });

  it('escapes every character the client rewrites or HTML reads, in values and keys', () => {
    expect(stringLiteral('$a @post( </script> <!-- & \' " \\ ` ; é 🚀 \u2028'))
      .toBe('"\\u0024a \\u0040post( \\u003c/script\\u003e \\u003c!-- \\u0026 \\u0027 \\u0022 \\u005c \\u0060 \\u003b \\u00e9 \\ud83d\\ude80 \\u2028"');
    expect(expressionLiteral({ '$k@': '@v$' })).toBe('{"\\u0024k\\u0040":"\\u0040v\\u0024"}');
  });

  it('writes Expressions raw and RegExps as their source', () => {
    expect(expressionLiteral({ h: expr('$_csrf'), re: /^a\.$/ })).toBe('{"h":$_csrf,"re":"^a\\u005c.\\u0024"}');
    expect(expr('$x')).toBeInstanceOf(Expression);
  });

  it('refuses circular structures and BigInts with a clear message', () => {
    const loop: Record<string, unknown> = {};
    loop.self = loop;
    expect(() => expressionLiteral(loop)).toThrow(/circular structure/);
    expect(() => expressionLiteral({ n: 1n })).toThrow(/BigInt/);
    const shared = { x: 1 };
    expect(expressionLiteral([shared, shared])).toBe('[{"x":1},{"x":1}]');
  });

  it.each(HOSTILE)('round-trips %s as plain ASCII, through JSON.parse and the client compiler alike', (_name, value) => {
    const literal = expressionLiteral({ [value]: [value] });
    expect(literal).toMatch(PLAIN_ASCII);
    expect(literal).not.toMatch(/[$@<>&'`;]/);
    expect(JSON.parse(literal)).toEqual({ [value]: [value] });
    const run = runLikeClient(literal, { returnsValue: true });
    expect(run.window).toEqual({});
    expect(run.actions).toEqual([]);
    expect(run.result).toEqual({ [value]: [value] });
  });
});

describe('the client compile fixture reproduces the attacks (so the tests above mean something)', () => {
  it('a JSON string literal with the markers and $\' runs injected code', () => {
    const nick = `${DSP}$'${DSS};window.__pwned='act'//`;
    const run = runLikeClient(`@post("/ds/greeter/greet",{"payload":${JSON.stringify(nick)}})`);
    expect(run.window).toEqual({ __pwned: 'act' });
  });

  it('"@post(" inside a JSON string literal in data-signals breaks the expression', () => {
    expect(() => runLikeClient(JSON.stringify({ note: 'hello @post(x)' }), { returnsValue: true })).toThrow(SyntaxError);
  });

  it('a signal read is rewritten outside quotes only', () => {
    expect(clientFunctionBody('$a + "$b"', false)).toBe(`$['a'] + "$b"`);
  });
});

describe.each(HOSTILE)('every builder keeps %s inert and byte-identical', (_name, value) => {
  const hbs = Handlebars.create();
  registerDatastarHelpers(hbs, resolveDatastarSettings({ csrf: { header: 'x-csrf', signal: 'csrf' } }), () => '/ds');
  registerLiveHelpers(hbs, resolveDatastarSettings({ csrf: { header: 'x-csrf', signal: 'csrf' } }), () => '/ds');
  const data = { nick: value, _datastar: { controller: 'greeter', signals: { note: value } }, _live: { path: '/live/chat' } };
  const render = (source: string, extra: Record<string, unknown> = {}) => hbs.compile(source)({ ...data, ...extra });

  it('action(): URL, payload, headers and selector', () => {
    const url = `/ds/greeter/greet?n=${value}`;
    const options = { payload: { nick: value, [value]: [value] }, headers: { 'x-nick': value }, selector: value };
    expect(oneAction(action('post', url, options), 'post')).toEqual([url, options]);
  });

  it("{{ds-post 'greet' payload=nick}}", () => {
    const html = render(`<button data-on:click="{{ds-post 'greet' payload=nick}}">hi</button>`);
    const [url, options] = oneAction(attributeValue(html, 'data-on:click'), 'post') as [string, Record<string, unknown>];
    expect(url).toMatch(/^\/ds\/greeter\/greet/);
    expect(options.payload).toBe(value);
  });

  it("{{ds-event 'say' payload=nick}} and liveEventAction()", () => {
    const html = render(`<button data-on:click="{{ds-event 'say' payload=nick}}">hi</button>`);
    const [, fromHelper] = oneAction(attributeValue(html, 'data-on:click'), 'post') as [string, Record<string, unknown>];
    expect(fromHelper.payload).toBe(value);
    const event = wellFormed(value);
    const [url, options] = oneAction(liveEventAction('/live/chat', event, { payload: { nick: value } }), 'post') as [string, Record<string, unknown>];
    expect(url).toBe(`/live/chat/_event/${encodeURIComponent(event)}`);
    expect(options.payload).toEqual({ nick: value });
  });

  it('navigate(), {{ds-navigate}} and {{ds-link}}', () => {
    // Only a well-formed string can be a URL; control characters and "\\" are refused as targets.
    const raw = wellFormed(value).replace(/[\u0000-\u001f\u007f\\]/g, '');
    const to = `/live/b?q=${encodeURIComponent(wellFormed(value))}&raw=${raw}#${raw}`;
    const url = new URL(to, 'http://x');
    const [, options] = oneAction(navigate(to), 'post') as [string, { payload: { to: string } }];
    expect(options.payload.to).toBe(url.pathname + url.search);
    const viaHelper = render('<a data-on:click="{{ds-navigate to}}">', { to });
    expect(oneAction(attributeValue(viaHelper, 'data-on:click'), 'post')[1]).toEqual(options);
    const link = render('{{ds-link to nick}}', { to });
    const evt = { button: 0, preventDefault: () => undefined };
    const click = runLikeClient(attributeValue(link, 'data-on:click'), { signals: { _lv: 'token' }, evt });
    expect(click.window).toEqual({});
    expect(click.actions.map((a) => a.name)).toEqual(['post']);
  });

  it('popstate and stream actions', () => {
    const location = { pathname: '/live/a', search: `?q=${value}` };
    const popstate = runLikeClient(popstateExpression(`/ds/_nav?${value}`), { window: { location } });
    expect(popstate.window).toEqual({ location });
    expect(popstate.actions).toEqual([{ name: 'post', args: [`/ds/_nav?${value}`, { payload: { to: `/live/a?q=${value}`, replace: true, pop: true }, headers: { 'x-live-token': undefined } }] }]);
    expect(oneAction(streamAction('/ds/_stream', value), 'get')).toEqual(['/ds/_stream', { headers: { 'x-live-token': value }, payload: {}, openWhenHidden: true }]);
  });

  it('{{ds-signals}}: the view signals and hash values', () => {
    const html = render(`<div {{ds-signals extra=nick}}></div>`);
    const run = runLikeClient(attributeValue(html, 'data-signals'), { returnsValue: true });
    expect(run.window).toEqual({});
    expect(run.actions).toEqual([]);
    expect(run.result).toEqual({ note: value, extra: value });
  });

  it('{{ds-literal}} in a hand-written expression', () => {
    const html = render(`<button data-on:click="$picked = {{ds-literal nick}}">pick</button>`);
    const signals: Record<string, unknown> = {};
    const run = runLikeClient(attributeValue(html, 'data-on:click'), { signals });
    expect(run.window).toEqual({});
    expect(run.actions).toEqual([]);
    expect(signals.picked).toBe(value);
  });
});

/** mulberry32: a small seeded generator, so a failure is reproducible from its seed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PIECES = [
  DSP, DSS, "$'", '$`', '$&', '$$', '$', '@', '@post(', '(', ')', '"', "'", '`', '\\', '\\"', ';', '{', '}', '${',
  '</script>', '<!--', '-->', '&', '<', '>', '\u2028', '\u2029', '\n', '\r', '\u0000', '\ud83d', '\ude80', '🚀', 'é',
  'window.__pwned=1', '//', '/*', 'a', ' ', '0',
];

describe('seeded random round trip', () => {
  const SEED = 0x9e3779b9;
  it(`random strings survive action() and data-signals byte for byte (seed ${SEED})`, () => {
    const next = random(SEED);
    const pick = () => {
      let s = '';
      const n = Math.floor(next() * 12);
      for (let i = 0; i < n; i++) {
        s += next() < 0.7 ? PIECES[Math.floor(next() * PIECES.length)] : String.fromCharCode(Math.floor(next() * 0x10000));
      }
      return s;
    };
    for (let i = 0; i < 500; i++) {
      const key = pick();
      const value = pick();
      const options = { payload: { [key]: value, list: [value, key] }, headers: { h: value } };
      const args = oneAction(action('post', `/x/${value}`, options), 'post');
      expect(args).toEqual([`/x/${value}`, options]);
      expect((args[1] as typeof options).payload[key]).toBe(value);

      const signals = runLikeClient(expressionLiteral({ [key]: value, n: i }), { returnsValue: true });
      expect(signals.window).toEqual({});
      expect(signals.result).toEqual({ [key]: value, n: i });
    }
  });
});
