import type { ValidationError, ValidatorOptions } from 'class-validator';
import { compileDto, type ValidationLibraries } from './dto-compiler';
import { dtoShape, fillCopies, pickDeclared, type KeyPath } from './dto-shape';

export type ValidationErrors = { [field: string]: string | ValidationErrors };
export type SignalsValidation = { value: object; errors?: undefined } | { errors: ValidationErrors; value?: undefined };

const PRIMITIVES = new Set<unknown>([Object, String, Number, Boolean, Array, Function, Promise, undefined]);
/** With `forbidNonWhitelisted`, this many undeclared keys are reported (class-validator would list every one). */
const MAX_REPORTED_UNKNOWN_KEYS = 10;
/** The default options: one object, so that DTOs compiled for it are cached. */
const NO_OPTIONS: ValidatorOptions = Object.freeze({});

/** A parameter type that is a DTO class (not a primitive wrapper). */
export function isDtoType(type: unknown): type is new () => object {
  return typeof type === 'function' && !PRIMITIVES.has(type);
}

/**
 * Transforms signals into the DTO class and validates them; errors mirror the signals' shape.
 * A DTO made of the common decorators runs compiled (dto-compiler.ts: the same instance, verdicts
 * and messages, without class-validator's per-call cost); any other goes through class-transformer
 * and class-validator.
 */
export async function validateSignals(type: new () => object, value: unknown, options: ValidatorOptions = NO_OPTIONS): Promise<SignalsValidation> {
  return validateSignalsNow(type, value, options);
}

/** `validateSignals` without a promise for a compiled DTO (dispatch then needs no async hop). */
export function validateSignalsNow(
  type: new () => object, value: unknown, options: ValidatorOptions = NO_OPTIONS,
): SignalsValidation | Promise<SignalsValidation> {
  const libs = libraries();
  const dto = value !== null && typeof value === 'object' && !Array.isArray(value) ? compileDto(type, options, libs) : undefined;
  if (!dto) return validateWithClassValidator(type, value, options);
  const instance = dto.build(value!);
  let tree = dto.check(instance);
  if (options.whitelist && options.forbidNonWhitelisted) {
    const unknown: KeyPath[] = [];
    pickDeclared(value, dtoShape(type, libs.validator, libs.storage), unknown, MAX_REPORTED_UNKNOWN_KEYS);
    tree = withUnknown(tree, unknown);
  }
  return tree ? { errors: tree } : { value: instance };
}

/**
 * `validateSignals` through class-transformer's `plainToInstance` and class-validator's `validate`.
 * class-transformer gets only the keys the DTO declares (see dto-shape.ts): undeclared keys never
 * reach the instance, whatever `whitelist` says; with `whitelist` and `forbidNonWhitelisted` the
 * first of them are reported as class-validator would.
 */
export async function validateWithClassValidator(
  type: new () => object,
  value: unknown,
  options: ValidatorOptions = NO_OPTIONS,
): Promise<SignalsValidation> {
  const { plainToInstance, validator, storage } = libraries();
  if (value === null || typeof value !== 'object') return { errors: { _: 'signals must be an object' } };
  const shape = dtoShape(type, validator, storage);
  const unknown: KeyPath[] = [];
  const instance = plainToInstance(type, pickDeclared(value, shape, unknown, MAX_REPORTED_UNKNOWN_KEYS)) as object;
  fillCopies(instance, value, shape);
  const errors = await validator.validate(instance, { forbidUnknownValues: false, ...options });
  let tree = errors.length ? toTree(errors) : undefined;
  if (options.whitelist && options.forbidNonWhitelisted) tree = withUnknown(tree, unknown);
  return tree ? { errors: tree } : { value: instance };
}

/** Adds the undeclared keys' errors, as class-validator words them. */
function withUnknown(tree: ValidationErrors | undefined, unknown: KeyPath[]): ValidationErrors | undefined {
  for (const path of unknown) tree = withError(tree ?? {}, path, `property ${path[path.length - 1]} should not exist`);
  return tree;
}

function toTree(errors: ValidationError[]): ValidationErrors {
  const tree: ValidationErrors = {};
  for (const error of errors) {
    if (error.children?.length) tree[error.property] = toTree(error.children);
    else tree[error.property] = Object.values(error.constraints ?? {}).join('; ');
  }
  return tree;
}

/** Adds `message` at `path` (keys and array indexes, as class-validator nests them). */
function withError(tree: ValidationErrors, path: KeyPath, message: string): ValidationErrors {
  let node = tree;
  for (let i = 0; i < path.length - 1; i++) {
    const key = String(path[i]);
    const next = node[key];
    if (typeof next === 'object') node = next;
    else node = node[key] = next === undefined ? {} : { _: next };
  }
  const last = String(path[path.length - 1]);
  const existing = node[last];
  node[last] = typeof existing === 'string' ? `${existing}; ${message}` : message;
  return tree;
}

let loaded: (ValidationLibraries & { plainToInstance: typeof import('class-transformer').plainToInstance }) | undefined;

/** class-validator and class-transformer, required on first use (they are optional peer dependencies). */
function libraries(): NonNullable<typeof loaded> {
  if (loaded) return loaded;
  const transformer = load('class-transformer') as typeof import('class-transformer');
  loaded = {
    plainToInstance: transformer.plainToInstance,
    validator: load('class-validator') as typeof import('class-validator'),
    storage: (load('class-transformer/cjs/storage') as { defaultMetadataStorage: unknown }).defaultMetadataStorage,
    // Not re-exported by class-validator's index: the function its validate() words messages with.
    messages: (load('class-validator/cjs/validation/ValidationUtils') as { ValidationUtils: ValidationLibraries['messages'] }).ValidationUtils,
  };
  return loaded;
}

function load(name: string): unknown {
  try {
    return require(name);
  } catch {
    throw new Error(`@Signals() DTOs need "${name}": npm install class-validator class-transformer`);
  }
}
