import { action, expressionLiteral } from '../protocol';
import { evaluateExpression } from './expression.evaluator';
import { ExpressionError } from './expression.parser';

const run = (source: string, signals: Record<string, unknown> = {}, extra: object = {}) =>
  evaluateExpression(source, { signals, ...extra });

describe('evaluateExpression', () => {
  it('reads signals, nested paths and indexes', () => {
    const signals = { count: 3, user: { name: 'Ada', tags: ['x', 'y'] }, 'foo-bar': 7, i: 1 };
    expect(run('$count', signals)).toBe(3);
    expect(run('$user.name', signals)).toBe('Ada');
    expect(run('$user.tags[$i]', signals)).toBe('y');
    expect(run('$user.tags.0', signals)).toBe('x');
    expect(run("$['foo-bar']", signals)).toBe(7);
    expect(run('$foo-bar', signals)).toBe(7); // like the client: a hyphen continues the name
    expect(run('$count - 1', signals)).toBe(2);
    // like the client: reading a missing signal creates it as ''
    expect(run('$missing', signals)).toBe('');
    expect(signals).toHaveProperty('missing', '');
    expect(run("$other ?? 'd'", signals)).toBe('');
  });

  it('evaluates literals and object literals (data-signals values)', () => {
    expect(run('{count: 0, "name": \'x\', nested: {a: [1, 2.5, -3e2]}, ok: true, no: null}')).toEqual({
      count: 0, name: 'x', nested: { a: [1, 2.5, -300] }, ok: true, no: null,
    });
    expect(run('"a\\n\\u0041"')).toBe('a\nA');
    expect(run('`n=${$n + 1}!`', { n: 1 })).toBe('n=2!');
  });

  it('reads what expressionLiteral() and action() write back byte for byte (\\uXXXX escapes, surrogates)', () => {
    const value = '\u{1F595}JS_$\'_DS\u{1F680} @post(x) </script> \\ " ` ; \u2028 \ud800 é';
    expect(run(expressionLiteral({ [value]: [value, 1, null] }))).toEqual({ [value]: [value, 1, null] });
    const calls: unknown[] = [];
    run(action('post', `/x/${value}`, { payload: { nick: value } }), {}, { action: (name: string, args: unknown[]) => calls.push([name, args]) });
    expect(calls).toEqual([['post', [`/x/${value}`, { payload: { nick: value } }]]]);
  });

  it('fails like the client on "@name(" inside a string literal, which the client rewrites to an action', () => {
    expect(() => run('{note: "hello @post(x)"}')).toThrow(/"@post\(" inside a string literal \(at 7\) is rewritten to an action call/);
    expect(() => run('`@get(`')).toThrow(/"@get\(" inside a string literal/);
    expect(run('{mail: "a@b.c", at: "@ x"}')).toEqual({ mail: 'a@b.c', at: '@ x' });
  });

  it('applies operators with JavaScript precedence', () => {
    expect(run('1 + 2 * 3 - 4 / 2')).toBe(5);
    expect(run('$a > 1 && $a < 5 ? "in" : "out"', { a: 3 })).toBe('in');
    expect(run('$x ?? "default"', { x: null })).toBe('default');
    expect(run('!$on || $n === 2', { on: true, n: 2 })).toBe(true);
    expect(run('7 % 4 == "3"')).toBe(true);
    expect(run('typeof $s', { s: 'x' })).toBe('string');
  });

  it('assigns signals, creating paths, and reports writes', () => {
    const signals: Record<string, unknown> = { count: 1 };
    const writes: string[][] = [];
    evaluateExpression('$count++; $count += 10; $user.name = "Bo"; $flag = !$flag', { signals, onWrite: (p) => writes.push(p) });
    expect(signals).toEqual({ count: 12, user: { name: 'Bo' }, flag: true });
    expect(writes).toEqual([['count'], ['count'], ['user', 'name'], ['flag']]);
    expect(run('--$n', { n: 5 })).toBe(4);
  });

  it('calls the allowed helpers only', () => {
    expect(run('$q.trim().toUpperCase()', { q: ' ap ' })).toBe('AP');
    expect(run('$items.includes("b") && $items.length === 2', { items: ['a', 'b'] })).toBe(true);
    expect(run('Math.max($a, 4) + Number("1")', { a: 2 })).toBe(5);
    expect(run('JSON.stringify({a: $a})', { a: 1 })).toBe('{"a":1}');
    expect(run('$price.toFixed(2)', { price: 3 })).toBe('3.00');
    expect(() => run('$items.push(1)', { items: [] })).toThrow('Calling ".push()" is not supported by the page driver');
    expect(() => run('fetch("/x")')).toThrow(/Unknown name "fetch"/);
  });

  it('passes actions and their evaluated arguments to the handler', () => {
    const calls: unknown[] = [];
    run("@post('/ds/x/y', {headers: {'x-csrf': $_csrf}, filterSignals: {include: 'a'}})", { _csrf: 't' }, {
      action: (name: string, args: unknown[]) => calls.push([name, args]),
    });
    expect(calls).toEqual([['post', ['/ds/x/y', { headers: { 'x-csrf': 't' }, filterSignals: { include: 'a' } }]]]);
    expect(() => run("@get('/x')")).toThrow('@get() cannot run here');
  });

  it('gives el and evt, with event methods allowed', () => {
    let prevented = false;
    const evt = { type: 'click', target: { value: 'v' }, preventDefault: () => { prevented = true; } };
    expect(run('evt.preventDefault(); evt.target.value + el.id', {}, { evt, el: { id: 'b' } })).toBe('vb');
    expect(prevented).toBe(true);
  });

  it('keeps prototypes out of reach', () => {
    expect(() => run('$a.constructor', { a: {} })).toThrow(/"constructor" is off limits/);
    expect(() => run('$["__proto__"].x = 1', {})).toThrow(/"__proto__" is off limits/);
    expect(run('{__proto__: {polluted: 1}}')).toEqual({});
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('names the missing signal when a path breaks', () => {
    expect(run('$user.name', {})).toBeUndefined(); // $user is created as '', which has no name
    expect(() => run('$user.name.first', {})).toThrow(/Cannot read "first" of undefined \(the signal \$user\.name is missing\)/);
    expect(() => run('$user.name.first.x', { user: {} })).toThrow(/Cannot read "x" of undefined \(the signal \$user\.name\.first is missing\)/);
  });

  it('refuses what it does not emulate, quoting the expression', () => {
    expect(() => run('() => 1')).toThrow(new ExpressionError('Arrow functions are not supported by the page driver (at 1)', '() => 1'));
    expect(() => run('x => x')).toThrow(/Arrow functions/);
    expect(() => run('new Date()')).toThrow(/"new" is not supported/);
    expect(() => run('el.id = 1', {}, { el: {} })).toThrow(/Only signals \(\$name\) can be assigned/);
    expect(() => run('/re/.test($x)')).toThrow(/Regular expression literals are not supported/);
    expect(() => run('"open')).toThrow(/Unterminated string literal in expression "\\"open"/);
  });
});
