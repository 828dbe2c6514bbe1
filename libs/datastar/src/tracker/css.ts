/** An identifier CSS.escape leaves as it is: a letter or _ first (or - and one of them), then letters, digits, _ and -. */
const PLAIN_ID = /^-?[A-Za-z_\u0080-\uFFFF][\w\-\u0080-\uFFFF]*$/;

/** CSS.escape for ids (Node has no CSS global): `to: 'history-list'` -> `#history-list`. */
export function idSelector(id: string): string {
  // Nearly every id needs no escape: one regex test, not three per character (bench: dispatch profile).
  if (PLAIN_ID.test(id)) return `#${id}`;
  let out = '#';
  for (let i = 0; i < id.length; i++) {
    const ch = id[i];
    const code = id.charCodeAt(i);
    if (code === 0) out += '\uFFFD';
    else if (ch === '-' && id.length === 1) out += '\\-'; // a lone `-` is not an identifier
    else if (/[A-Za-z_\-\u0080-\uFFFF]/.test(ch) || (/[0-9]/.test(ch) && i > 0 && !(i === 1 && id[0] === '-'))) out += ch;
    else if (/[0-9]/.test(ch) || code < 0x20 || code === 0x7f) out += `\\${code.toString(16)} `;
    else out += `\\${ch}`;
  }
  return out;
}
