import { isUnsafeKey, parseJsonSafely } from '../protocol';
import { ExpressionError, parseExpression, type Node } from './expression.parser';
import { isPlainObject, type SignalObject } from './merge-patch';

/** What an expression can see: the signals, `el`, `evt`, and a handler for `@actions`. */
export interface ExpressionScope {
  signals: SignalObject;
  el?: unknown;
  evt?: unknown;
  /** Runs `@get(...)` and friends; without it, actions are an error. */
  action?: (name: string, args: unknown[]) => unknown;
  /** Called after every write to a signal. */
  onWrite?: (path: string[]) => void;
}

/** Evaluates a Datastar expression in the page driver's safe subset (see expression.parser.ts). */
export function evaluateExpression(source: string, scope: ExpressionScope): unknown {
  const node = parseExpression(source);
  try {
    return new Evaluator(scope).run(node);
  } catch (error) {
    if (error instanceof ExpressionError) throw new ExpressionError(error.message.replace(/ in expression .*$/s, ''), source);
    throw error;
  }
}

const STRING_METHODS = new Set([
  'at', 'charAt', 'concat', 'endsWith', 'includes', 'indexOf', 'lastIndexOf', 'padEnd', 'padStart',
  'repeat', 'replace', 'replaceAll', 'slice', 'split', 'startsWith', 'substring', 'toLowerCase',
  'toUpperCase', 'toString', 'trim', 'trimEnd', 'trimStart',
]);
const ARRAY_METHODS = new Set(['at', 'concat', 'includes', 'indexOf', 'join', 'lastIndexOf', 'slice']);
const NUMBER_METHODS = new Set(['toFixed', 'toPrecision', 'toString']);
const EVENT_METHODS = new Set(['preventDefault', 'stopPropagation', 'stopImmediatePropagation']);
const MATH_FUNCTIONS = new Set(['abs', 'ceil', 'floor', 'max', 'min', 'pow', 'round', 'sign', 'sqrt', 'trunc']);

/** Stand-ins for the few globals expressions may use. */
const NAMESPACES: Record<string, Record<string, (...args: never[]) => unknown>> = {
  Math: Object.fromEntries([...MATH_FUNCTIONS].map((n) => [n, (Math as unknown as Record<string, () => unknown>)[n]])),
  JSON: {
    stringify: (value: unknown) => JSON.stringify(value),
    parse: (text: string) => parseJsonSafely(String(text)),
  },
  Object: {
    keys: (o: object) => Object.keys(o ?? {}),
    values: (o: object) => Object.values(o ?? {}),
  },
  Array: { isArray: (v: unknown) => Array.isArray(v) },
};
const FUNCTIONS: Record<string, (...args: never[]) => unknown> = {
  String: (v: unknown) => String(v),
  Number: (v: unknown) => Number(v),
  Boolean: (v: unknown) => Boolean(v),
  parseInt: (v: string, radix?: number) => parseInt(v, radix),
  parseFloat: (v: string) => parseFloat(v),
  isNaN: (v: number) => Number.isNaN(Number(v)),
  encodeURIComponent: (v: string) => encodeURIComponent(String(v)),
  decodeURIComponent: (v: string) => decodeURIComponent(String(v)),
};

class Evaluator {
  constructor(private readonly scope: ExpressionScope) {}

