/**
 * DTOs for dto-compiler.spec.ts and the `validation` bench: every decorator the compiler knows,
 * nested objects, arrays of them, arrays of arrays, inheritance, a class nesting itself.
 */
import { Type } from 'class-transformer';
import {
  Allow, ArrayMaxSize, ArrayMinSize, ArrayNotEmpty, IsArray, IsBoolean, IsDefined, IsEnum, IsIn, IsInt, IsNotEmpty,
  IsNumber, IsObject, IsOptional, IsString, Length, Matches, Max, MaxLength, Min, MinLength, ValidateNested,
} from 'class-validator';

export enum Tier {
  Free = 'free',
  Pro = 'pro',
  Team = 3,
}

export class LineItem {
  @IsString() @Length(1, 12)
  sku!: string;

  @IsInt() @Min(1) @Max(99)
  qty!: number;

  @IsOptional() @IsNumber({ maxDecimalPlaces: 2 }) @Min(0)
  price?: number;
}

export class Address {
  @IsString() @Matches(/^\d{5}$/)
  zip!: string;

  @IsString() @IsNotEmpty() @MaxLength(20)
  city!: string;

  @IsOptional() @IsIn(['FR', 'DE', 'US'])
  country?: string;
}

/** The 20-field nested DTO. */
export class OrderForm {
  @IsString() @MinLength(2) @MaxLength(30)
  name!: string;

  @IsInt() @Min(0) @Max(1_000_000)
  count!: number;

  @IsNumber()
  total!: number;

  @IsBoolean()
  gift!: boolean;

  @IsOptional() @IsString() @MaxLength(80)
  note?: string;

  @IsEnum(Tier)
  tier!: Tier;

  @IsIn(['card', 'cash', 'transfer'])
  payment!: string;

  @IsArray() @IsString({ each: true }) @MaxLength(8, { each: true }) @ArrayMaxSize(5)
  tags!: string[];

  @IsArray() @ArrayMinSize(1) @ArrayMaxSize(5000) @ValidateNested({ each: true }) @Type(() => LineItem)
  items!: LineItem[];

  @ValidateNested() @Type(() => Address)
  shipping!: Address;

  @IsOptional() @ValidateNested() @Type(() => Address)
  billing?: Address;

  @Matches('^[A-Z]{2}-\\d+$', 'i')
  code!: string;

  @IsNotEmpty()
  ref!: string;

  @IsDefined() @IsInt({ message: 'priority must be a whole number, not $value' })
  priority!: number;

  @IsOptional() @IsObject()
  meta?: Record<string, unknown>;

  @Length(3, 6)
  pin!: string;

  @IsOptional() @Min(1, { message: (args) => `${args.property} of ${args.targetName} is ${JSON.stringify(args.value)}` })
  rank?: number;

  @Allow()
  free?: unknown;

  @IsOptional() @ValidateNested({ each: true }) @Type(() => LineItem)
  grid?: LineItem[][];

  /** Never valid when present (a string is no array): for the order of several messages. */
  @IsOptional() @IsString() @IsNotEmpty() @ArrayNotEmpty() @Length(1, 3) @MinLength(2)
  initials?: string;
}

/** Inherits OrderForm's 20 fields; its own `name` rule replaces the inherited ones (class-validator's rule), with a default. */
export class GiftOrder extends OrderForm {
  @IsString() @MaxLength(5)
  wrap!: string;

  @MinLength(3)
  override name = '';
}

export class TreeNode {
  @IsString() @IsNotEmpty()
  label!: string;

  @IsOptional() @IsArray() @ValidateNested({ each: true }) @Type(() => TreeNode)
  children?: TreeNode[];
}

/** A valid OrderForm's signals, with `items` line items. */
export function validOrder(items = 3): Record<string, unknown> {
  return {
    name: 'Ada Lovelace', count: 41, total: 99.5, gift: false, note: 'leave at the door', tier: 'pro', payment: 'card',
    tags: ['new', 'vip'],
    items: Array.from({ length: items }, (_, i) => ({ sku: `SKU-${i % 1000}`, qty: 1 + (i % 99), price: 9.99 })),
    shipping: { zip: '75001', city: 'Paris', country: 'FR' },
    code: 'FR-123', ref: 'r-1', priority: 2, meta: { source: 'web' }, pin: '1234', rank: 3, free: { any: ['thing'] },
  };
}
