import { encodeEvent } from './encoder';
import { patchElements, removeElements } from './elements';
import { ELEMENT_PATCH_MODES, type ElementNamespace, type ElementPatchMode } from './protocol.constants';

const EV = 'event: datastar-patch-elements\n';

/** Every line after `event:` (and `id:`/`retry:`) must be a `data: ` line; no CR anywhere, no early blank line. */
function expectSafeEvent(sse: string): string[] {
  expect(sse).not.toMatch(/\r/);
  expect(sse.endsWith('\n\n')).toBe(true);
  const lines = sse.slice(0, -2).split('\n');
  expect(lines[0]).toBe('event: datastar-patch-elements');
  let i = 1;
  if (lines[i]?.startsWith('id: ')) i++;
  if (lines[i]?.startsWith('retry: ')) i++;
  for (const line of lines.slice(i)) {
    expect(line.startsWith('data: ')).toBe(true);
  }
  // No other `event:`/`id:`/`retry:` fields anywhere.
  expect(lines.filter((l) => l.startsWith('event:'))).toHaveLength(1);
  expect(lines.filter((l) => l.startsWith('id:')).length).toBeLessThanOrEqual(1);
  expect(lines.filter((l) => l.startsWith('retry:')).length).toBeLessThanOrEqual(1);
  return lines;
}

