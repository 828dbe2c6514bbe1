import { action, expr, Expression, type ActionMethod } from './actions';

/** The arguments of `@method(...)` when they hold no expression: a JSON array once bracketed. */
function argsOf(source: string, method: string): unknown[] {
  const head = `@${method}(`;
  expect(source.startsWith(head)).toBe(true);
  expect(source.endsWith(')')).toBe(true);
  return JSON.parse(`[${source.slice(head.length, -1)}]`) as unknown[];
}

describe('action', () => {
  it('writes a backend action with the URL as a JSON string', () => {
    expect(action('post', '/ds/counter/increment')).toBe('@post("/ds/counter/increment")');
  });

  it.each([['get'], ['post'], ['put'], ['patch'], ['delete']] as const)('writes @%s', (method: ActionMethod) => {
    expect(action(method, '/x')).toBe(`@${method}("/x")`);
  });

  it('leaves empty or all-undefined options out', () => {
    expect(action('get', '/x', {})).toBe('@get("/x")');
    expect(action('get', '/x', { selector: undefined, retry: undefined })).toBe('@get("/x")');
  });

  it('serialises options as an object literal', () => {
    expect(action('post', '/x', { contentType: 'form' })).toBe('@post("/x",{"contentType":"form"})');
    expect(action('get', '/feed', { openWhenHidden: true, retry: 'always', retryInterval: 1000, retryMaxCount: 3 })).toBe(
      '@get("/feed",{"openWhenHidden":true,"retry":"always","retryInterval":1000,"retryMaxCount":3})',
    );
  });

  it('skips undefined option values at every level', () => {
    expect(action('post', '/x', { selector: '#f', headers: { a: 'b' }, payload: { x: 1, y: undefined } as never, retry: undefined })).toBe(
      '@post("/x",{"selector":"#f","headers":{"a":"b"},"payload":{"x":1}})',
    );
  });

  it('writes nested payloads, arrays and null', () => {
    expect(action('put', '/x', { payload: { list: [1, 'two', null, false, { deep: [] }] } })).toBe(
      '@put("/x",{"payload":{"list":[1,"two",null,false,{"deep":[]}]}})',
    );
  });

  it('writes expr() raw', () => {
    expect(action('post', '/x', { headers: { 'x-csrf-token': expr('$_csrf') } })).toBe(
      '@post("/x",{"headers":{"x-csrf-token":$_csrf}})',
    );
    expect(action('get', '/x', { requestCancellation: expr('$ctrl'), payload: [expr('$a'), 'b'] })).toBe(
      '@get("/x",{"requestCancellation":$ctrl,"payload":[$a,"b"]})',
    );
  });

  it('expr() returns an Expression holding the source', () => {
    const e = expr('$count + 1');
    expect(e).toBeInstanceOf(Expression);
    expect(e.source).toBe('$count + 1');
  });

  it('writes a RegExp filter as its source string', () => {
    expect(action('post', '/x', { filterSignals: { include: /^user\./, exclude: '^_' } })).toBe(
      '@post("/x",{"filterSignals":{"include":"^user\\u005c.","exclude":"^_"}})',
    );
  });

  it('passes unknown options through', () => {
    expect(action('get', '/x', { custom: 1 })).toBe('@get("/x",{"custom":1})');
  });

  it.each([
    ['double quotes', '/x?q=");alert(1);("'],
    ['single quotes', "/x?q=');alert(1);('"],
    ['a closing script tag', '/x?q=</script><script>alert(1)</script>'],
    ['backslashes', '/x\\");alert(1)//\\'],
    ['line breaks', '/x\n);alert(1)\r\n'],
    ['template syntax', '/x?q=${alert(1)}`'],
    ['unicode line separators', '/x\u2028\u2029'],
    ['markers, $ and @', '/x?q=\u{1F595}JS_$\'_DS\u{1F680}@post('],
  ])('keeps a URL with %s inside a string literal of plain ASCII with none of $ @ < > & \' " ` ;', (_name, url) => {
    const source = action('get', url);
    expect(argsOf(source, 'get')).toEqual([url]);
    expect(source.slice(1)).toMatch(/^[\x20-\x7e]*$/);
    expect(source.slice('@get("'.length, -2)).not.toMatch(/[$@<>&'"`;]|\\(?!u[0-9a-f]{4})/);
  });

  it('keeps hostile option keys and values inside JSON string literals', () => {
    const options = {
      headers: { 'x"}:alert(1),{"': '"});alert(1);//', 'x-back': '\\"', 'x-tag': '</script>' },
      selector: "#a'),alert(1)//",
      payload: { '</script>': ['\\', '"', "'", '\n'] },
    };
    const source = action('post', '/x', options);
    expect(argsOf(source, 'post')).toEqual(['/x', options]);
  });
});
