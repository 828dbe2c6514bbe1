/**
 * Compiles a `@Signals()` DTO's class-validator and class-transformer metadata, once, into two
 * plain functions: `build` makes the instance `plainToInstance` would make of the declared keys
 * (see dto-shape.ts), `check` reports what `validate()` would, with class-validator's own messages,
 * in the error tree signals-validation returns. Per request there is no metadata lookup, no
 * `ValidationError` and no promise, and the work is linear in the signals.
 *
 * Only the common decorators are compiled (RULES, `@IsOptional`, `@IsDefined`, `@Allow`,
 * `@ValidateNested` with `@Type(() => Class)`); a DTO that uses anything else anywhere, or options
 * this file does not know, is not compiled: `compileDto` answers undefined and class-validator
 * runs as before.
 */
import type { ValidationArguments, ValidatorOptions } from 'class-validator';
import { copyData, dtoShape } from './dto-shape';
import type { ValidationErrors } from './signals-validation';

type Class = new () => object;
type Validator = typeof import('class-validator');
type Test = (value: unknown) => boolean;

/** What the compiler reads its metadata and messages from (loaded by signals-validation). */
export interface ValidationLibraries {
  validator: Validator;
  /** class-transformer's `defaultMetadataStorage`. */
  storage: any;
  /** class-validator's `ValidationUtils`: fills `$property`, `$constraint1`... as `validate()` does. */
  messages: { replaceMessageSpecialTokens(message: unknown, args: ValidationArguments): string };
}

export interface CompiledDto {
  /** The DTO instance for parsed signals (an object, not an array): declared keys only. */
  build(value: object): object;
  /** The error tree class-validator would give for the instance; undefined when it is valid. */
  check(instance: object): ValidationErrors | undefined;
}

/**
 * The compiled constraints, by class-validator's constraint name, made of class-validator's own
 * functions (so their verdicts are its verdicts: string lengths count as validator.js counts),
 * taken from the module once (its exports are getters).
 */
const RULES = new Map<string, (v: Validator, constraints: any[]) => Test>([
  ['isString', ({ isString }) => (value) => isString(value)],
  ['isInt', ({ isInt }) => (value) => isInt(value)],
  ['isNumber', ({ isNumber }, [options]) => {
    // Without options isNumber is Number.isFinite; its default `{}` was an object per call.
    const plain = options === undefined || (options.allowNaN === undefined && options.allowInfinity === undefined && options.maxDecimalPlaces === undefined);
    return plain ? (value) => Number.isFinite(value) : (value) => isNumber(value, options);
  }],
  ['isBoolean', ({ isBoolean }) => (value) => isBoolean(value)],
  ['isArray', ({ isArray }) => (value) => isArray(value)],
  ['isObject', ({ isObject }) => (value) => isObject(value)],
  ['isDefined', ({ isDefined }) => (value) => isDefined(value)],
  ['isNotEmpty', ({ isNotEmpty }) => (value) => isNotEmpty(value)],
  ['min', ({ min }, [bound]) => (value) => min(value, bound)],
  ['max', ({ max }, [bound]) => (value) => max(value, bound)],
  // validator.js' isLength counts a surrogate pair or a variation-selector sequence as one, with two
  // regex matches per call: a string with neither (one test) has its plain length (bench: validation).
  ['minLength', ({ minLength }, [bound]) => (value) =>
    typeof value === 'string' && (COUNTED_APART.test(value) ? minLength(value, bound) : value.length >= (bound || 0))],
  ['maxLength', ({ maxLength }, [bound]) => (value) =>
    typeof value === 'string' && (value.length <= bound || maxLength(value, bound))], // the count is never above .length
  ['isLength', ({ length }, [min, max]) => (value) =>
    typeof value === 'string' && (COUNTED_APART.test(value) ? length(value, min, max) : inRange(value.length, min, max))],
  ['matches', ({ matches }, [pattern, modifiers]) => {
    // validator.js builds a RegExp from a string pattern on every call: once here (not a sticky
    // one, whose lastIndex would then carry over from one call to the next).
    if (typeof pattern !== 'string' || String(modifiers ?? '').includes('y')) return (value) => matches(value as string, pattern, modifiers);
    const regexp = new RegExp(pattern, modifiers);
    return (value) => typeof value === 'string' && value.match(regexp) !== null;
  }],
  ['isIn', ({ isIn }, [values]) => (value) => isIn(value, values)],
  ['isEnum', (_, [entity]) => {
    // isEnum() lists the enum's values on every call: once here.
    const values = Object.keys(entity).map((key) => entity[key]);
    return (value) => values.includes(value);
  }],
  ['arrayMinSize', ({ arrayMinSize }, [bound]) => (value) => arrayMinSize(value, bound)],
  ['arrayMaxSize', ({ arrayMaxSize }, [bound]) => (value) => arrayMaxSize(value, bound)],
  ['arrayNotEmpty', ({ arrayNotEmpty }) => (value) => arrayNotEmpty(value)],
]);

