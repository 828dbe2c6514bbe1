import type { ValidationError, ValidatorOptions } from 'class-validator';
import { dtoShape, fillCopies, pickDeclared, type KeyPath } from './dto-shape';

export type ValidationErrors = { [field: string]: string | ValidationErrors };

const PRIMITIVES = new Set<unknown>([Object, String, Number, Boolean, Array, Function, Promise, undefined]);
/** With `forbidNonWhitelisted`, this many undeclared keys are reported (class-validator would list every one). */
const MAX_REPORTED_UNKNOWN_KEYS = 10;

/** A parameter type that is a DTO class (not a primitive wrapper). */
export function isDtoType(type: unknown): type is new () => object {
  return typeof type === 'function' && !PRIMITIVES.has(type);
}

/**
 * Transforms signals into the DTO class and validates them; errors mirror the signals' shape.
 * class-transformer gets only the keys the DTO declares (see dto-shape.ts): undeclared keys never
 * reach the instance, whatever `whitelist` says; with `whitelist` and `forbidNonWhitelisted` the
 * first of them are reported as class-validator would.
 */
export async function validateSignals(
  type: new () => object,
  value: unknown,
  options: ValidatorOptions = {},
): Promise<{ value: object; errors?: undefined } | { errors: ValidationErrors; value?: undefined }> {
  const { plainToInstance } = load('class-transformer') as typeof import('class-transformer');
  const validator = load('class-validator') as typeof import('class-validator');
  const storage = (load('class-transformer/cjs/storage') as { defaultMetadataStorage: unknown }).defaultMetadataStorage;
  if (value === null || typeof value !== 'object') return { errors: { _: 'signals must be an object' } };
  const shape = dtoShape(type, validator, storage);
  const unknown: KeyPath[] = [];
  const instance = plainToInstance(type, pickDeclared(value, shape, unknown, MAX_REPORTED_UNKNOWN_KEYS)) as object;
  fillCopies(instance, value, shape);
  const errors = await validator.validate(instance, { forbidUnknownValues: false, ...options });
  let tree = errors.length ? toTree(errors) : undefined;
  if (options.whitelist && options.forbidNonWhitelisted) {
    for (const path of unknown) tree = withError(tree ?? {}, path, `property ${path[path.length - 1]} should not exist`);
  }
  return tree ? { errors: tree } : { value: instance };
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

function load(name: string): unknown {
  try {
    return require(name);
  } catch {
    throw new Error(`@Signals() DTOs need "${name}": npm install class-validator class-transformer`);
  }
}
