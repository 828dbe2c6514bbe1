/**
 * What a `@Signals()` DTO class declares, read from class-validator's and class-transformer's
 * metadata (the only file that reads them). The dispatcher hands class-transformer only these
 * keys: `plainToInstance` compares every key of an object with every other (quadratic), so 90,000
 * undeclared keys took seconds of CPU; filtered first, the work is linear in the signals.
 */

type Class = new (...args: any[]) => object;

/** One declared plain key. */
export interface DtoField {
  /** The instance property it fills (differs from the key with `@Expose({ name })`). */
  property: string;
  /** `@Type(() => Child)`: objects in the value (itself, each item of an array, each Map value) are picked by this shape. */
  nested?: DtoShape;
  map?: boolean;
  /**
   * No class-transformer metadata: `plainToInstance` would only deep-copy an object value, so we
   * copy it ourselves (linearly) after the transform.
   */
  copy: boolean;
}

export interface DtoShape {
  /** Plain key -> field; undefined when the class declares nothing: then every key is a `copy` field. */
  fields?: Map<string, DtoField>;
}

/** Where an undeclared key was found (path of keys and array indexes), for `forbidNonWhitelisted`. */
export type KeyPath = Array<string | number>;

const shapes = new WeakMap<Class, DtoShape>();
/** `@Type(() => Date)` and the like: values class-transformer converts itself. */
const BUILT_INS = new Set<unknown>([Object, Array, Map, Set, String, Number, Boolean, Date, RegExp, Symbol, BigInt, Function, Promise, Buffer]);
const OPEN_FIELD = (property: string): DtoField => ({ property, copy: true });

/** The shape of a DTO class (cached; cycles such as a tree of nodes share one shape object). */
export function dtoShape(type: Class, validator: any, storage: any): DtoShape {
  let shape = shapes.get(type);
  if (shape) return shape;
  shape = {};
  shapes.set(type, shape); // before recursing: a class may nest itself
  const fields = new Map<string, DtoField>();
  const properties = new Set<string>();
  for (const m of validator.getMetadataStorage().getTargetValidationMetadatas(type, '', true, false)) properties.add(m.propertyName);
  for (const m of storage.getExposedMetadatas(type)) properties.add(m.propertyName);
  // Properties with only @Type() or @Transform(): no public list, so the storage's own maps (checked by dto-shape.spec).
  for (const map of [storage._typeMetadatas, storage._transformMetadatas]) {
    for (let t: unknown = type; typeof t === 'function' && t !== Function.prototype; t = Object.getPrototypeOf(t)) {
      const byProperty = map instanceof Map ? map.get(t) : undefined;
      if (byProperty instanceof Map) for (const key of byProperty.keys()) properties.add(key);
    }
  }
  const excludeAll = storage.getStrategy(type) === 'excludeAll';
  for (const property of properties) {
    if (typeof property !== 'string') continue;
    const typeMeta = storage.findTypeMetadata(type, property);
    const expose = storage.findExposeMetadata(type, property);
    const transformed = storage.findTransformMetadatas(type, property, 0 /* PLAIN_TO_CLASS */).length > 0;
    const untouched = !typeMeta && !expose && !transformed && !excludeAll && !storage.findExcludeMetadata(type, property);
    const field: DtoField = { property, copy: untouched };
    if (typeMeta) {
      field.map = typeMeta.reflectedType === Map;
      field.nested = nestedShape(typeMeta, validator, storage);
    }
    fields.set(property, field);
    if (expose?.options?.name) fields.set(expose.options.name, field);
  }
  if (fields.size > 0) shape.fields = fields;
  return shape;
}

/** `@Type(() => Child)`; with a discriminator, the union of its sub-types' keys. */
function nestedShape(meta: any, validator: any, storage: any): DtoShape | undefined {
  const subTypes: Array<{ value: Class }> | undefined = meta.options?.discriminator?.subTypes;
  if (subTypes?.length) {
    const fields = new Map<string, DtoField>();
    fields.set(meta.options.discriminator.property, { property: meta.options.discriminator.property, copy: false });
    for (const sub of subTypes) {
      const shape = dtoShape(sub.value, validator, storage);
      if (!shape.fields) return {}; // one sub-type declares nothing: it takes every key
      for (const [key, field] of shape.fields) if (!fields.has(key)) fields.set(key, { ...field, copy: false });
    }
    return { fields };
  }
  let type: unknown;
  try {
    type = meta.typeFunction?.({}) ?? meta.reflectedType;
  } catch {
    return undefined; // a type chosen from the value itself: class-transformer decides per value
  }
  return typeof type === 'function' && !BUILT_INS.has(type) ? dtoShape(type as Class, validator, storage) : undefined;
}

const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object';

/**
 * The input for `plainToInstance`: only declared keys, nested DTOs picked the same way, `copy`
 * fields' object values left out (`fillCopies` adds them). Undeclared keys go to `unknown` (at most `max`).
 */
export function pickDeclared(value: unknown, shape: DtoShape, unknown: KeyPath[], max: number, path: KeyPath = []): unknown {
  if (Array.isArray(value)) return value.map((item, i) => (isObject(item) ? pickDeclared(item, shape, unknown, max, [...path, i]) : item));
  if (!isObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const field = shape.fields ? shape.fields.get(key) : OPEN_FIELD(key);
    const item = value[key];
    if (!field) {
      if (unknown.length < max) unknown.push([...path, key]);
      continue;
    }
    if (field.copy && isObject(item)) continue;
    if (field.nested && isObject(item)) {
      out[key] = field.map && !Array.isArray(item)
        ? Object.fromEntries(Object.keys(item).map((k) => [k, pickDeclared(item[k], field.nested!, unknown, max, [...path, key, k])]))
        : pickDeclared(item, field.nested, unknown, max, [...path, key]);
    } else {
      out[key] = item;
    }
  }
  return out;
}

/** Puts the `copy` fields' object values on the instances `plainToInstance` made, as deep copies. */
export function fillCopies(instance: unknown, value: unknown, shape: DtoShape): void {
  if (Array.isArray(value)) {
    if (Array.isArray(instance)) value.forEach((item, i) => fillCopies(instance[i], item, shape));
    return;
  }
  if (!isObject(value) || !isObject(instance)) return;
  for (const key of Object.keys(value)) {
    const field = shape.fields ? shape.fields.get(key) : OPEN_FIELD(key);
    const item = value[key];
    if (!field || !isObject(item)) continue;
    if (field.copy) {
      if (!isReadOnly(instance, field.property)) instance[field.property] = copyData(item);
    } else if (field.nested) {
      const target = instance[field.property];
      if (field.map && target instanceof Map) for (const k of Object.keys(item)) fillCopies(target.get(k), item[k], field.nested);
      else fillCopies(target, item, field.nested);
    }
  }
}

/** class-transformer leaves getters without setters and methods alone: so do we. */
function isReadOnly(instance: Record<string, unknown>, property: string): boolean {
  const descriptor = Object.getOwnPropertyDescriptor(instance.constructor?.prototype ?? {}, property);
  return (descriptor !== undefined && !descriptor.set) || typeof instance[property] === 'function';
}

/** A deep copy of parsed signals (plain objects, arrays, primitives), as `plainToInstance` makes one. */
export function copyData(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(copyData);
  if (!isObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) out[key] = copyData(value[key]);
  return out;
}
