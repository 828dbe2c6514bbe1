/** Keys that would reach an object's prototype if assigned naively. */
const UNSAFE_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

export function isUnsafeKey(key: string): boolean {
  return UNSAFE_KEYS.has(key);
}

/**
 * `JSON.parse` that drops `__proto__`, `constructor` and `prototype` keys at every depth, so
 * parsed signals can be merged or copied without ever touching a prototype.
 */
export function parseJsonSafely(text: string): unknown {
  // The reviver costs a second walk: only pay for it when such a key can be in the text.
  if (!UNSAFE_TEXT.test(text)) return JSON.parse(text);
  return JSON.parse(text, dropUnsafeKeys);
}

// Any \u escape may spell such a key ("__prot\u006f__", "constructo\u0072"): take the slow path then too.
const UNSAFE_TEXT = /proto|constructor|\\u/;

function dropUnsafeKeys(key: string, value: unknown): unknown {
  return UNSAFE_KEYS.has(key) ? undefined : value;
}

/** Escapes a JSON text for an HTML attribute or a `<script>` body (no `<`, `>`, `&`, quotes). */
export function htmlSafeJson(value: unknown): string {
  // JSON.stringify returns undefined for undefined, functions and symbols.
  return (JSON.stringify(value) ?? 'null')
    .replace(/&/g, '\\u0026')
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/'/g, '\\u0027')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}
