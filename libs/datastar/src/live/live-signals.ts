/** JSON helpers for live signals: copies, sizes, and the diff a session sends. */
import { isUnsafeKey } from '../protocol';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** A JSON copy (what the browser would get): later in-place changes to the original are seen by the diff. */
export function jsonClone<T>(value: T): T {
  const flat = flatCopy(value);
  if (flat) return flat as T;
  const text = JSON.stringify(value);
  return text === undefined ? (undefined as T) : JSON.parse(text);
}

/**
 * The usual signals (a plain object of strings, finite numbers, booleans and nulls) copied without
 * the JSON text, which every session re-render paid for; undefined for anything JSON would change
 * (nested values, undefined, NaN, -0, toJSON, ...): `jsonClone` then takes the JSON way.
 */
function flatCopy(value: unknown): Record<string, unknown> | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return undefined;
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const v = (value as Record<string, unknown>)[key];
    const kept = typeof v === 'string' || typeof v === 'boolean' || v === null ||
      (typeof v === 'number' && Number.isFinite(v) && !Object.is(v, -0));
    // `__proto__` as an own key is JSON's to copy: assigning it would set the prototype.
    if (!kept || key === '__proto__') return undefined;
    copy[key] = v;
  }
  return copy;
}

/** Bytes of `value` as UTF-8 JSON: what keeping or sending it costs. */
export function jsonBytes(value: unknown): number {
  const text = JSON.stringify(value);
  return text === undefined ? 0 : Buffer.byteLength(text, 'utf8');
}

/**
 * The JSON Merge Patch (RFC 7386) that turns `sent` into `next`, as small as it gets: unchanged
 * keys are left out, objects are diffed key by key, removed keys become `null`, arrays are
 * replaced whole. Both sides must be JSON values (use `jsonClone`).
 * @example signalsDiff({ a: 1, b: { c: 1, d: 2 } }, { a: 1, b: { c: 2, d: 2 } }) // { b: { c: 2 } }
 */
export function signalsDiff(sent: Record<string, unknown>, next: Record<string, unknown>): Record<string, unknown> {
  const patch: Record<string, unknown> = {};
  for (const key of Object.keys(next)) {
    if (isUnsafeKey(key)) continue;
    const before = Object.prototype.hasOwnProperty.call(sent, key) ? sent[key] : undefined;
    const after = next[key];
    if (isObject(before) && isObject(after)) {
      const inner = signalsDiff(before, after);
      if (Object.keys(inner).length > 0) patch[key] = inner;
    } else if (!jsonEqual(before as Json, after as Json)) {
      patch[key] = after;
    }
  }
  for (const key of Object.keys(sent)) {
    if (!Object.prototype.hasOwnProperty.call(next, key) && !isUnsafeKey(key)) patch[key] = null;
  }
  return patch;
}

function jsonEqual(a: Json | undefined, b: Json | undefined): boolean {
  if (a === b) return true;
  if (a === null || b === null || a === undefined || b === undefined || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const other = b as Json[];
    return a.length === other.length && a.every((v, i) => jsonEqual(v, other[i]));
  }
  const ka = Object.keys(a);
  const bo = b as Record<string, Json>;
  return ka.length === Object.keys(bo).length && ka.every((k) => Object.prototype.hasOwnProperty.call(bo, k) && jsonEqual((a as Record<string, Json>)[k], bo[k]));
}
