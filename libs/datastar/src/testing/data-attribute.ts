import { evaluateExpression } from './expression.evaluator';
import { scanStartTags } from './html-scan';
import { isPlainObject, mergePatch, pathsToObject, type SignalObject } from './merge-patch';

/** A Datastar 1.0 attribute name taken apart: `data-on:click__debounce.200ms` -> on / click / {debounce: ['200ms']}. */
export interface DataAttribute {
  plugin: string;
  /** The part after `:`, as written (HTML lowercases it). */
  key: string;
  mods: Map<string, string[]>;
}

/** Parses `data-<plugin>[:<key>][__<mod>[.<arg>]...]`; null for other attributes. */
export function parseDataAttribute(name: string): DataAttribute | null {
  const lower = name.toLowerCase();
  if (!lower.startsWith('data-')) return null;
  const [head, ...modParts] = lower.slice(5).split(/__+/);
  const colon = head.indexOf(':');
  const plugin = colon === -1 ? head : head.slice(0, colon);
  const key = colon === -1 ? '' : head.slice(colon + 1);
  const mods = new Map<string, string[]>();
  for (const part of modParts) {
    const [label, ...args] = part.split('.');
    if (label) mods.set(label, args);
  }
  return plugin ? { plugin, key, mods } : null;
}

/** The client's `__case.*` conversions of a key; `kebab` (and any other name) keeps the key as written. */
const CASES: Readonly<Record<string, (key: string) => string>> = {
  // Only a dash before a lowercase letter: `first-name` -> `firstName`, `item-2` and `v2api` stay.
  camel: (key) => key.replace(/-[a-z]/g, (x) => x[1].toUpperCase()),
  snake: (key) => key.replace(/-/g, '_'),
  pascal: (key) => key.charAt(0).toUpperCase() + CASES.camel(key.slice(1)),
};

/**
 * An attribute's key as the client uses it: its `__case.*` modifiers in order, else `fallback`:
 * camel for signal names (`data-signals:first-name` -> `firstName`), kebab, the key as written,
 * for event and class names (`data-on:my-event`, `data-class:mt2`).
 */
export function attributeKey(attribute: DataAttribute, fallback: 'camel' | 'kebab' = 'camel'): string {
  let key = attribute.key;
  for (const name of attribute.mods.get('case') ?? [fallback]) key = CASES[name]?.(key) || key;
  return key;
}

/**
 * Applies one `data-signals` / `data-signals:key` attribute to `signals`, like the client:
 * the value is an expression (so `{count: 0}` and `{"count":0}` both work), merged as a JSON
 * merge patch, `__ifmissing` keeping existing values.
 */
export function applySignalsAttribute(signals: SignalObject, attribute: DataAttribute, value: string): void {
  const ifMissing = attribute.mods.has('ifmissing');
  const result = evaluateExpression(value, { signals });
  if (attribute.key) {
    mergePatch(signals, pathsToObject([[attributeKey(attribute), result]]), ifMissing);
  } else if (isPlainObject(result)) {
    mergePatch(signals, result, ifMissing);
  } else {
    throw new TypeError(`data-signals="${value}" must be an object literal such as {"count": 0}.`);
  }
}

/** The initial signals of a page: every `data-signals` attribute in document order, no DOM needed. */
export function readSignalsFromHtml(html: string): SignalObject {
  const signals: SignalObject = {};
  for (const tag of scanStartTags(html)) {
    for (const [name, value] of tag.attributes) {
      const attribute = parseDataAttribute(name);
      if (attribute?.plugin === 'signals') applySignalsAttribute(signals, attribute, value);
    }
  }
  return signals;
}
