/**
 * Just enough of a TypeScript lexer to edit `app.module.ts` and `main.ts` safely without the
 * TypeScript compiler (which `typescript@7` no longer exposes to JavaScript): comments, strings,
 * template literals and regular expressions are blanked out, so searches only ever see code.
 */

export interface StringLiteral {
  /** Index of the opening quote. */
  start: number;
  /** Index just after the closing quote. */
  end: number;
  /** The text between the quotes (escapes left as written). */
  value: string;
}

export interface ScannedSource {
  readonly text: string;
  /** `text` with every comment, string, template and regex body replaced by spaces (same length). */
  readonly code: string;
  readonly strings: StringLiteral[];
}

const REGEX_MAY_FOLLOW = new Set(['', '(', ',', '=', ':', '[', '!', '&', '|', '?', '{', '}', ';', '+', '-', '*', '%', '<', '>', '~', '^']);

export function scanSource(text: string): ScannedSource {
  const out = text.split('');
  const strings: StringLiteral[] = [];
  const blank = (from: number, to: number) => {
    for (let k = from; k < to; k++) if (out[k] !== '\n') out[k] = ' ';
  };
  let lastSignificant = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    const next = text[i + 1];
    if (c === '/' && next === '/') {
      const end = text.indexOf('\n', i);
      const stop = end === -1 ? text.length : end;
      blank(i, stop);
      i = stop;
      continue;
    }
    if (c === '/' && next === '*') {
      const end = text.indexOf('*/', i + 2);
      const stop = end === -1 ? text.length : end + 2;
      blank(i, stop);
      i = stop;
      continue;
    }
    if (c === '"' || c === "'" || c === '`') {
      let j = i + 1;
      while (j < text.length && text[j] !== c) {
        if (text[j] === '\\') j++;
        else if (c !== '`' && text[j] === '\n') break;
        j++;
      }
      const end = Math.min(j + 1, text.length);
      strings.push({ start: i, end, value: text.slice(i + 1, end - 1) });
      blank(i + 1, end - 1);
      i = end;
      lastSignificant = c;
      continue;
    }
    if (c === '/' && (REGEX_MAY_FOLLOW.has(lastSignificant) || /\b(?:return|typeof|case|in|of)$/.test(text.slice(Math.max(0, i - 8), i).trimEnd()))) {
      let j = i + 1;
      let inClass = false;
      while (j < text.length && text[j] !== '\n') {
        if (text[j] === '\\') j++;
        else if (text[j] === '[') inClass = true;
        else if (text[j] === ']') inClass = false;
        else if (text[j] === '/' && !inClass) break;
        j++;
      }
      blank(i + 1, j);
      i = j + 1;
      while (i < text.length && /[a-z]/i.test(text[i])) i++;
      lastSignificant = 'a';
      continue;
    }
    if (!/\s/.test(c)) lastSignificant = /[\w$]/.test(c) ? 'a' : c;
    i++;
  }
  return { text, code: out.join(''), strings };
}

const CLOSE: Record<string, string> = { '(': ')', '[': ']', '{': '}' };

/** Index of the bracket closing the one at `open`, or -1. */
export function matchingBracket(code: string, open: number): number {
  const stack: string[] = [];
  for (let i = open; i < code.length; i++) {
    const c = code[i];
    if (c in CLOSE) stack.push(CLOSE[c]);
    else if (c === ')' || c === ']' || c === '}') {
      if (stack.pop() !== c) return -1;
      if (stack.length === 0) return i;
    }
  }
  return -1;
}

/** The whitespace that starts the line holding `index`. */
export function indentAt(text: string, index: number): string {
  const lineStart = text.lastIndexOf('\n', index - 1) + 1;
  return /^[ \t]*/.exec(text.slice(lineStart))![0];
}

/** The indentation unit the file uses (two spaces when it cannot tell). */
export function indentUnit(text: string): string {
  const m = /\n([ \t]+)\S/.exec(text);
  if (!m) return '  ';
  return m[1].startsWith('\t') ? '\t' : ' '.repeat(Math.min(m[1].length, 4));
}