/** What validator.js' isLength counts apart from `.length`: surrogates and variation selectors. */
const COUNTED_APART = /[\uD800-\uDBFF\uFE0E\uFE0F]/;

/** isLength's range check on a plain length. */
function inRange(length: number, min: number | undefined, max: number | undefined): boolean {
  return length >= (min || 0) && (typeof max === 'undefined' || length <= max);
}

/** Validator options the compiled path honours; any other key sends the DTO to class-validator. */
const KNOWN_OPTIONS = new Set([
  'enableDebugMessages', 'skipUndefinedProperties', 'skipNullProperties', 'skipMissingProperties', 'whitelist',
  'forbidNonWhitelisted', 'groups', 'always', 'strictGroups', 'dismissDefaultMessages', 'validationError',
  'forbidUnknownValues', 'stopAtFirstError',
]);

interface ClassPlan {
  type: Class;
  /** The declared plain keys: copied as data, or built as a nested DTO (`@Type`). */
  fields: Array<{ key: string; nested?: ClassPlan }>;
  /** The validated properties, in class-validator's order. */
  props: PropPlan[];
}

interface PropPlan {
  property: string;
  /** `@IsOptional()`: null and undefined skip every check. */
  optional: boolean;
  /** `@IsDefined()`: checked before the skip options, as class-validator does. */
  defined: RulePlan[];
  rules: RulePlan[];
  /** `@ValidateNested()`: the metadata (its message) and the plan of the `@Type` class. */
  nested?: { meta: any; plan: ClassPlan };
}

interface RulePlan {
  name: string;
  test: Test;
  each: boolean;
  meta: any;
  /** class-validator's constraint metadata: its `instance.defaultMessage` writes the message. */
  constraint: any;
}

const compiled = new WeakMap<ValidatorOptions, WeakMap<Class, CompiledDto | null>>();

/** The compiled DTO for these options (cached per options object), or undefined: use class-validator. */
export function compileDto(type: Class, options: ValidatorOptions, libs: ValidationLibraries): CompiledDto | undefined {
  let byType = compiled.get(options);
  if (!byType) compiled.set(options, (byType = new WeakMap()));
  let dto = byType.get(type);
  if (dto === undefined) {
    dto = new DtoCompiler({ forbidUnknownValues: false, ...options }, libs).compile(type) ?? null;
    byType.set(type, dto);
  }
  return dto ?? undefined;
}

class DtoCompiler {
  private readonly plans = new Map<Class, ClassPlan>();
  private readonly metadata: any;

  constructor(private readonly options: ValidatorOptions, private readonly libs: ValidationLibraries) {
    this.metadata = libs.validator.getMetadataStorage();
  }

  compile(type: Class): CompiledDto | undefined {
    const options = this.options;
    if (options.forbidUnknownValues !== false || Object.keys(options).some((key) => !KNOWN_OPTIONS.has(key))) return undefined;
    let plan: ClassPlan | undefined;
    try {
      plan = this.plan(type);
    } catch {
      return undefined; // a type function or a pattern that throws: class-validator reports it as before
    }
    if (!plan) return undefined;
    const root = plan;
    const check = new Checker(options, this.libs);
    return { build: (value) => build(root, value as Record<string, unknown>), check: (instance) => check.object(root, instance) };
  }