describe('patchElements: exact bytes', () => {
  it('writes elements alone with the defaults (outer mode, no selector, html namespace)', () => {
    expect(encodeEvent(patchElements('<div id="x">hi</div>'))).toBe(
      `${EV}data: elements <div id="x">hi</div>\n\n`,
    );
  });

  it('omits an explicit default mode "outer"', () => {
    expect(encodeEvent(patchElements('<div id="x">hi</div>', { mode: 'outer' }))).toBe(
      `${EV}data: elements <div id="x">hi</div>\n\n`,
    );
  });

  it('writes the selector for outer mode', () => {
    expect(encodeEvent(patchElements('<div>hi</div>', { selector: '#x' }))).toBe(
      `${EV}data: selector #x\ndata: elements <div>hi</div>\n\n`,
    );
  });

  it('writes selector and mode inner', () => {
    expect(encodeEvent(patchElements('<p>hi</p>', { selector: '#x', mode: 'inner' }))).toBe(
      'event: datastar-patch-elements\ndata: selector #x\ndata: mode inner\ndata: elements <p>hi</p>\n\n',
    );
  });

  it('writes mode replace without a selector', () => {
    expect(encodeEvent(patchElements('<div id="x">new</div>', { mode: 'replace' }))).toBe(
      `${EV}data: mode replace\ndata: elements <div id="x">new</div>\n\n`,
    );
  });

  it.each(['prepend', 'append', 'before', 'after'] as const)('writes mode %s with its selector', (mode) => {
    expect(encodeEvent(patchElements('<li>1</li>', { selector: '#list', mode }))).toBe(
      `${EV}data: selector #list\ndata: mode ${mode}\ndata: elements <li>1</li>\n\n`,
    );
  });

  it('writes mode remove with a selector and no elements line', () => {
    expect(encodeEvent(patchElements('', { selector: '#x', mode: 'remove' }))).toBe(
      `${EV}data: selector #x\ndata: mode remove\n\n`,
    );
  });

  it('keeps elements given in remove mode', () => {
    expect(encodeEvent(patchElements('<div id="a"></div>', { selector: '#x', mode: 'remove' }))).toBe(
      `${EV}data: selector #x\ndata: mode remove\ndata: elements <div id="a"></div>\n\n`,
    );
  });

  it('covers all 8 modes of the protocol', () => {
    expect([...ELEMENT_PATCH_MODES].sort()).toEqual(
      ['after', 'append', 'before', 'inner', 'outer', 'prepend', 'remove', 'replace'],
    );
    for (const mode of ELEMENT_PATCH_MODES) {
      const sse = encodeEvent(patchElements('<i>x</i>', { selector: '#t', mode }));
      const expectedMode = mode === 'outer' ? '' : `data: mode ${mode}\n`;
      expect(sse).toBe(`${EV}data: selector #t\n${expectedMode}data: elements <i>x</i>\n\n`);
    }
  });

  it.each([['svg'], ['mathml']] as const)('writes namespace %s', (namespace: ElementNamespace) => {
    expect(encodeEvent(patchElements('<circle r="1"/>', { selector: '#s', mode: 'inner', namespace }))).toBe(
      `${EV}data: selector #s\ndata: mode inner\ndata: namespace ${namespace}\ndata: elements <circle r="1"/>\n\n`,
    );
  });

  it('omits the default namespace html', () => {
    expect(encodeEvent(patchElements('<p id="p"></p>', { namespace: 'html' }))).toBe(
      `${EV}data: elements <p id="p"></p>\n\n`,
    );
  });

  it('writes useViewTransition true and omits false', () => {
    expect(encodeEvent(patchElements('<p id="p"></p>', { useViewTransition: true }))).toBe(
      `${EV}data: useViewTransition true\ndata: elements <p id="p"></p>\n\n`,
    );
    expect(encodeEvent(patchElements('<p id="p"></p>', { useViewTransition: false }))).toBe(
      `${EV}data: elements <p id="p"></p>\n\n`,
    );
  });

  it('writes viewTransitionSelector only together with useViewTransition', () => {
    expect(encodeEvent(patchElements('<p id="p"></p>', { useViewTransition: true, viewTransitionSelector: '#main' }))).toBe(
      `${EV}data: useViewTransition true\ndata: viewTransitionSelector #main\ndata: elements <p id="p"></p>\n\n`,
    );
    expect(encodeEvent(patchElements('<p id="p"></p>', { viewTransitionSelector: '#main' }))).toBe(
      `${EV}data: elements <p id="p"></p>\n\n`,
    );
  });

  it('writes every option at once in a stable order', () => {
    const sse = encodeEvent(patchElements('<g></g>', {
      selector: '#svg', mode: 'append', useViewTransition: true, viewTransitionSelector: '.vt', namespace: 'svg',
      eventId: 'e-1', retryDuration: 2500,
    }));
    expect(sse).toBe(
      `${EV}id: e-1\nretry: 2500\ndata: selector #svg\ndata: mode append\ndata: useViewTransition true\n`
      + 'data: viewTransitionSelector .vt\ndata: namespace svg\ndata: elements <g></g>\n\n',
    );
  });

  it('writes eventId as an id: field', () => {
    expect(encodeEvent(patchElements('<p id="p"></p>', { eventId: '42' }))).toBe(
      `${EV}id: 42\ndata: elements <p id="p"></p>\n\n`,
    );
  });

  it('omits an empty eventId', () => {
    expect(encodeEvent(patchElements('<p id="p"></p>', { eventId: '' }))).toBe(
      `${EV}data: elements <p id="p"></p>\n\n`,
    );
  });

  it('omits the default retryDuration 1000 and writes any other value', () => {
    expect(encodeEvent(patchElements('<p id="p"></p>', { retryDuration: 1000 }))).toBe(
      `${EV}data: elements <p id="p"></p>\n\n`,
    );
    expect(encodeEvent(patchElements('<p id="p"></p>', { retryDuration: 5000 }))).toBe(
      `${EV}retry: 5000\ndata: elements <p id="p"></p>\n\n`,
    );
    expect(encodeEvent(patchElements('<p id="p"></p>', { retryDuration: 0 }))).toBe(
      `${EV}retry: 0\ndata: elements <p id="p"></p>\n\n`,
    );
  });

  it.each([-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])('refuses retryDuration %p', (retryDuration) => {
    expect(() => patchElements('<p id="p"></p>', { retryDuration })).toThrow(TypeError);
  });

  it('writes one data line per line of HTML, keeping indentation and trailing spaces', () => {
    const html = '<div id="a">\n  <p>x</p>  \n</div>';
    expect(encodeEvent(patchElements(html))).toBe(
      `${EV}data: elements <div id="a">\ndata: elements   <p>x</p>  \ndata: elements </div>\n\n`,
    );
  });

  it('writes empty HTML as "data: elements " with the trailing space', () => {
    expect(encodeEvent(patchElements('', { selector: '#x', mode: 'inner' }))).toBe(
      `${EV}data: selector #x\ndata: mode inner\ndata: elements \n\n`,
    );
  });

  it('writes empty lines inside HTML as "data: elements " (never trimmed)', () => {
    expect(encodeEvent(patchElements('<p id="a">1</p>\n\n<p id="b">2</p>\n'))).toBe(
      `${EV}data: elements <p id="a">1</p>\ndata: elements \ndata: elements <p id="b">2</p>\ndata: elements \n\n`,
    );
  });

  it('keeps the MessageEvent shape for multi-line HTML: data, JSON and spread read the same lines', () => {
    const event = patchElements('<p id="a">1</p>\r\n<p id="b">2</p>', { selector: '#x', mode: 'inner' });
    const data = 'selector #x\nmode inner\nelements <p id="a">1</p>\nelements <p id="b">2</p>';
    expect(event).toEqual({ type: 'datastar-patch-elements', data });
    expect(JSON.parse(JSON.stringify(event))).toEqual({ type: 'datastar-patch-elements', data });
    expect({ ...event }).toEqual({ type: 'datastar-patch-elements', data });
  });

  it('encodes what the event holds when its fields are changed after it was made', () => {
    const event = patchElements('<p id="a">1</p>\n<p id="b">2</p>');
    event.id = '7';
    event.data = 'elements <p id="c">3</p>';
    expect(encodeEvent(event)).toBe(`${EV}id: 7\ndata: elements <p id="c">3</p>\n\n`);
    const single = patchElements('<p id="a">1</p>');
    single.data = 'elements <p id="d">4</p>\nelements <p id="e">5</p>';
    expect(encodeEvent(single)).toBe(`${EV}data: elements <p id="d">4</p>\ndata: elements <p id="e">5</p>\n\n`);
  });

  it('returns the shape of a MessageEvent', () => {
    expect(patchElements('<p id="p"></p>', { eventId: 'x', retryDuration: 10 })).toEqual({
      type: 'datastar-patch-elements',
      data: 'elements <p id="p"></p>',
      id: 'x',
      retry: 10,
    });
  });
});

