/**
 * Parser for the subset of Datastar expressions the page driver runs. Datastar itself compiles
 * attribute values to JavaScript with `Function()`; a test tool should not run arbitrary code
 * from the page it loads, so this parses a small, safe language instead:
 *
 * - signals: `$count`, `$user.name`, `$items[0]`, `$['a-b']` (a hyphen continues a name,
 *   as in the client: `$foo-bar` is the signal `foo-bar`; write `$foo - 1` to subtract);
 * - literals: numbers, '...'/"..." strings, `template ${literals}`, true/false/null/undefined,
 *   arrays, object literals (`{count: 0, 'a': $x}`);
 * - operators: `! - + typeof`, `* / %`, `+ -`, `< > <= >=`, `== != === !==`, `&& || ??`,
 *   `a ? b : c`, `=`/`+=`/`-=`/`*=`/`/=` and `++`/`--` on signals, `;` between statements;
 * - member access `.x`, `?.x`, `[x]`; calls of a fixed list of safe functions and methods;
 * - actions: `@get|@post|@put|@patch|@delete(url, options)`.
 *
 * Not supported (a clear error says so): arrow functions, `new`, regex literals, assignments
 * to anything but signals, spread, `in`/`instanceof`, bitwise operators.
 */

export type Node =
  | { kind: 'literal'; value: unknown }
  | { kind: 'template'; strings: string[]; exprs: Node[] }
  | { kind: 'signals' }
  | { kind: 'identifier'; name: string }
  | { kind: 'member'; object: Node; property: Node; optional: boolean }
  | { kind: 'call'; callee: Node; args: Node[]; optional: boolean }
  | { kind: 'action'; name: string; args: Node[] }
  | { kind: 'unary'; op: string; arg: Node }
  | { kind: 'update'; op: '++' | '--'; prefix: boolean; target: Node }
  | { kind: 'binary'; op: string; left: Node; right: Node }
  | { kind: 'conditional'; test: Node; then: Node; otherwise: Node }
  | { kind: 'assign'; op: string; target: Node; value: Node }
  | { kind: 'array'; items: Node[] }
  | { kind: 'object'; entries: Array<[string, Node]> }
  | { kind: 'sequence'; items: Node[] };

/** Why an expression could not be parsed or run; the message names the expression. */
export class ExpressionError extends Error {
  constructor(message: string, readonly source?: string) {
    super(source === undefined ? message : `${message} in expression ${JSON.stringify(source)}`);
    this.name = 'ExpressionError';
  }
}

type Token =
  | { t: 'num'; v: number; pos: number }
  | { t: 'str'; v: string; pos: number }
  | { t: 'tpl'; strings: string[]; exprs: string[]; pos: number }
  | { t: 'sig'; path: string[]; pos: number }
  | { t: 'act'; v: string; pos: number }
  | { t: 'id'; v: string; pos: number }
  | { t: 'punc'; v: string; pos: number }
  | { t: 'eof'; pos: number };

const PUNCTUATORS = [
  '===', '!==', '...', '**', '==', '!=', '<=', '>=', '&&', '||', '??', '?.', '++', '--', '+=', '-=', '*=', '/=', '=>',
  '(', ')', '[', ']', '{', '}', ',', ':', ';', '?', '.', '+', '-', '*', '/', '%', '!', '<', '>', '=',
];
const SIGNAL_NAME = /^[a-zA-Z_\d]\w*(?:[.-]\w+)*/;

function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (/\s/.test(c)) { i++; continue; }
    const pos = i;
    if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(src[i + 1] ?? ''))) {
      const m = /^(?:0[xX][0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)/.exec(src.slice(i))!;
      tokens.push({ t: 'num', v: Number(m[0]), pos });
      i += m[0].length;
      continue;
    }
    if (c === '"' || c === "'") {
      const [value, end] = readString(src, i);
      refuseActionInLiteral(src, pos, end);
      tokens.push({ t: 'str', v: value, pos });
      i = end;
      continue;
    }
    if (c === '`') {
      const { strings, exprs, end } = readTemplate(src, i);
      refuseActionInLiteral(src, pos, end);
      tokens.push({ t: 'tpl', strings, exprs, pos });
      i = end;
      continue;
    }
    if (c === '$') {
      const m = SIGNAL_NAME.exec(src.slice(i + 1));
      tokens.push({ t: 'sig', path: m ? m[0].split('.') : [], pos });
      i += 1 + (m ? m[0].length : 0);
      continue;
    }
    if (c === '@') {
      const m = /^[A-Za-z]\w*/.exec(src.slice(i + 1));
      if (!m) throw new ExpressionError(`"@" must start an action such as @post('/url') (at ${i})`, src);
      tokens.push({ t: 'act', v: m[0], pos });
      i += 1 + m[0].length;
      continue;
    }
    if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_]\w*/.exec(src.slice(i))!;
      tokens.push({ t: 'id', v: m[0], pos });
      i += m[0].length;
      continue;
    }
    const p = PUNCTUATORS.find((x) => src.startsWith(x, i));
    if (!p) throw new ExpressionError(`Unexpected character "${c}" at ${i}`, src);
    // `?.5` is a conditional followed by a number, not optional chaining.
    if (p === '?.' && /[0-9]/.test(src[i + 2] ?? '')) {
      tokens.push({ t: 'punc', v: '?', pos });
      i += 1;
      continue;
    }
    tokens.push({ t: 'punc', v: p, pos });
    i += p.length;
  }
  tokens.push({ t: 'eof', pos: src.length });
  return tokens;
}

