import { isUnsafeKey } from '../protocol';

export type SignalObject = Record<string, unknown>;

export function isPlainObject(value: unknown): value is SignalObject {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * Applies a JSON Merge Patch (RFC 7386) in place, the way the Datastar client does:
 * `null` deletes, objects merge, anything else replaces; with `onlyIfMissing`, existing values
 * are kept and nulls delete nothing.
 */
export function mergePatch(target: SignalObject, patch: SignalObject, onlyIfMissing = false): void {
  for (const key of Object.keys(patch)) {
    if (isUnsafeKey(key)) continue;
    const value = patch[key];
    if (value === null || value === undefined) {
      if (!onlyIfMissing) delete target[key];
    } else if (isPlainObject(value)) {
      if (!isPlainObject(target[key])) {
        if (onlyIfMissing && Object.hasOwn(target, key)) continue;
        target[key] = {};
      }
      mergePatch(target[key] as SignalObject, value, onlyIfMissing);
    } else if (!(onlyIfMissing && Object.hasOwn(target, key))) {
      target[key] = cloneJson(value);
    }
  }
}

/**
 * Folds `patch` into `combined` as one equivalent patch: unlike `mergePatch`, a `null` is kept
 * (it still means "delete" to whoever applies the result).
 */
export function composePatch(combined: SignalObject, patch: SignalObject): void {
  for (const key of Object.keys(patch)) {
    if (isUnsafeKey(key)) continue;
    const value = patch[key];
    if (isPlainObject(value) && isPlainObject(combined[key])) {
      composePatch(combined[key] as SignalObject, value);
    } else {
      combined[key] = cloneJson(value);
    }
  }
}

/** A deep copy of JSON-like data (what signals are). */
export function cloneJson<T>(value: T): T {
  if (Array.isArray(value)) return value.map(cloneJson) as T;
  if (isPlainObject(value)) {
    const out: SignalObject = {};
    for (const key of Object.keys(value)) if (!isUnsafeKey(key)) out[key] = cloneJson(value[key]);
    return out as T;
  }
  return value;
}

/** Sets `a.b.c` in `root`, creating objects on the way. */
export function setPath(root: SignalObject, path: readonly string[], value: unknown): void {
  let node = root;
  for (let i = 0; i < path.length - 1; i++) {
    const key = path[i];
    if (isUnsafeKey(key)) throw new TypeError(`Refusing the signal path segment "${key}".`);
    if (!isPlainObject(node[key]) && !Array.isArray(node[key])) node[key] = {};
    node = node[key] as SignalObject;
  }
  const last = path[path.length - 1];
  if (isUnsafeKey(last)) throw new TypeError(`Refusing the signal path segment "${last}".`);
  node[last] = value;
}

/** Turns `[['a.b', 1]]` into `{ a: { b: 1 } }`. */
export function pathsToObject(paths: ReadonlyArray<readonly [string, unknown]>): SignalObject {
  const root: SignalObject = {};
  for (const [path, value] of paths) setPath(root, path.split('.'), value);
  return root;
}

/** The client's default: signal paths with a segment starting with `_` stay in the page. */
export const DEFAULT_EXCLUDE = /(^|\.)_/;

/**
 * The signals an action sends, chosen like the client's `filterSignals`: every leaf path
 * (arrays are leaves) that matches `include` and not `exclude`.
 */
export function filterSignals(
  root: SignalObject,
  include: RegExp | string = /.*/,
  exclude: RegExp | string = DEFAULT_EXCLUDE,
): SignalObject {
  const inc = toRegExp(include);
  const exc = toRegExp(exclude);
  const paths: Array<[string, unknown]> = [];
  const walk = (node: SignalObject, prefix: string) => {
    for (const key of Object.keys(node)) {
      const path = prefix + key;
      const value = node[key];
      if (isPlainObject(value)) walk(value, `${path}.`);
      else if (inc.test(path) && !exc.test(path)) paths.push([path, cloneJson(value)]);
    }
  };
  walk(root, '');
  return pathsToObject(paths);
}

/** Like the client: a string is a regular expression source, optionally written `/.../`. */
function toRegExp(value: RegExp | string): RegExp {
  return typeof value === 'string' ? new RegExp(value.replace(/^\/|\/$/g, '')) : new RegExp(value.source, value.flags.replace('g', ''));
}
