/**
 * Test fixture: how the Datastar 1.0.2 client turns an attribute value into a function, copied
 * step by step from `genRx` in `library/src/engine/engine.ts` at the v1.0.2 tag (commit e24f04d4 of
 * github:starfederation/datastar). Only the DOM, the signal proxy and error wrapping are left out.
 * Specs feed what our builders emit through it to prove nothing a user typed runs or gets rewritten.
 */

/** `lol = /🖕JS_DS🚀/.source; DSP = lol.slice(0, 5); DSS = lol.slice(4)` in consts.ts. */
const LOL = /🖕JS_DS🚀/.source;
export const DSP = LOL.slice(0, 5);
export const DSS = LOL.slice(4);

/** The body the client hands to `Function('el', '$', '__action', 'evt', ...argNames, body)`. */
export function clientFunctionBody(value: string, returnsValue: boolean): string {
  let expr = '';
  if (returnsValue) {
    const statementRe =
      /(\/(\\\/|[^/])*\/|"(\\"|[^"])*"|'(\\'|[^'])*'|`(\\`|[^`])*`|\(\s*((function)\s*\(\s*\)|(\(\s*\))\s*=>)\s*(?:\{[\s\S]*?\}|[^;){]*)\s*\)\s*\(\s*\)|[^;])+/gm;
    const statements = value.trim().match(statementRe);
    if (statements) {
      const lastIdx = statements.length - 1;
      const last = statements[lastIdx].trim();
      if (!last.startsWith('return')) {
        statements[lastIdx] = `return (${last});`;
      }
      expr = statements.join(';\n');
    }
  } else {
    expr = value.trim();
  }

  // Ignore any escaped values
  const escaped = new Map<string, string>();
  const escapeRe = RegExp(`(?:${DSP})(.*?)(?:${DSS})`, 'gm');
  let counter = 0;
  for (const match of expr.matchAll(escapeRe)) {
    const k = match[1];
    const v = `__escaped${counter++}`;
    escaped.set(v, k);
    expr = expr.replace(DSP + k + DSS, v);
  }

  expr = expr.replace(
    /("(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*'|`(?:\\.|[^`\\$]|\$(?!\{))*`)|\$\{([^{}]*)\}|\$([a-zA-Z_\d]\w*(?:[.-]\w+)*)/g,
    (match: string, quoted: string | undefined, interpolationExpr: string | undefined, signalName: string) => {
      if (quoted) return match;
      if (interpolationExpr !== undefined) {
        return `\${${interpolationExpr.replace(
          /\$([a-zA-Z_\d]\w*(?:[.-]\w+)*)/g,
          (_: string, innerSignalName: string) =>
            innerSignalName.split('.').reduce((acc: string, part: string) => `${acc}['${part}']`, '$'),
        )}}`;
      }
      return signalName.split('.').reduce((acc: string, part: string) => `${acc}['${part}']`, '$');
    },
  );

  expr = expr.replaceAll(/@([A-Za-z_$][\w$]*)\(/g, '__action("$1",evt,');

  // Replace any escaped values
  for (const [k, v] of escaped) {
    expr = expr.replace(k, v);
  }
  return expr;
}

export interface ActionCall {
  name: string;
  args: unknown[];
}

export interface ClientRun {
  /** What the expression returned (data-signals: the signals object). */
  result: unknown;
  /** Every `@action(...)` it called, with its arguments as the action plugin receives them. */
  actions: ActionCall[];
  /** Globals the expression wrote through `window.*` (an injection sets `window.__pwned`). */
  window: Record<string, unknown>;
}

/**
 * Compiles `value` like the client and runs it with `signals` as `$`, recording action calls.
 * `window` is a fresh object for the run (holding `options.window`), so injected code that writes to
 * it is visible; `evt` is the event a `data-on` expression sees.
 */
export function runLikeClient(
  value: string,
  options: { returnsValue?: boolean; signals?: Record<string, unknown>; evt?: unknown; window?: Record<string, unknown> } = {},
): ClientRun {
  const body = clientFunctionBody(value, options.returnsValue ?? false);
  const fn = Function('el', '$', '__action', 'evt', body) as (...args: unknown[]) => unknown;
  const actions: ActionCall[] = [];
  const action = (name: string, _evt: unknown, ...args: unknown[]) => {
    actions.push({ name, args });
  };
  const sandbox: Record<string, unknown> = { ...options.window };
  const global = globalThis as Record<string, unknown>;
  const had = Object.prototype.hasOwnProperty.call(global, 'window');
  const previous = global.window;
  global.window = sandbox;
  try {
    const result = fn({ id: 'el', tagName: 'BUTTON', target: '' }, options.signals ?? {}, action, options.evt);
    return { result, actions, window: sandbox };
  } finally {
    if (had) global.window = previous;
    else delete global.window;
  }
}
