/**
 * The one way a value enters a Datastar expression (`@post(...)` options, `data-signals`, live
 * actions). Datastar 1.0.2 does not parse an expression before compiling it: it rewrites the text
 * (escape markers put back with `String.prototype.replace`, `$name` to signal reads, `@name(` to
 * action calls even inside string literals) and hands the result to `Function`. So a literal must
 * hold no character those rewrites look for, whatever the value contains.
 */

/** A piece of Datastar expression written as is, e.g. `expr('$_csrf')` as a header value. */
export class Expression {
  constructor(readonly source: string) {}
}

/** Marks `source` as a Datastar expression rather than a string literal. */
export function expr(source: string): Expression {
  return new Expression(source);
}

/**
 * Code units a string literal keeps as they are. Everything else is written `\uXXXX`: `$` and `@`
 * (signal and action rewriting), every non-ASCII unit (so the client's escape markers `🖕JS_` and
 * `_DS🚀`, U+2028 and U+2029 never appear), quotes, backslash and backtick (the client finds string
 * literals with regular expressions that misread `\\"`), `;` (its statement splitter), `<`, `>` and
 * `&` (`</script>`, `<!--` and entities), and control characters.
 */
const PLAIN = /^[A-Za-z0-9 !#%()*+,\-./:=?[\]^_{|}~]*$/;
const NOT_PLAIN = /[^A-Za-z0-9 !#%()*+,\-./:=?[\]^_{|}~]/g;

/**
 * A value as a Datastar expression literal: JSON's shapes (objects, arrays, strings, finite numbers,
 * booleans, null; `toJSON` honoured, `undefined` and functions left out of objects and `null` in
 * arrays), with strings and keys written by {@link stringLiteral}. An {@link Expression} is written
 * raw; a RegExp becomes its source as a string. Without Expressions the result is also valid JSON.
 * @example expressionLiteral({ nick: '@post($x)' }) // {"nick":"\u0040post(\u0024x)"}
 */
export function expressionLiteral(value: unknown): string {
  return write(value, '', []) ?? 'null';
}

/** A string as a double-quoted literal that survives the client's rewrites byte for byte. */
export function stringLiteral(text: string): string {
  return PLAIN.test(text) ? `"${text}"` : `"${text.replace(NOT_PLAIN, escapeUnit)}"`;
}

function escapeUnit(unit: string): string {
  return `\\u${unit.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

/** undefined when the value has no JSON form (undefined, functions, symbols). */
function write(value: unknown, key: string, parents: object[]): string | undefined {
  if (value instanceof Expression) return value.source;
  if (value instanceof RegExp) return stringLiteral(value.source);
  if (value !== null && typeof value === 'object' && typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    value = (value as { toJSON(key: string): unknown }).toJSON(key);
  }
  // Boxed primitives are written as their value, like JSON.stringify does.
  if (value instanceof Number || value instanceof String || value instanceof Boolean) value = value.valueOf();
  switch (typeof value) {
    case 'string': return stringLiteral(value);
    case 'number': return Number.isFinite(value) ? String(value) : 'null';
    case 'boolean': return value ? 'true' : 'false';
    case 'bigint': throw new TypeError(`A BigInt (${String(value)}n) has no expression literal: convert it to a number or a string first.`);
    case 'object': break;
    default: return undefined;
  }
  if (value === null) return 'null';
  if (parents.includes(value)) throw new TypeError('A circular structure has no expression literal: pass a tree of plain values.');
  parents.push(value);
  let out: string;
  if (Array.isArray(value)) {
    out = `[${value.map((item, i) => write(item, String(i), parents) ?? 'null').join(',')}]`;
  } else {
    const parts: string[] = [];
    for (const name of Object.keys(value)) {
      const item = write((value as Record<string, unknown>)[name], name, parents);
      if (item !== undefined) parts.push(`${stringLiteral(name)}:${item}`);
    }
    out = `{${parts.join(',')}}`;
  }
  parents.pop();
  return out;
}
