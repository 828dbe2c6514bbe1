import { encodeEvent } from '../protocol/encoder';
import { idSelector } from './css';
import { htmlPatch } from './patch-element';

/** CSS.escape as the CSSOM spec writes it, character by character: the reference. */
function cssEscape(value: string): string {
  let out = '';
  const first = value.charCodeAt(0);
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code === 0) out += '\uFFFD';
    else if ((code >= 0x1 && code <= 0x1f) || code === 0x7f || (i === 0 && code >= 0x30 && code <= 0x39) ||
      (i === 1 && code >= 0x30 && code <= 0x39 && first === 0x2d)) out += `\\${code.toString(16)} `;
    else if (i === 0 && value.length === 1 && code === 0x2d) out += `\\${value[i]}`;
    else if (code >= 0x80 || code === 0x2d || code === 0x5f || (code >= 0x30 && code <= 0x39) ||
      (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a)) out += value[i];
    else out += `\\${value[i]}`;
  }
  return out;
}

describe('idSelector', () => {
  it.each([
    ['history-list', '#history-list'],
    ['_a1', '#_a1'],
    ['-a', '#-a'],
    ['-', '#\\-'],
    ['1a', '#\\31 a'],
    ['-1', '#-\\31 '],
    ['a b', '#a\\ b'],
    ['a.b#c', '#a\\.b\\#c'],
    ['é-ü', '#é-ü'],
    ['a\u0000', '#a\uFFFD'],
  ])('%j -> %j', (id, selector) => {
    expect(idSelector(id)).toBe(selector);
  });

  it('escapes as CSS.escape does for seeded random ids (the plain-id shortcut and the full escape agree)', () => {
    let seed = 12345;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n);
    const alphabet = 'aZ_-09 .#:\u0000\u0001\u007fé\u4e2d';
    for (let k = 0; k < 5000; k++) {
      let id = '';
      for (let i = 1 + rand(6); i > 0; i--) id += alphabet[rand(alphabet.length)];
      expect([id, idSelector(id)]).toEqual([id, `#${cssEscape(id)}`]);
    }
  });
});

describe('a patch with `to`', () => {
  it('has the escaped id as its selector, as written: an escape that ends in a space keeps it', () => {
    const lines = (to: string) => encodeEvent(htmlPatch('<li>x</li>', { to, mode: 'append' })).split('\n');
    expect(lines(`history-list`)).toContain('data: selector #history-list');
    expect(lines('a ')).toContain('data: selector #a\\ ');
    expect(lines('1')).toContain('data: selector #\\31 ');
    expect(lines('x\ny')).toContain('data: selector #x\\a y');
    expect(lines('a')).toContain('data: mode append');
  });

  it('`to` wins over `selector`, and the options object is left as it was', () => {
    const options = { to: 'list', selector: '#other', mode: 'append' as const };
    expect(encodeEvent(htmlPatch('<li>x</li>', options)).split('\n')).toContain('data: selector #list');
    expect(options).toEqual({ to: 'list', selector: '#other', mode: 'append' });
  });
});
