import { parseHTML } from 'linkedom';
import { applyElementsPatch } from './element-patch.applier';
import type { PatchElementsView } from './sse-event.interface';

const PAGE = '<!doctype html><html><head><title>t</title></head><body>'
  + '<ul id="list"><li id="a">a</li><li id="b">b</li></ul><p class="note">1</p><p class="note">2</p></body></html>';

function setup() {
  const { document } = parseHTML(PAGE) as unknown as { document: Document };
  const apply = (view: Partial<PatchElementsView>) => applyElementsPatch(
    document,
    { mode: 'outer', elements: '', namespace: 'html', useViewTransition: false, ...view },
    (html) => (parseHTML(html) as unknown as { document: Document }).document,
  );
  return { document, apply, body: () => document.body.innerHTML };
}

describe('applyElementsPatch', () => {
  it('outer without selector: replaces each top-level element by id', () => {
    const { apply, body } = setup();
    const result = apply({ elements: '<li id="a">A</li>\n<li id="b" class="x">B</li>' });
    expect(body()).toContain('<ul id="list"><li id="a">A</li><li id="b" class="x">B</li></ul>');
    expect(result.inserted.map((e) => e.id)).toEqual(['a', 'b']);
    expect([...result.removed.keys()]).toEqual(['a', 'b']);
    expect(result.errors).toEqual([]);
  });

  it('replace without selector works by id too', () => {
    const { apply, body } = setup();
    apply({ mode: 'replace', elements: '<li id="b">new</li>' });
    expect(body()).toContain('<li id="a">a</li><li id="b">new</li>');
  });

  it('reports an id that is not in the page, and a top-level element without id', () => {
    const { apply } = setup();
    expect(apply({ elements: '<div id="ghost"></div><span></span>' }).errors).toEqual([
      'No element with id "ghost" to patch (NoTargetsFound): render it first or send a selector.',
      'A top-level <span> without an id cannot be patched without a selector (NoTargetsFound).',
    ]);
  });

  it('outer with selector: replaces every match with the whole fragment', () => {
    const { apply, body } = setup();
    apply({ selector: '.note', elements: '<em>x</em><em>y</em>' });
    expect(body()).toContain('</ul><em>x</em><em>y</em><em>x</em><em>y</em>');
  });

  it('inner: replaces the children and keeps the target', () => {
    const { apply, document } = setup();
    const list = document.getElementById('list');
    const result = apply({ selector: '#list', mode: 'inner', elements: '<li id="c">c</li>' });
    expect(document.getElementById('list')).toBe(list);
    expect(list!.innerHTML).toBe('<li id="c">c</li>');
    expect([...result.removed.keys()]).toEqual(['a', 'b']);
  });

  it.each([
    ['prepend', '<ul id="list"><li>n</li><li id="a">a</li><li id="b">b</li></ul>'],
    ['append', '<ul id="list"><li id="a">a</li><li id="b">b</li><li>n</li></ul>'],
    ['before', '<li>n</li><ul id="list">'],
    ['after', '</ul><li>n</li><p class="note">1</p>'],
  ])('%s: inserts relative to the target', (mode, expected) => {
    const { apply, body } = setup();
    const result = apply({ selector: '#list', mode, elements: '<li>n</li>' });
    expect(body()).toContain(expected);
    expect(result.inserted).toHaveLength(1);
  });

  it('remove: takes every match out, with no elements needed', () => {
    const { apply, body } = setup();
    apply({ selector: '.note', mode: 'remove' });
    expect(body()).toBe('<ul id="list"><li id="a">a</li><li id="b">b</li></ul>');
  });

  it('applies a fresh copy of the fragment to each target', () => {
    const { apply, document } = setup();
    apply({ selector: '.note', mode: 'append', elements: '<b>!</b>' });
    expect([...document.querySelectorAll('.note')].map((p) => p.innerHTML)).toEqual(['1<b>!</b>', '2<b>!</b>']);
  });

  it('needs a selector for modes other than outer and replace', () => {
    const { apply } = setup();
    expect(apply({ mode: 'append', elements: '<li id="a">x</li>' }).errors[0]).toMatch(/Patch mode "append" needs a selector/);
  });

  it('reports unknown modes, unmatched and invalid selectors', () => {
    const { apply } = setup();
    expect(apply({ selector: '#list', mode: 'sideways' }).errors[0]).toMatch(/^Unknown patch mode "sideways"/);
    expect(apply({ selector: '#none', mode: 'inner', elements: 'x' }).errors).toEqual(['No element matches "#none" (NoTargetsFound).']);
  });

  it('parses svg fragments in the svg namespace', () => {
    const { apply, document } = setup();
    document.body.insertAdjacentHTML('beforeend', '<svg id="chart"></svg>');
    apply({ selector: '#chart', mode: 'append', namespace: 'svg', elements: '<circle id="dot" r="2"></circle>' });
    expect(document.getElementById('dot')!.namespaceURI).toBe('http://www.w3.org/2000/svg');
  });

  it('patches a whole body document without a selector', () => {
    const { apply, document } = setup();
    const result = apply({ elements: '<html><body class="b2"><main id="m">new</main></body></html>' });
    expect(document.body.outerHTML).toBe('<body class="b2"><main id="m">new</main></body>');
    expect(result.inserted.map((e) => e.id)).toEqual(['m']);
  });
});
