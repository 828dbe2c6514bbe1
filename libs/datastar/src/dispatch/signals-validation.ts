import type { ValidationError, ValidatorOptions } from 'class-validator';

export type ValidationErrors = { [field: string]: string | ValidationErrors };

const PRIMITIVES = new Set<unknown>([Object, String, Number, Boolean, Array, Function, Promise, undefined]);

/** A parameter type that is a DTO class (not a primitive wrapper). */
export function isDtoType(type: unknown): type is new () => object {
  return typeof type === 'function' && !PRIMITIVES.has(type);
}

/** Transforms signals into the DTO class and validates them; errors mirror the signals' shape. */
export async function validateSignals(
  type: new () => object,
  value: unknown,
  options: ValidatorOptions = {},
): Promise<{ value: object; errors?: undefined } | { errors: ValidationErrors; value?: undefined }> {
  const { plainToInstance } = load('class-transformer') as typeof import('class-transformer');
  const { validate } = load('class-validator') as typeof import('class-validator');
  if (value === null || typeof value !== 'object') return { errors: { _: 'signals must be an object' } };
  const instance = plainToInstance(type, value);
  const errors = await validate(instance, { forbidUnknownValues: false, ...options });
  return errors.length ? { errors: toTree(errors) } : { value: instance };
}

function toTree(errors: ValidationError[]): ValidationErrors {
  const tree: ValidationErrors = {};
  for (const error of errors) {
    if (error.children?.length) tree[error.property] = toTree(error.children);
    else tree[error.property] = Object.values(error.constraints ?? {}).join('; ');
  }
  return tree;
}

function load(name: string): unknown {
  try {
    return require(name);
  } catch {
    throw new Error(`@Signals() DTOs need "${name}": npm install class-validator class-transformer`);
  }
}