  private plan(type: Class): ClassPlan | undefined {
    const known = this.plans.get(type);
    if (known) return known;
    const { validator, storage } = this.libs;
    const shape = dtoShape(type, validator, storage);
    if (!shape.fields || storage.getStrategy(type) !== 'none') return undefined;
    const plan: ClassPlan = { type, fields: [], props: [] };
    this.plans.set(type, plan); // before recursing: a class may nest itself
    // The instance class-transformer starts from: object defaults (shared or not, Sets, methods)
    // and names on the prototype (accessors, methods, `constructor`) are left to it.
    const sample = new type() as Record<string, unknown>;
    const prototype = Object.getPrototypeOf(sample);
    if (Object.values(sample).some((value) => value !== null && (typeof value === 'object' || typeof value === 'function'))) return undefined;
    for (const [key, field] of shape.fields) {
      if (key !== field.property || key in prototype) return undefined; // @Expose({ name }), or a prototype name
      if (field.copy) {
        plan.fields.push({ key });
        continue;
      }
      const nested = field.nested && this.nestedPlan(type, key);
      if (!nested) return undefined; // @Transform, @Exclude, @Expose, @Type of a built-in, a Map, a discriminator
      plan.fields.push({ key, nested });
    }
    const options = this.options;
    const metas = this.metadata.getTargetValidationMetadatas(type, '', !!options.always, !!options.strictGroups, options.groups);
    const grouped: Record<string, any[]> = this.metadata.groupByPropertyName(metas);
    // `whitelist` deletes (or reports) instance keys that have no metadata: left to class-validator.
    if (options.whitelist && [...Object.keys(sample), ...shape.fields.keys()].some((key) => !grouped[key]?.length)) return undefined;
    for (const property of Object.keys(grouped)) {
      const prop = this.prop(plan, property, grouped[property]);
      if (!prop) return undefined;
      plan.props.push(prop);
    }
    return plan;
  }

  /** `@Type(() => Class)` alone on the property, and arrays that class-transformer makes plain. */
  private nestedPlan(type: Class, key: string): ClassPlan | undefined {
    const storage = this.libs.storage;
    const meta = storage.findTypeMetadata(type, key);
    if (!meta || meta.options?.discriminator || typeof meta.typeFunction !== 'function' || meta.typeFunction.length > 0) return undefined;
    if (storage.findExposeMetadata(type, key) || storage.findExcludeMetadata(type, key) || storage.findTransformMetadatas(type, key, 0).length) return undefined;
    if (!makesPlainArrays(meta.reflectedType)) return undefined;
    return this.plan(meta.typeFunction());
  }

  private prop(plan: ClassPlan, property: string, metas: any[]): PropPlan | undefined {
    const prop: PropPlan = { property, optional: false, defined: [], rules: [] };
    for (const meta of metas) {
      if (meta.validateIf) return undefined;
      switch (meta.type) {
        case 'conditionalValidation':
          if (meta.name !== 'isOptional') return undefined; // @ValidateIf
          prop.optional = true;
          break;
        case 'whitelistValidation': // @Allow: no check
          break;
        case 'nestedValidation': {
          const nested = plan.fields.find((field) => field.key === property)?.nested;
          if (!nested || prop.nested) return undefined; // without @Type, or twice
          prop.nested = { meta, plan: nested };
          break;
        }
        case 'isDefined':
        case 'customValidation': {
          const rule = this.rule(meta);
          if (!rule) return undefined;
          (meta.type === 'isDefined' ? prop.defined : prop.rules).push(rule);
          break;
        }
        default:
          return undefined; // @ValidatePromise, and anything newer
      }
    }
    return prop;
  }

  private rule(meta: any): RulePlan | undefined {
    const constraints = this.metadata.getTargetValidatorConstraints(meta.constraintCls);
    const constraint = constraints[0];
    const make = constraints.length === 1 && !constraint.async ? RULES.get(constraint.name) : undefined;
    return make && { name: constraint.name, test: make(this.libs.validator, meta.constraints ?? []), each: !!meta.each, meta, constraint };
  }
}

/** What class-transformer's `instantiateArrayType` makes for the property's reflected type: only plain arrays here. */
function makesPlainArrays(reflected: unknown): boolean {
  if (reflected === undefined || reflected === Array || reflected === Object) return true;
  if (typeof reflected !== 'function') return false;
  const made = new (reflected as new () => object)();
  return Array.isArray(made) ? made.constructor === Array : !(made instanceof Set) && !('push' in made);
}

