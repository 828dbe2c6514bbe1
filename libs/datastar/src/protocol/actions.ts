/** Datastar action expressions (`@post('/url', {...})`) built safely from TypeScript. */
import { expressionLiteral, stringLiteral, type Expression } from './expression-literal';

export { Expression, expr } from './expression-literal';

export type ActionMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

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
 * `@post("/ds/counter/increment",{...})`. The URL and every option go through
 * {@link expressionLiteral}, so nothing a user typed can break out of the expression or be
 * rewritten by the client; the result still needs HTML attribute escaping (Handlebars' `{{ }}`
 * does that).
 */
export function action(method: ActionMethod, url: string, options?: ActionOptions): string {
  if (!METHODS.has(method)) throw new TypeError(`Unknown action method "${String(method)}": use get, post, put, patch or delete.`);
  const opts = options && Object.keys(options).some((k) => options[k] !== undefined) ? `,${expressionLiteral(options)}` : '';
  return `@${method}(${stringLiteral(String(url))}${opts})`;
}