describe('patchElements: unsafe input', () => {
  it.each([
    ['LF', '<p id="a">1</p>\nevent: evil\nid: 1\nretry: 1\n\ndata: x'],
    ['CR', '<p id="a">1</p>\revent: evil\rid: 1\rretry: 1\r\rdata: x'],
    ['CRLF', '<p id="a">1</p>\r\nevent: evil\r\nid: 1\r\nretry: 1\r\n\r\ndata: x'],
    ['mixed', 'a\r\n\rb\n\r\nc\r'],
  ])('never lets %s in elements forge a field or end the event', (_name, html) => {
    const lines = expectSafeEvent(encodeEvent(patchElements(html)));
    expect(lines.slice(1).every((l) => l.startsWith('data: elements '))).toBe(true);
  });

  it('splits CR, LF and CRLF alike into elements lines', () => {
    expect(encodeEvent(patchElements('a\rb\r\nc\nd'))).toBe(
      `${EV}data: elements a\ndata: elements b\ndata: elements c\ndata: elements d\n\n`,
    );
  });

  it('strips line breaks from the selector', () => {
    const sse = encodeEvent(patchElements('<p>x</p>', { selector: '#x\r\nevent: evil\rid: 9\n', mode: 'inner' }));
    expectSafeEvent(sse);
    expect(sse).toBe(`${EV}data: selector #xevent: evilid: 9\ndata: mode inner\ndata: elements <p>x</p>\n\n`);
  });

  it('strips line breaks from viewTransitionSelector', () => {
    const sse = encodeEvent(patchElements('<p id="a"></p>', {
      useViewTransition: true, viewTransitionSelector: '.a\nevent: evil\r\n',
    }));
    expectSafeEvent(sse);
    expect(sse).toBe(`${EV}data: useViewTransition true\ndata: viewTransitionSelector .aevent: evil\ndata: elements <p id="a"></p>\n\n`);
  });

  it('strips line breaks from eventId', () => {
    const sse = encodeEvent(patchElements('<p id="a"></p>', { eventId: '1\r\nevent: evil\rretry: 1\n' }));
    expectSafeEvent(sse);
    expect(sse).toBe(`${EV}id: 1event: evilretry: 1\ndata: elements <p id="a"></p>\n\n`);
  });

  it.each(['morph', 'OUTER', 'upsertAttributes', ''])('throws on invalid mode %p', (mode) => {
    expect(() => patchElements('<p>x</p>', { selector: '#x', mode: mode as ElementPatchMode })).toThrow(TypeError);
  });

  it.each(['xml', 'SVG', 'xhtml'])('throws on invalid namespace %p', (namespace) => {
    expect(() => patchElements('<p>x</p>', { namespace: namespace as ElementNamespace })).toThrow(TypeError);
  });

  it.each(['inner', 'prepend', 'append', 'before', 'after', 'remove'] as const)(
    'throws for mode %s without a selector',
    (mode) => {
      expect(() => patchElements('<p>x</p>', { mode })).toThrow(/selector/);
      expect(() => patchElements('<p>x</p>', { mode, selector: '   ' })).toThrow(/selector/);
      expect(() => patchElements('<p>x</p>', { mode, selector: '\r\n' })).toThrow(/selector/);
    },
  );

  it.each(['outer', 'replace'] as const)('accepts mode %s without a selector', (mode) => {
    expect(() => patchElements('<p id="x">x</p>', { mode })).not.toThrow();
  });
});

describe('removeElements', () => {
  it('writes a remove-mode patch with the selector and no elements', () => {
    expect(encodeEvent(removeElements('#x'))).toBe(`${EV}data: selector #x\ndata: mode remove\n\n`);
  });

  it('takes useViewTransition, eventId and retryDuration', () => {
    expect(encodeEvent(removeElements('.item', { useViewTransition: true, eventId: 'r1', retryDuration: 3000 }))).toBe(
      `${EV}id: r1\nretry: 3000\ndata: selector .item\ndata: mode remove\ndata: useViewTransition true\n\n`,
    );
  });

  it('strips line breaks from the selector', () => {
    const sse = encodeEvent(removeElements('#a\r\nevent: evil'));
    expectSafeEvent(sse);
    expect(sse).toBe(`${EV}data: selector #aevent: evil\ndata: mode remove\n\n`);
  });

  it('throws without a selector', () => {
    expect(() => removeElements('')).toThrow(TypeError);
    expect(() => removeElements('  \n')).toThrow(TypeError);
  });
});