/** What `plainToInstance` + `fillCopies` make of the declared keys: nested DTOs built, other objects deep-copied. */
function build(plan: ClassPlan, value: Record<string, unknown>): object {
  const instance = new plan.type() as Record<string, unknown>;
  for (const { key, nested } of plan.fields) {
    const item = value[key];
    if (item === undefined && !(key in value)) continue;
    instance[key] = nested ? buildNested(nested, item) : item !== null && typeof item === 'object' ? copyData(item) : item;
  }
  return instance;
}

function buildNested(plan: ClassPlan, item: unknown): unknown {
  if (Array.isArray(item)) return item.map((each) => buildNested(plan, each));
  return item !== null && typeof item === 'object' ? build(plan, item as Record<string, unknown>) : item;
}

/** class-validator's `ValidationExecutor`, for compiled plans, writing the error tree directly. */
class Checker {
  private readonly stop: boolean;

  constructor(private readonly options: ValidatorOptions, private readonly libs: ValidationLibraries) {
    this.stop = !!options.stopAtFirstError;
  }

  object(plan: ClassPlan, object: any): ValidationErrors | undefined {
    let tree: ValidationErrors | undefined;
    for (const prop of plan.props) {
      const value = object[prop.property];
      if (prop.optional && (value === null || value === undefined)) continue;
      let failed = this.apply(prop.defined, object, value, undefined);
      let children: ValidationErrors | undefined;
      if (!this.skips(value)) {
        failed = this.apply(prop.rules, object, value, failed);
        if (prop.nested && value !== undefined && !(this.stop && failed)) {
          const result = this.nested(prop.nested, value);
          if (typeof result === 'string') (failed ??= {}).nestedValidation = result;
          else children = result;
        }
      }
      // As signals-validation's toTree: a property with nested errors shows only those.
      if (children) (tree ??= {})[prop.property] = children;
      else if (failed) (tree ??= {})[prop.property] = Object.values(failed).join('; ');
    }
    return tree;
  }

  private skips(value: unknown): boolean {
    const o = this.options;
    if (value === undefined) return o.skipUndefinedProperties === true || o.skipMissingProperties === true;
    return value === null && (o.skipNullProperties === true || o.skipMissingProperties === true);
  }

  /** Failed constraints, by name (a second constraint of the same name replaces the first, in place). */
  private apply(rules: RulePlan[], object: object, value: unknown, failed: Record<string, string> | undefined) {
    for (const rule of rules) {
      if (this.stop && failed) break;
      const ok = rule.each && Array.isArray(value) ? value.every(rule.test) : rule.test(value);
      if (!ok) (failed ??= {})[rule.name] = this.message(rule.meta, rule.constraint, object, value);
    }
    return failed;
  }

  /** A nested value: the errors of the DTO (of each item of an array), or the message for a non-object. */
  private nested(nested: NonNullable<PropPlan['nested']>, value: unknown): ValidationErrors | string | undefined {
    if (Array.isArray(value)) {
      let tree: ValidationErrors | undefined;
      for (let i = 0; i < value.length; i++) {
        const item = value[i];
        if (item === undefined || this.skips(item)) continue;
        const result = this.nested(nested, item);
        if (result !== undefined) (tree ??= {})[i] = result;
      }
      return tree;
    }
    if (value instanceof Object) return this.object(nested.plan, value);
    return this.message(nested.meta, undefined, nested.meta.target, value);
  }

  /** class-validator's `createValidationError`: the decorator's message, or the constraint's default one. */
  private message(meta: any, constraint: any, object: any, value: unknown): string {
    const args: ValidationArguments = {
      targetName: object.constructor ? object.constructor.name : undefined,
      property: meta.propertyName, object, value, constraints: meta.constraints,
    };
    let message = meta.message || '';
    if (!meta.message && !this.options.dismissDefaultMessages && constraint) {
      const instance = constraint.instance;
      if (instance.defaultMessage instanceof Function) message = instance.defaultMessage(args);
    }
    return this.libs.messages.replaceMessageSpecialTokens(message, args);
  }
}