export interface ImportStatement {
  start: number;
  end: number;
  /** The module specifier. */
  from: string;
  /** Its quote character. */
  quote: string;
}

/** Top-level `import ... from '...'` and `import '...'` statements, in order. */
export function findImports(source: ScannedSource): ImportStatement[] {
  const { code, text } = source;
  const found: ImportStatement[] = [];
  const re = /(^|[\n;])[ \t]*import\b(?!\s*\()/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(code))) {
    const start = m.index + m[1].length;
    const literal = source.strings.find((s) => s.start > start && !/[;]/.test(code.slice(start, s.start)));
    if (!literal) continue;
    let end = literal.end;
    const rest = /^[ \t]*(?:(?:with|assert)\s*\{[^}]*\}\s*)?;?/.exec(code.slice(end))!;
    end += rest[0].length;
    found.push({ start: text.slice(start).search(/\S/) + start, end, from: literal.value, quote: text[literal.start] });
    re.lastIndex = end;
  }
  return found;
}

/**
 * Adds `import { name } from 'from';` unless the name is imported already: into an existing
 * named import from the same module, or as a new line after the last import.
 */
export function addNamedImport(text: string, name: string, from: string): string {
  const source = scanSource(text);
  const imports = findImports(source);
  for (const statement of imports) {
    if (statement.from !== from) continue;
    const clause = source.code.slice(statement.start, statement.end);
    const open = clause.indexOf('{');
    if (open === -1 || /^import\s+type\b/.test(clause)) continue;
    const close = clause.indexOf('}', open);
    const names = text.slice(statement.start + open + 1, statement.start + close);
    if (names.split(',').some((n) => n.trim().split(/\s+as\s+/)[0].trim() === name)) return text;
    const trimmed = names.replace(/\s+$/, '');
    const trailingComma = trimmed.endsWith(',');
    const insertAt = statement.start + open + 1 + trimmed.length;
    const addition = trimmed.trim() ? `${trailingComma ? '' : ','} ${name}` : ` ${name}`;
    return text.slice(0, insertAt) + addition + (trimmed.trim() ? '' : ' ') + text.slice(insertAt);
  }
  const quote = imports[0]?.quote ?? "'";
  const semi = imports.length && !text.slice(imports[0].start, imports[0].end).trimEnd().endsWith(';') ? '' : ';';
  const line = `import { ${name} } from ${quote}${from}${quote}${semi}`;
  if (!imports.length) return `${line}\n${text}`;
  const last = imports[imports.length - 1];
  return `${text.slice(0, last.end)}\n${line}${text.slice(last.end)}`;
}

/** Whether `code` (scanned) mentions `identifier` as a word outside strings and comments. */
export function mentions(text: string, identifier: string): boolean {
  return new RegExp(`(^|[^\\w$.])${identifier.replace(/[$]/g, '\\$')}(?![\\w$])`).test(scanSource(text).code);
}

/** The `{ ... }` argument of a class decorator such as `@Module({...})`: [open, close] brace indexes. */
export function decoratorObject(text: string, decorator: string): [number, number] | undefined {
  const { code } = scanSource(text);
  const m = new RegExp(`@${decorator}\\s*\\(\\s*`).exec(code);
  if (!m) return undefined;
  const open = m.index + m[0].length;
  if (code[open] !== '{') return undefined;
  const close = matchingBracket(code, open);
  return close === -1 ? undefined : [open, close];
}

/** Where the value of property `name` starts in the object literal spanning [open, close], at its top level. */
function propertyValue(code: string, open: number, close: number, name: string): number | undefined {
  let depth = 0;
  for (let i = open + 1; i < close; i++) {
    const c = code[i];
    if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') depth--;
    else if (depth === 0 && /[\w$]/.test(c) && !/[\w$]/.test(code[i - 1])) {
      const m = new RegExp(`^${name}\\s*:\\s*`).exec(code.slice(i, close));
      if (m) return i + m[0].length;
    }
  }
  return undefined;
}

/**
 * Adds `element` to the array property `property` of a decorator's object literal
 * (`@Module({ imports: [...] })`), creating the property when it is missing. Returns undefined
 * when the shape is not one it can edit safely (e.g. `imports: sharedImports`).
 */
