import type { DatastarEvent, EventOptions } from './datastar-event.interface';
import { createEvent } from './datastar-event';
import { PATCH_SIGNALS } from './protocol.constants';
import { isUnsafeKey } from './safe-json';

export interface PatchSignalsOptions extends EventOptions {
  /** Only set signals the page does not have yet. */
  onlyIfMissing?: boolean;
}

/** `datastar-patch-signals` from an object, written as compact JSON (a JSON Merge Patch). */
export function patchSignals(signals: Record<string, unknown>, options?: PatchSignalsOptions): DatastarEvent {
  if (signals === null || typeof signals !== 'object' || Array.isArray(signals)) {
    throw new TypeError('patchSignals takes a plain object, e.g. { count: 1 }; use patchSignalsRaw for JSON text.');
  }
  return signalsEvent(flatJson(signals) ?? JSON.stringify(signals), options);
}

/** A key or string value JSON writes as it is: no quote, backslash, control character or surrogate. */
const PLAIN_TEXT = /^[^"\\\u0000-\u001f\ud800-\udfff]*$/;

/**
 * The JSON of a flat plain object of numbers, booleans, null and plain strings (most signal
 * patches: `{"count":42}`), written here: the same text as JSON.stringify, for a fraction of the
 * cost of its first call in a request (bench: dispatch profile). Undefined for anything else.
 */
export function flatJson(object: Record<string, unknown>): string | undefined {
  const proto = Object.getPrototypeOf(object);
  if (proto !== Object.prototype && proto !== null) return undefined; // toJSON, getters: JSON.stringify's job
  const keys = Object.keys(object); // own enumerable string keys, in JSON.stringify's order
  // Types first, nothing built: a nested patch goes to JSON.stringify having cost a few checks.
  for (let i = 0; i < keys.length; i++) {
    const value = object[keys[i]];
    if (typeof value === 'object' ? value !== null : typeof value !== 'number' && typeof value !== 'boolean' && typeof value !== 'string') {
      return undefined;
    }
  }
  let out = '{';
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i];
    const value = object[key];
    if (!PLAIN_TEXT.test(key)) return undefined;
    let text: string;
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) return undefined;
      text = String(value);
    } else if (typeof value === 'string') {
      if (!PLAIN_TEXT.test(value)) return undefined;
      text = `"${value}"`;
    } else {
      text = value === null ? 'null' : value ? 'true' : 'false';
    }
    out += `${i === 0 ? '' : ','}"${key}":${text}`;
  }
  return `${out}}`;
}

/**
 * `datastar-patch-signals` from JSON text, written as given. The text must be a JSON object:
 * the client evaluates text that `JSON.parse` rejects as JavaScript, so anything else is refused.
 */
export function patchSignalsRaw(json: string, options?: PatchSignalsOptions): DatastarEvent {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw new TypeError('patchSignalsRaw needs valid JSON text: the client would run anything else as JavaScript.');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new TypeError('patchSignalsRaw needs a JSON object, e.g. \'{"count":1}\'.');
  }
  return signalsEvent(json, options);
}

/** Removes signals by dot path, merged into one patch: ['user.email', 'user.name'] -> {"user":{"email":null,"name":null}}. */
export function removeSignals(paths: string | readonly string[], options?: EventOptions): DatastarEvent {
  return signalsEvent(JSON.stringify(nullPatch(typeof paths === 'string' ? [paths] : paths)), options);
}

/** Builds the nested `null` patch for dot paths; a shorter path wins over its children. */
export function nullPatch(paths: readonly string[]): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const path of paths) {
    const parts = String(path).split('.');
    if (parts.some((p) => p === '' || isUnsafeKey(p))) {
      throw new TypeError(`Invalid signal path "${path}": use dot-separated names like "user.email".`);
    }
    let node = root;
    for (let i = 0; i < parts.length; i++) {
      const key = parts[i];
      if (i === parts.length - 1) {
        node[key] = null;
      } else {
        // Own properties only: an inherited member (`toString`, `hasOwnProperty`) is not a signal.
        const next = Object.prototype.hasOwnProperty.call(node, key) ? node[key] : undefined;
        if (next === null) break; // the parent is already removed
        if (next === undefined) node[key] = {};
        node = node[key] as Record<string, unknown>;
      }
    }
  }
  return root;
}

function signalsEvent(json: string, options?: PatchSignalsOptions): DatastarEvent {
  return createEvent(PATCH_SIGNALS, options?.onlyIfMissing ? 'onlyIfMissing true\n' : '', 'signals', json, options);
}