  run(node: Node): unknown {
    switch (node.kind) {
      case 'literal': return node.value;
      case 'template': {
        let out = node.strings[0];
        for (let i = 0; i < node.exprs.length; i++) out += `${String(this.run(node.exprs[i]))}${node.strings[i + 1]}`;
        return out;
      }
      case 'signals': return this.scope.signals;
      case 'identifier': return this.identifier(node.name);
      case 'member': {
        const object = this.run(node.object);
        if ((object === null || object === undefined) && node.optional) return undefined;
        const key = this.key(node.property);
        // The client's signal proxy creates a signal it is asked for as '' ($x ?? 'd' gives '').
        if (isPlainObject(object) && !Object.hasOwn(object, key) && isSignalPath(node.object) && !isUnsafeKey(key)) object[key] = '';
        return readMember(object, key, node);
      }
      case 'call': return this.call(node);
      case 'action': {
        if (!this.scope.action) throw new ExpressionError(`@${node.name}() cannot run here`);
        return this.scope.action(node.name, node.args.map((a) => this.run(a)));
      }
      case 'unary': {
        if (node.op === 'typeof') {
          try { return typeof this.run(node.arg); } catch { return 'undefined'; }
        }
        const v = this.run(node.arg) as number;
        return node.op === '!' ? !v : node.op === '-' ? -v : +v;
      }
      case 'update': {
        const path = this.signalPath(node.target);
        const old = Number(this.readPath(path));
        const value = node.op === '++' ? old + 1 : old - 1;
        this.write(path, value);
        return node.prefix ? value : old;
      }
      case 'binary': return this.binary(node);
      case 'conditional': return this.run(node.test) ? this.run(node.then) : this.run(node.otherwise);
      case 'assign': {
        const path = this.signalPath(node.target);
        const right = this.run(node.value);
        let value = right;
        if (node.op !== '=') {
          const old = this.readPath(path) as number;
          const r = right as number;
          value = node.op === '+=' ? old + r : node.op === '-=' ? old - r : node.op === '*=' ? old * r : old / r;
        }
        this.write(path, value);
        return value;
      }
      case 'array': return node.items.map((n) => this.run(n));
      case 'object': {
        const out: Record<string, unknown> = {};
        for (const [key, value] of node.entries) if (!isUnsafeKey(key)) out[key] = this.run(value);
        return out;
      }
      case 'sequence': {
        let last: unknown;
        for (const item of node.items) last = this.run(item);
        return last;
      }
    }
  }

  private key(node: Node): string {
    const key = String(this.run(node));
    if (isUnsafeKey(key)) throw new ExpressionError(`The property "${key}" is off limits`);
    return key;
  }

  private identifier(name: string): unknown {
    if (name === 'el') return this.scope.el;
    if (name === 'evt') return this.scope.evt;
    if (Object.hasOwn(NAMESPACES, name)) return NAMESPACES[name];
    if (Object.hasOwn(FUNCTIONS, name)) return FUNCTIONS[name];
    throw new ExpressionError(
      `Unknown name "${name}": the page driver knows $signals, el, evt, Math, JSON, Object, Array and ${Object.keys(FUNCTIONS).join(', ')}`,
    );
  }

  private call(node: Extract<Node, { kind: 'call' }>): unknown {
    const args = () => node.args.map((a) => this.run(a));
    if (node.callee.kind === 'identifier') {
      const fn = this.identifier(node.callee.name);
      if (typeof fn !== 'function') throw new ExpressionError(`"${node.callee.name}" is not a function`);
      return (fn as (...a: unknown[]) => unknown)(...args());
    }
    if (node.callee.kind !== 'member') throw new ExpressionError('Only named functions and methods can be called');
    const object = this.run(node.callee.object);
    if ((object === null || object === undefined) && (node.optional || node.callee.optional)) return undefined;
    const name = this.key(node.callee.property);
    if (Object.values(NAMESPACES).includes(object as never)) {
      const fn = (object as Record<string, unknown>)[name];
      if (typeof fn === 'function' && Object.hasOwn(object as object, name)) return (fn as (...a: unknown[]) => unknown)(...args());
    } else if (typeof object === 'string' && STRING_METHODS.has(name)) {
      return (String.prototype as unknown as Record<string, (...a: unknown[]) => unknown>)[name].apply(object, args());
    } else if (Array.isArray(object) && ARRAY_METHODS.has(name)) {
      return (Array.prototype as unknown as Record<string, (...a: unknown[]) => unknown>)[name].apply(object, args());
    } else if (typeof object === 'number' && NUMBER_METHODS.has(name)) {
      return (Number.prototype as unknown as Record<string, (...a: unknown[]) => unknown>)[name].apply(object, args());
    } else if (object !== null && typeof object === 'object' && EVENT_METHODS.has(name) && object === this.scope.evt) {
      const fn = (object as Record<string, unknown>)[name];
      if (typeof fn === 'function') return fn.apply(object, args());
    }
    throw new ExpressionError(`Calling ".${name}()" is not supported by the page driver`);
  }

