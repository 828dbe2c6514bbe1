/** What starts every SSE data line. */
export const DATA_PREFIX = 'data: ';

/** A lone CR ends a line in the client's SSE parser: split on CRLF, CR and LF alike. */
const LINE_BREAK = /\r\n|\r|\n/;
const LINE_BREAKS = /[\r\n]+/g;

/**
 * `value` as SSE data lines, `data: key <line>\n` for each line of `value` (never trimmed), in
 * one pass: no `key <line>` text is built on the way.
 */
export function sseDataLines(key: string, value: string): string {
  const prefix = `${DATA_PREFIX}${key} `;
  if (value.indexOf('\r') === -1) return prefixLines(prefix, value);
  let out = '';
  for (const line of value.split(LINE_BREAK)) out += `${prefix}${line}\n`;
  return out;
}

/** Lines joined with `\n` (none holding a CR) as SSE data lines. */
export function sseLines(text: string): string {
  return prefixLines(DATA_PREFIX, text);
}

/**
 * `prefix` before each line of `text` (split on LF only), each line ended: slices between indexOf
 * hits, cheaper than a split and a join or a replaceAll (bench: encoding, dispatch profile).
 */
function prefixLines(prefix: string, text: string): string {
  const next = `\n${prefix}`;
  let out = prefix;
  let start = 0;
  let end: number;
  while ((end = text.indexOf('\n', start)) !== -1) {
    out += text.slice(start, end) + next;
    start = end + 1;
  }
  return `${out}${text.slice(start)}\n`;
}

/** Removes line breaks from a value that must stay on one line (ids, selectors, names). */
export function singleLine(value: string): string {
  return hasLineBreak(value) ? value.replace(LINE_BREAKS, '') : value;
}

/** Two indexOf scans cost a fraction of a regex test on the common, single-line case (bench: encoding). */
export function hasLineBreak(value: string): boolean {
  return value.indexOf('\n') !== -1 || value.indexOf('\r') !== -1;
}
