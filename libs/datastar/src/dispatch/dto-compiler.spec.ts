import 'reflect-metadata';
import { Transform, Type } from 'class-transformer';
import * as classValidator from 'class-validator';
import {
  IsEmail, IsInt, IsOptional, IsString, registerDecorator, ValidateIf, ValidateNested, type ValidationOptions, type ValidatorOptions,
} from 'class-validator';
import { SendSignals } from '../../../../sample/src/chat/chat.signals';
import { CounterSignals } from '../../../../sample/src/counter/counter.signals';
import { GiftOrder, LineItem, OrderForm, TreeNode, validOrder } from './dto-compiler.fixture';
import { validateSignals, validateWithClassValidator } from './signals-validation';

type Class = new () => object;
type Random = () => number;

/** mulberry32: the same inputs on every run. */
function seeded(seed: number): Random {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const pick = <T>(r: Random, list: readonly T[]): T => list[Math.floor(r() * list.length)];
const upTo = (r: Random, n: number) => Math.floor(r() * (n + 1));

// Surrogate pairs, a lone surrogate, variation selectors, combining marks, RTL, NUL: what validator.js' isLength counts apart.
const UNICODE = ['é', 'ß', '日本', '😀', '👍🏽', '❤\uFE0F', 'a\u0301', '\uD83D', 'עברית', '\u0000', ' ', 'Ω'];
const ASCII = 'abcXYZ0123-_ ';
const SCALARS = [
  null, undefined, 0, -0, -1, 1, 1.5, 1.234, 3, 99, 100, 1_000_000, 1_000_001, 2 ** 53, 1e21, '', ' ', '0', '12345', 'FR', 'card',
  'pro', 'free', 'ab-12', true, false,
];
const EXTRA_KEYS = ['extra', 'x', 'sku', 'zip', 'label', 'initials', 'constructor', '__proto__', 'toString', '0', 'émoji😀'];

function randomString(r: Random): string {
  let text = '';
  for (let n = upTo(r, 14); n > 0; n--) text += r() < 0.7 ? ASCII[Math.floor(r() * ASCII.length)] : pick(r, UNICODE);
  return text;
}

function garbage(r: Random, depth: number): unknown {
  const k = r();
  if (k < 0.45) return pick(r, SCALARS);
  if (k < 0.7 || depth > 2) return randomString(r);
  if (k < 0.85) return Array.from({ length: upTo(r, 3) }, () => garbage(r, depth + 1));
  return Object.fromEntries(Array.from({ length: upTo(r, 3) }, () => [pick(r, EXTRA_KEYS), garbage(r, depth + 1)]));
}

/** A valid input, damaged at random: keys missing, null, undefined, wrong types, out of range, extra keys, reordered. */
function mutate(r: Random, value: unknown, depth = 0): unknown {
  if (Array.isArray(value)) {
    const out = value.map((item) => (r() < 0.05 ? pick(r, [null, undefined]) : mutate(r, item, depth + 1)));
    if (r() < 0.1) out.push(garbage(r, depth));
    if (r() < 0.04) out.length = 0;
    return out;
  }
  if (value !== null && typeof value === 'object') {
    let entries: Array<[string, unknown]> = [];
    for (const [key, item] of Object.entries(value)) {
      const k = r();
      if (k < 0.05) continue;
      entries.push([key, k < 0.08 ? null : k < 0.1 ? undefined : k < 0.2 ? garbage(r, depth) : mutate(r, item, depth + 1)]);
    }
    if (r() < 0.15) entries.push([pick(r, EXTRA_KEYS), garbage(r, depth)]);
    if (r() < 0.2) entries = entries.reverse();
    return Object.fromEntries(entries);
  }
  if (r() < 0.9) return value;
  if (typeof value === 'number') return value * pick(r, [-1, 10, 1000, 0.5]) + pick(r, [0, 0.001]);
  if (typeof value === 'string') return value + randomString(r);
  return value;
}

function tree(r: Random, depth: number): Record<string, unknown> {
  const node: Record<string, unknown> = { label: randomString(r) || 'n' };
  if (depth < 3 && r() < 0.6) node.children = Array.from({ length: upTo(r, 3) }, () => tree(r, depth + 1));
  return node;
}

const VALID: Array<[string, Class, (r: Random) => Record<string, unknown>]> = [
  ['CounterSignals (sample)', CounterSignals, (r) => ({ count: upTo(r, 2_000_000_000) - 1000 })],
  ['SendSignals (sample)', SendSignals, (r) => ({ message: randomString(r) || 'hi', ...(r() < 0.5 ? { name: randomString(r) } : {}) })],
  ['OrderForm (20 fields, nested)', OrderForm, (r) => ({
    ...validOrder(1 + upTo(r, 4)),
    ...(r() < 0.3 ? { billing: { zip: '10115', city: 'Berlin' } } : {}),
    ...(r() < 0.3 ? { grid: [[{ sku: 'a', qty: 1 }], [], [{ sku: 'b', qty: 2, price: 0.5 }]] } : {}),
  })],
  ['GiftOrder (inherits OrderForm)', GiftOrder, (r) => ({ ...validOrder(1 + upTo(r, 2)), wrap: 'red' })],
  ['TreeNode (nests itself)', TreeNode, (r) => tree(r, 0)],
];

// One object each: compiled DTOs are cached per options object, as the module's frozen settings are.
const OPTION_SETS: ValidatorOptions[] = [
  {}, { whitelist: true, forbidNonWhitelisted: true }, { whitelist: true }, { stopAtFirstError: true },
  { skipMissingProperties: true }, { dismissDefaultMessages: true },
];
const PER_OPTION_SET = 120;

const validate = jest.spyOn(classValidator, 'validate');
afterAll(() => validate.mockRestore());

describe('compiled DTO validation (dto-compiler.ts) against class-transformer + class-validator', () => {
  it.each(VALID)('%s: the same verdicts, messages and instances on seeded random inputs', async (_name, type, valid) => {
    const r = seeded(12);
    const verdicts = { valid: 0, invalid: 0 };
    for (const options of OPTION_SETS) {
      for (let i = 0; i < PER_OPTION_SET; i++) {
        const input = i % 5 === 0 ? valid(r) : mutate(r, valid(r));
        validate.mockClear();
        const compiled = await validateSignals(type, structuredClone(input), options);
        expect(validate).not.toHaveBeenCalled(); // the compiled path ran
        const reference = await validateWithClassValidator(type, structuredClone(input), options);
        try {
          expect(compiled).toStrictEqual(reference); // same class at every level, same values, same errors
          expect(JSON.stringify(compiled)).toBe(JSON.stringify(reference)); // and the same key order
        } catch (error) {
          throw new Error(`${(error as Error).message}\noptions ${JSON.stringify(options)}, input ${JSON.stringify(input)}`);
        }
        verdicts[compiled.errors ? 'invalid' : 'valid']++;
      }
    }
    // Both verdicts were compared, many times.
    expect(verdicts.valid).toBeGreaterThan(50);
    expect(verdicts.invalid).toBeGreaterThan(50);
  });

  it('words errors as class-validator does, in its order (decorators apply bottom-up)', async () => {
    expect(await validateSignals(CounterSignals, { count: 'abc', other: 1 })).toEqual({
      errors: { count: 'count must not be greater than 1000000000; count must not be less than 0; count must be an integer number' },
    });
    const result = await validateSignals(OrderForm, {
      ...validOrder(2), items: [{ sku: '', qty: 1 }, 5], shipping: 'x', priority: 1.5, tags: ['a', 'much too long'], pin: '12', rank: 0,
    });
    expect(result.errors).toEqual({
      tags: 'each value in tags must be shorter than or equal to 8 characters',
      items: { 0: { sku: 'sku must be longer than or equal to 1 characters' }, 1: 'each value in nested property items must be either object or array' },
      shipping: 'nested property shipping must be either object or array',
      priority: 'priority must be a whole number, not 1.5',
      pin: 'pin must be longer than or equal to 3 characters',
      rank: 'rank of OrderForm is 0',
    });
  });

  it('builds the instance: the DTO class at every level, only declared keys, data copied', async () => {
    const input: Record<string, unknown> = { ...validOrder(1), grid: [[{ sku: 'a', qty: 1, junk: 1 }]], junk: { deep: 1 } };
    const order = (await validateSignals(OrderForm, input)).value as OrderForm;
    expect(order).toBeInstanceOf(OrderForm);
    expect(order.items[0]).toBeInstanceOf(LineItem);
    expect(order.grid![0][0]).toStrictEqual(Object.assign(new LineItem(), { sku: 'a', qty: 1 }));
    expect(Object.keys(order)).not.toContain('junk');
    expect(order.meta).toEqual(input.meta);
    expect(order.meta).not.toBe(input.meta);
  });
});

describe('DTOs the compiler does not know go through class-validator, with the same results as before', () => {
  function IsEven(options?: ValidationOptions) {
    return (object: object, propertyName: string) => registerDecorator({
      name: 'isEven', target: object.constructor, propertyName, options,
      validator: { validate: (value: unknown) => typeof value === 'number' && value % 2 === 0, defaultMessage: () => '$property must be even' },
    });
  }
  class Custom {
    @IsEven() n!: number;
    @IsString() s!: string;
  }
  class Unknown {
    @IsEmail() email!: string;
  }
  class Transformed {
    @Transform(({ value }) => String(value).trim()) @IsString() name!: string;
  }
  class Conditional {
    @IsInt() kind!: number;
    @ValidateIf((o) => o.kind === 1) @IsString() detail?: string;
  }
  class Outer {
    @IsOptional() @IsString() label?: string;
    @ValidateNested() @Type(() => Custom) inner!: Custom;
  }
  it.each<[string, Class, unknown, unknown, ValidatorOptions | undefined]>([
    ['a custom decorator', Custom, { n: 3, s: 1 }, { errors: { n: 'n must be even', s: 's must be a string' } }, undefined],
    ['a decorator it does not compile (@IsEmail)', Unknown, { email: 'nope' }, { errors: { email: 'email must be an email' } }, undefined],
    ['@Transform', Transformed, { name: '  Ada ' }, { value: Object.assign(new Transformed(), { name: 'Ada' }) }, undefined],
    ['@ValidateIf', Conditional, { kind: 1, detail: 2 }, { errors: { detail: 'detail must be a string' } }, undefined],
    ['a custom decorator in a nested DTO', Outer, { inner: { n: 2, s: 'x' }, label: 3 }, { errors: { label: 'label must be a string' } }, undefined],
    ['an option it does not compile (forbidUnknownValues)', CounterSignals, { count: 1 }, { value: Object.assign(new CounterSignals(), { count: 1 }) }, { forbidUnknownValues: true }],
  ])('%s', async (_name, type, input, expected, options) => {
    validate.mockClear();
    const result = await validateSignals(type, input, options);
    expect(validate).toHaveBeenCalledTimes(1);
    expect(result).toStrictEqual(expected);
    expect(result).toStrictEqual(await validateWithClassValidator(type, input, options));
  });
});
