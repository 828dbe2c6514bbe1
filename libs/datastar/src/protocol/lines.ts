/** A lone CR ends a line in the client's SSE parser: split on CRLF, CR and LF alike. */
const LINE_BREAK = /\r\n|\r|\n/;
const LINE_BREAKS = /[\r\n]+/g;

/** Writes `value` as data lines `key <line>`, one per line of `value` (never trimmed). */
export function dataLines(key: string, value: string): string {
  if (value.indexOf('\r') === -1) {
    // No CR (nearly always): a plain string split, not a regex one (bench: encoding).
    return value.indexOf('\n') === -1 ? `${key} ${value}` : `${key} ${value.split('\n').join(`\n${key} `)}`;
  }
  const lines = value.split(LINE_BREAK);
  let out = `${key} ${lines[0]}`;
  for (let i = 1; i < lines.length; i++) out += `\n${key} ${lines[i]}`;
  return out;
}

/** Removes line breaks from a value that must stay on one line (ids, selectors, names). */
export function singleLine(value: string): string {
  return hasLineBreak(value) ? value.replace(LINE_BREAKS, '') : value;
}

/** Two indexOf scans cost a fraction of a regex test on the common, single-line case (bench: encoding). */
function hasLineBreak(value: string): boolean {
  return value.indexOf('\n') !== -1 || value.indexOf('\r') !== -1;
}
