import { readSignalsFromHtml } from 'nestjs-datastar/testing';
import { attributeKey, parseDataAttribute } from './data-attribute';
import { decodeHtmlEntities, scanStartTags, scriptBodies, topLevelIds } from './html-scan';

describe('html scanning', () => {
  it('finds top-level ids only, through void, self-closed and raw-text elements', () => {
    const html = '<!-- <p id="comment"> --><div id="a"><span id="inner"></span></div>\n<input id="b"><br/>'
      + '<script id="s">if (a < b) document.write("<div id=\'fake\'>")</script><svg id="c"><path/></svg>';
    expect(topLevelIds(html)).toEqual(['a', 'b', 's', 'c']);
  });

  it('reads attributes quoted, unquoted, valueless, and decodes entities', () => {
    const [tag] = scanStartTags('<input ID=x data-bind:query disabled value=\'a &amp; b\' data-x="&quot;&#39;&#x41;&unknown;">');
    expect(tag.attributes).toEqual([['id', 'x'], ['data-bind:query', ''], ['disabled', ''], ['value', 'a & b'], ['data-x', '"\'A&unknown;']]);
  });

  it('decodes only real references', () => {
    expect(decodeHtmlEntities('&lt;b&gt; &amp;amp; &#0; &constructor; &nbsp;')).toBe('<b> &amp; \ufffd &constructor; \u00a0');
  });

  it('extracts script bodies', () => {
    expect(scriptBodies('<script data-effect="el.remove()">a()</script><p></p><SCRIPT>b()</SCRIPT >')).toEqual(['a()', 'b()']);
  });
});

describe('data attributes', () => {
  it('splits plugin, key and modifiers', () => {
    const a = parseDataAttribute('data-on:click__debounce.200ms.leading__prevent')!;
    expect(a.plugin).toBe('on');
    expect(a.key).toBe('click');
    expect([...a.mods]).toEqual([['debounce', ['200ms', 'leading']], ['prevent', []]]);
    expect(parseDataAttribute('data-init')).toEqual({ plugin: 'init', key: '', mods: new Map() });
    expect(parseDataAttribute('class')).toBeNull();
  });

  it('cases signal names like the client', () => {
    expect(attributeKey(parseDataAttribute('data-signals:first-name')!)).toBe('firstName');
    expect(attributeKey(parseDataAttribute('data-signals:user.first-name')!)).toBe('user.firstName');
    expect(attributeKey(parseDataAttribute('data-signals:my-value__case.kebab')!)).toBe('my-value');
    expect(attributeKey(parseDataAttribute('data-signals:my-value__case.snake')!)).toBe('my_value');
    expect(attributeKey(parseDataAttribute('data-signals:my-value__case.pascal')!)).toBe('MyValue');
    // Only a dash before a lowercase letter goes: digits stay where they are.
    expect(attributeKey(parseDataAttribute('data-signals:v2api')!)).toBe('v2api');
    expect(attributeKey(parseDataAttribute('data-signals:item-2')!)).toBe('item-2');
  });

  it('keeps event and class names as written, like the client', () => {
    expect(attributeKey(parseDataAttribute('data-class:mt2')!, 'kebab')).toBe('mt2');
    expect(attributeKey(parseDataAttribute('data-on:my-event2')!, 'kebab')).toBe('my-event2');
    expect(attributeKey(parseDataAttribute('data-on:my-event__case.camel')!, 'kebab')).toBe('myEvent');
  });

  it('reads a page\'s initial signals in document order, with __ifmissing', () => {
    const html = '<div data-signals="{&quot;count&quot;:1,&quot;user&quot;:{&quot;name&quot;:&quot;Ada&quot;}}">'
      + '<p data-signals:count="2" data-signals:user.role="\'admin\'"></p>'
      + '<p data-signals:count__ifmissing="3" data-signals:doubled="$count * 2" data-signals="{user: {name: null}}"></p></div>';
    expect(readSignalsFromHtml(html)).toEqual({ count: 2, doubled: 4, user: { role: 'admin' } });
  });

  it('says what is wrong with a data-signals value that is not an object', () => {
    expect(() => readSignalsFromHtml('<div data-signals="[1]"></div>')).toThrow('data-signals="[1]" must be an object literal such as {"count": 0}.');
  });
});