  private binary(node: Extract<Node, { kind: 'binary' }>): unknown {
    const left = this.run(node.left) as any; // eslint-disable-line @typescript-eslint/no-explicit-any
    switch (node.op) {
      case '&&': return left && this.run(node.right);
      case '||': return left || this.run(node.right);
      case '??': return left ?? this.run(node.right);
    }
    const right = this.run(node.right) as any; // eslint-disable-line @typescript-eslint/no-explicit-any
    switch (node.op) {
      case '+': return left + right;
      case '-': return left - right;
      case '*': return left * right;
      case '/': return left / right;
      case '%': return left % right;
      case '<': return left < right;
      case '>': return left > right;
      case '<=': return left <= right;
      case '>=': return left >= right;
      case '==': return left == right; // eslint-disable-line eqeqeq
      case '!=': return left != right; // eslint-disable-line eqeqeq
      case '===': return left === right;
      case '!==': return left !== right;
      default: throw new ExpressionError(`Unknown operator ${node.op}`);
    }
  }

  /** The signal path an assignment target names: `$a.b[$i]` -> ['a', 'b', '2']. */
  private signalPath(node: Node): string[] {
    const path: string[] = [];
    let n = node;
    while (n.kind === 'member') {
      path.unshift(this.key(n.property));
      n = n.object;
    }
    if (n.kind !== 'signals' || path.length === 0) throw new ExpressionError('Only signals can be assigned');
    return path;
  }

  private readPath(path: string[]): unknown {
    let node: unknown = this.scope.signals;
    for (const key of path) {
      if (node === null || node === undefined) return undefined;
      node = (node as Record<string, unknown>)[key];
    }
    return node;
  }

  private write(path: string[], value: unknown): void {
    let node = this.scope.signals as Record<string, unknown>;
    for (let i = 0; i < path.length - 1; i++) {
      const next = node[path[i]];
      if (next === null || typeof next !== 'object') node[path[i]] = {};
      node = node[path[i]] as Record<string, unknown>;
    }
    node[path[path.length - 1]] = value;
    this.scope.onWrite?.(path);
  }
}

/** `$`, `$a`, `$a.b`: a node that reads the signals tree. */
function isSignalPath(node: Node): boolean {
  let n = node;
  while (n.kind === 'member') n = n.object;
  return n.kind === 'signals';
}

/** Reads `object[key]`: own data of signals and arrays, `length` of strings, properties of DOM objects. */
function readMember(object: unknown, key: string, node: Node): unknown {
  if (object === null || object === undefined) {
    throw new ExpressionError(`Cannot read "${key}" of ${String(object)}${describe(node)}`);
  }
  if (typeof object === 'string') {
    if (key === 'length') return object.length;
    return /^\d+$/.test(key) ? object[Number(key)] : undefined;
  }
  if (Array.isArray(object)) {
    if (key === 'length') return object.length;
    return Object.hasOwn(object, key) ? object[key as unknown as number] : undefined;
  }
  if (isPlainObject(object)) return Object.hasOwn(object, key) ? object[key] : undefined;
  if (typeof object === 'object') {
    // DOM objects (el, evt) expose their data; their methods stay uncallable unless listed above.
    return (object as Record<string, unknown>)[key];
  }
  return undefined;
}

function describe(node: Node): string {
  if (node.kind !== 'member') return '';
  const parts: string[] = [];
  let n: Node = node.object;
  while (n.kind === 'member' && n.property.kind === 'literal') {
    parts.unshift(String(n.property.value));
    n = n.object;
  }
  return n.kind === 'signals' && parts.length ? ` (the signal $${parts.join('.')} is missing)` : '';
}