export function addToDecoratorArray(text: string, decorator: string, property: string, element: string): string | undefined {
  const span = decoratorObject(text, decorator);
  if (!span) return undefined;
  const [open, close] = span;
  const { code } = scanSource(text);
  const unit = indentUnit(text);
  const valueAt = propertyValue(code, open, close, property);
  if (valueAt === undefined) {
    const inner = code.slice(open + 1, close);
    if (!inner.trim()) {
      const indent = indentAt(text, open);
      return `${text.slice(0, open + 1)}\n${indent}${unit}${property}: [${element}],\n${indent}${text.slice(close)}`;
    }
    const firstAt = open + 1 + inner.search(/\S/);
    const multiline = text.slice(open + 1, firstAt).includes('\n');
    const lead = multiline ? `${property}: [${element}],\n${indentAt(text, firstAt)}` : `${property}: [${element}], `;
    return text.slice(0, firstAt) + lead + text.slice(firstAt);
  }
  if (code[valueAt] !== '[') return undefined;
  const end = matchingBracket(code, valueAt);
  if (end === -1) return undefined;
  const body = code.slice(valueAt + 1, end);
  if (!body.trim()) return `${text.slice(0, valueAt + 1)}${element}${text.slice(end)}`;
  const lastAt = valueAt + 1 + body.replace(/\s+$/, '').length; // just after the last element (or its comma)
  const trailingComma = code[lastAt - 1] === ',';
  if (body.includes('\n')) {
    const indent = indentAt(text, valueAt + 1 + body.search(/\S/));
    const comma = trailingComma ? '' : ',';
    const closeLine = text.lastIndexOf('\n', end - 1) + 1;
    if (closeLine > lastAt) {
      // `]` on a line of its own: the new element goes on the line before it, after any comment.
      return `${text.slice(0, lastAt)}${comma}${text.slice(lastAt, closeLine)}${indent}${element}${trailingComma ? ',' : ''}\n${text.slice(closeLine)}`;
    }
    return `${text.slice(0, lastAt)}${comma}\n${indent}${element}${text.slice(lastAt)}`;
  }
  return `${text.slice(0, lastAt)}${trailingComma ? ' ' : ', '}${element}${text.slice(lastAt)}`;
}

/**
 * Inserts `statement` on its own line after `const <app> = await NestFactory.create(...)` (or
 * `createApplicationContext`... only `create` makes an HTTP app). `{app}` in the statement is
 * replaced by the variable's name. Undefined when there is no such line.
 */
export function insertAfterAppCreation(text: string, statement: string): string | undefined {
  const { code } = scanSource(text);
  const m = /\b(?:const|let|var)\s+([A-Za-z_$][\w$]*)\s*(?::[^=]+)?=\s*await\s+NestFactory\s*\.\s*create\s*/.exec(code);
  if (!m) return undefined;
  let at = m.index + m[0].length;
  if (code[at] === '<') {
    let depth = 0;
    for (; at < code.length; at++) {
      if (code[at] === '<') depth++;
      else if (code[at] === '>' && --depth === 0) break;
    }
    at = at + 1 + /^\s*/.exec(code.slice(at + 1))![0].length;
  }
  if (code[at] !== '(') return undefined;
  const close = matchingBracket(code, at);
  if (close === -1) return undefined;
  let end = close + 1;
  const semi = /^[ \t]*;/.exec(code.slice(end));
  if (semi) end += semi[0].length;
  const indent = indentAt(text, m.index);
  return `${text.slice(0, end)}\n${indent}${statement.replaceAll('{app}', m[1])}${semi ? ';' : ''}${text.slice(end)}`;
}

/** Replaces the first match of `pattern` in code (never in a string or comment), or undefined when there is none. */
export function replaceInCode(text: string, pattern: RegExp, replacement: string): string | undefined {
  const m = pattern.exec(scanSource(text).code);
  return m ? text.slice(0, m.index) + replacement + text.slice(m.index + m[0].length) : undefined;
}