/** The client rewrites `@name(` to an action call everywhere, string literals included: fail as it would. */
function refuseActionInLiteral(src: string, start: number, end: number): void {
  const m = /@[A-Za-z_$][\w$]*\(/.exec(src.slice(start, end));
  if (m) {
    throw new ExpressionError(
      `"${m[0]}" inside a string literal (at ${start}) is rewritten to an action call by the Datastar client: ` +
      'write "@" as "\\u0040" (expressionLiteral() and the {{ds-*}} helpers do)',
      src,
    );
  }
}

const ESCAPES: Record<string, string> = { n: '\n', r: '\r', t: '\t', b: '\b', f: '\f', v: '\v', 0: '\0' };

function readString(src: string, start: number): [string, number] {
  const quote = src[start];
  let out = '';
  let i = start + 1;
  while (i < src.length && src[i] !== quote) {
    if (src[i] === '\\') {
      const [ch, next] = readEscape(src, i);
      out += ch;
      i = next;
    } else {
      out += src[i++];
    }
  }
  if (i >= src.length) throw new ExpressionError('Unterminated string literal', src);
  return [out, i + 1];
}

function readEscape(src: string, i: number): [string, number] {
  const e = src[i + 1];
  if (e === 'u') {
    const m = /^\{([0-9a-fA-F]+)\}|^([0-9a-fA-F]{4})/.exec(src.slice(i + 2));
    if (!m) throw new ExpressionError('Bad \\u escape', src);
    return [String.fromCodePoint(parseInt(m[1] ?? m[2], 16)), i + 2 + m[0].length];
  }
  if (e === 'x') return [String.fromCharCode(parseInt(src.slice(i + 2, i + 4), 16)), i + 4];
  if (e === '\r' || e === '\n') return ['', i + 2]; // line continuation
  return [Object.hasOwn(ESCAPES, e) ? ESCAPES[e] : e, i + 2];
}

function readTemplate(src: string, start: number): { strings: string[]; exprs: string[]; end: number } {
  const strings: string[] = [];
  const exprs: string[] = [];
  let current = '';
  let i = start + 1;
  while (i < src.length && src[i] !== '`') {
    if (src[i] === '\\') {
      const [ch, next] = readEscape(src, i);
      current += ch;
      i = next;
    } else if (src[i] === '$' && src[i + 1] === '{') {
      strings.push(current);
      current = '';
      const end = matchingBrace(src, i + 1);
      exprs.push(src.slice(i + 2, end));
      i = end + 1;
    } else {
      current += src[i++];
    }
  }
  if (i >= src.length) throw new ExpressionError('Unterminated template literal', src);
  strings.push(current);
  return { strings, exprs, end: i + 1 };
}

/** Index of the `}` closing the `{` at `open`, skipping strings. */
function matchingBrace(src: string, open: number): number {
  let depth = 0;
  for (let i = open; i < src.length; i++) {
    const c = src[i];
    if (c === '"' || c === "'") { i = readString(src, i)[1] - 1; continue; }
    if (c === '`') { i = readTemplate(src, i).end - 1; continue; }
    if (c === '{') depth++;
    else if (c === '}' && --depth === 0) return i;
  }
  throw new ExpressionError('Unterminated ${ in template literal', src);
}

const BINARY_PRECEDENCE: Record<string, number> = {
  '??': 1, '||': 2, '&&': 3,
  '==': 4, '!=': 4, '===': 4, '!==': 4,
  '<': 5, '>': 5, '<=': 5, '>=': 5,
  '+': 6, '-': 6,
  '*': 7, '/': 7, '%': 7,
};
const ASSIGN_OPS = new Set(['=', '+=', '-=', '*=', '/=']);
const LITERAL_IDENTIFIERS: Record<string, unknown> = {
  true: true, false: false, null: null, undefined: undefined, NaN: NaN, Infinity: Infinity,
};
const UNSUPPORTED_IDENTIFIERS = new Set(['new', 'function', 'class', 'this', 'delete', 'void', 'await', 'yield', 'import']);

class Parser {
  private i = 0;
  constructor(private readonly tokens: Token[], private readonly src: string) {}

  program(): Node {
    const items: Node[] = [];
    while (this.peek().t !== 'eof') {
      if (this.isPunc(';')) { this.i++; continue; }
      items.push(this.expression());
      if (!this.isPunc(';') && this.peek().t !== 'eof') this.fail('Expected ";" or the end');
    }
    if (items.length === 1) return items[0];
    return { kind: 'sequence', items };
  }

  expression(): Node {
    const left = this.conditional();
    const tok = this.peek();
    if (tok.t === 'punc' && ASSIGN_OPS.has(tok.v)) {
      this.i++;
      this.assertAssignable(left);
      return { kind: 'assign', op: tok.v, target: left, value: this.expression() };
    }
    if (this.isPunc('=>')) this.fail('Arrow functions are not supported by the page driver');
    return left;
  }

  private conditional(): Node {
    const test = this.binary(1);
    if (!this.isPunc('?')) return test;
    this.i++;
    const then = this.expression();
    this.expect(':');
    return { kind: 'conditional', test, then, otherwise: this.expression() };
  }

  private binary(minPrecedence: number): Node {
    let left = this.unary();
    for (;;) {
      const tok = this.peek();
      const prec = tok.t === 'punc' ? BINARY_PRECEDENCE[tok.v] : undefined;
      if (prec === undefined || prec < minPrecedence) return left;
      this.i++;
      const right = this.binary(prec + 1);
      left = { kind: 'binary', op: (tok as { v: string }).v, left, right };
    }
  }

  private unary(): Node {
    const tok = this.peek();
    if (tok.t === 'punc' && (tok.v === '!' || tok.v === '-' || tok.v === '+')) {
      this.i++;
      return { kind: 'unary', op: tok.v, arg: this.unary() };
    }
    if (tok.t === 'id' && tok.v === 'typeof') {
      this.i++;
      return { kind: 'unary', op: 'typeof', arg: this.unary() };
    }
    if (tok.t === 'punc' && (tok.v === '++' || tok.v === '--')) {
      this.i++;
      const target = this.unary();
      this.assertAssignable(target);
      return { kind: 'update', op: tok.v, prefix: true, target };
    }
    const expr = this.postfix();
    const next = this.peek();
    if (next.t === 'punc' && (next.v === '++' || next.v === '--')) {
      this.i++;
      this.assertAssignable(expr);
      return { kind: 'update', op: next.v, prefix: false, target: expr };
    }
    return expr;
  }

  private postfix(): Node {
    let node = this.primary();
    for (;;) {
      const tok = this.peek();
      if (tok.t !== 'punc') return node;
      if (tok.v === '.' || tok.v === '?.') {
        this.i++;
        const optional = tok.v === '?.';
        if (optional && this.isPunc('(')) {
          node = { kind: 'call', callee: node, args: this.args(), optional: true };
          continue;
        }
        if (optional && this.isPunc('[')) {
          this.i++;
          const property = this.expression();
          this.expect(']');
          node = { kind: 'member', object: node, property, optional: true };
          continue;
        }
        const name = this.next();
        if (name.t !== 'id' && name.t !== 'num') this.fail('Expected a property name after "."');
        node = { kind: 'member', object: node, property: { kind: 'literal', value: String((name as { v: unknown }).v) }, optional };
      } else if (tok.v === '[') {
        this.i++;
        const property = this.expression();
        this.expect(']');
        node = { kind: 'member', object: node, property, optional: false };
      } else if (tok.v === '(') {
        node = { kind: 'call', callee: node, args: this.args(), optional: false };
      } else {
        return node;
      }
    }
  }

  private args(): Node[] {
    this.expect('(');
    const args: Node[] = [];
    while (!this.isPunc(')')) {
      if (this.isPunc('...')) this.fail('Spread arguments are not supported by the page driver');
      args.push(this.expression());
      if (!this.isPunc(')')) this.expect(',');
    }
    this.i++;
    return args;
  }

  private primary(): Node {
    const tok = this.next();
    switch (tok.t) {
      case 'num': return { kind: 'literal', value: tok.v };
      case 'str': return { kind: 'literal', value: tok.v };
      case 'tpl': return {
        kind: 'template', strings: tok.strings,
        exprs: tok.exprs.map((e) => parseExpression(e)),
      };
      case 'sig': {
        let node: Node = { kind: 'signals' };
        for (const part of tok.path) node = { kind: 'member', object: node, property: { kind: 'literal', value: part }, optional: false };
        return node;
      }
      case 'act': return { kind: 'action', name: tok.v, args: this.args() };
      case 'id': {
        if (this.isPunc('=>')) this.fail('Arrow functions are not supported by the page driver');
        if (Object.hasOwn(LITERAL_IDENTIFIERS, tok.v)) return { kind: 'literal', value: LITERAL_IDENTIFIERS[tok.v] };
        if (UNSUPPORTED_IDENTIFIERS.has(tok.v)) this.fail(`"${tok.v}" is not supported by the page driver`);
        return { kind: 'identifier', name: tok.v };
      }
      case 'punc': {
        if (tok.v === '(') {
          if (this.arrowAhead()) this.fail('Arrow functions are not supported by the page driver');
          const inner = this.expression();
          this.expect(')');
          return inner;
        }
        if (tok.v === '[') return this.arrayLiteral();
        if (tok.v === '{') return this.objectLiteral();
        if (tok.v === '/') this.fail('Regular expression literals are not supported by the page driver');
        return this.fail(`Unexpected "${tok.v}"`, tok.pos);
      }
      default: return this.fail('Unexpected end of expression', tok.pos);
    }
  }

  private arrayLiteral(): Node {
    const items: Node[] = [];
    while (!this.isPunc(']')) {
      if (this.isPunc('...')) this.fail('Spread is not supported by the page driver');
      items.push(this.expression());
      if (!this.isPunc(']')) this.expect(',');
    }
    this.i++;
    return { kind: 'array', items };
  }

  private objectLiteral(): Node {
    const entries: Array<[string, Node]> = [];
    while (!this.isPunc('}')) {
      const key = this.next();
      let name: string;
      if (key.t === 'id' || key.t === 'str') name = key.v;
      else if (key.t === 'num') name = String(key.v);
      else if (key.t === 'sig' && key.path.length === 0) name = '$';
      else return this.fail('Expected a property name in the object literal', key.pos);
      if (this.isPunc(',') || this.isPunc('}')) {
        if (key.t !== 'id') this.fail('Expected ":" after the property name');
        entries.push([name, { kind: 'identifier', name }]); // shorthand {el}
      } else {
        this.expect(':');
        entries.push([name, this.expression()]);
      }
      if (!this.isPunc('}')) this.expect(',');
    }
    this.i++;
    return { kind: 'object', entries };
  }

  private assertAssignable(node: Node): void {
    let n = node;
    while (n.kind === 'member') n = n.object;
    if (n.kind !== 'signals' || node.kind !== 'member') {
      this.fail('Only signals ($name) can be assigned by the page driver');
    }
  }

  /** After a consumed `(`: is this the parameter list of an arrow function? */
  private arrowAhead(): boolean {
    let depth = 1;
    for (let j = this.i; j < this.tokens.length; j++) {
      const tok = this.tokens[j];
      if (tok.t !== 'punc') continue;
      if (tok.v === '(') depth++;
      else if (tok.v === ')' && --depth === 0) {
        const after = this.tokens[j + 1];
        return after?.t === 'punc' && after.v === '=>';
      }
    }
    return false;
  }

  private peek(): Token { return this.tokens[this.i]; }
  private next(): Token { return this.tokens[this.i++] ?? this.tokens[this.tokens.length - 1]; }
  private isPunc(v: string): boolean {
    const tok = this.peek();
    return tok.t === 'punc' && tok.v === v;
  }
  private expect(v: string): void {
    if (!this.isPunc(v)) this.fail(`Expected "${v}"`);
    this.i++;
  }
  private fail(message: string, pos = this.peek().pos): never {
    throw new ExpressionError(`${message} (at ${pos})`, this.src);
  }
}

const cache = new Map<string, Node>();

/** Parses an expression (cached: pages evaluate the same attributes again and again). */
export function parseExpression(source: string): Node {
  let node = cache.get(source);
  if (!node) {
    node = new Parser(tokenize(source), source).program();
    if (cache.size > 5000) cache.clear();
    cache.set(source, node);
  }
  return node;
}
