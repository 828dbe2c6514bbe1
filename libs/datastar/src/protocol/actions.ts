/** Datastar action expressions (`@post('/url', {...})`) built safely from TypeScript. */
export type ActionMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** A piece of Datastar expression written as is, e.g. `expr('$_csrf')` as a header value. */
export class Expression {
  constructor(readonly source: string) {}
}
/** Marks `source` as a Datastar expression rather than a string literal. */
export function expr(source: string): Expression {
  return new Expression(source);
}

const METHODS: ReadonlySet<string> = new Set(['get', 'post', 'put', 'patch', 'delete']);

type Literal = string | number | boolean | null | Expression;
type OptionValue = Literal | readonly OptionValue[] | { [key: string]: OptionValue | undefined };

/** Options of Datastar 1.0's backend actions; anything not listed is passed through. */
export interface ActionOptions {
  contentType?: 'json' | 'form';
  filterSignals?: { include?: string | RegExp; exclude?: string | RegExp };
  selector?: string;
  headers?: Record<string, string | Expression>;
  openWhenHidden?: boolean;
  payload?: OptionValue;
  retry?: 'auto' | 'error' | 'always' | 'never';
  retryInterval?: number;
  retryScaler?: number;
  retryMaxWaitMs?: number;
  retryMaxCount?: number;
  requestCancellation?: 'auto' | 'disabled' | Expression;
  [option: string]: unknown;
}

/**
 * `@post('/ds/counter/increment', {...})`. The URL and every string are written as JSON string
 * literals, so nothing a user typed can break out of the expression; the result still needs
 * HTML attribute escaping (Handlebars' `{{ }}` does that).
 */
export function action(method: ActionMethod, url: string, options?: ActionOptions): string {
  if (!METHODS.has(method)) throw new TypeError(`Unknown action method "${String(method)}": use get, post, put, patch or delete.`);
  const opts = options && Object.keys(options).some((k) => options[k] !== undefined) ? `,${literal(options)}` : '';
  return `@${method}(${JSON.stringify(String(url))}${opts})`;
}

function literal(value: unknown): string {
  if (value instanceof Expression) return value.source;
  if (value instanceof RegExp) return JSON.stringify(value.source);
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map(literal).join(',')}]`;
  const parts: string[] = [];
  for (const key of Object.keys(value)) {
    const v = (value as Record<string, unknown>)[key];
    if (v !== undefined) parts.push(`${JSON.stringify(key)}:${literal(v)}`);
  }
  return `{${parts.join(',')}}`;
}
