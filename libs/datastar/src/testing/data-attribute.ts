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

/** The client's casing: `first-name` -> `firstName`, changed by `__case.kebab|snake|pascal`. */
export function signalKey(attribute: DataAttribute): string {
  let key = camel(attribute.key);
  for (const c of attribute.mods.get('case') ?? []) {
    if (c === 'kebab') key = kebab(key);
    else if (c === 'snake') key = kebab(key).replace(/-/g, '_');
    else if (c === 'pascal') key = camel(key).replace(/(^.|(?<=\.).)/g, (x) => x.toUpperCase());
  }
  return key;
}

export function kebab(text: string): string {
  return text
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .replace(/([a-z])([0-9]+)/gi, '$1-$2')
    .replace(/([0-9]+)([a-z])/gi, '$1-$2')
    .toLowerCase();
}

export function camel(text: string): string {
  return kebab(text).replace(/-./g, (x) => x[1].toUpperCase());
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
    mergePatch(signals, pathsToObject([[signalKey(attribute), result]]), ifMissing);
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
