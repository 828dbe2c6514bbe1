import 'reflect-metadata';
import { Expose, Transform, Type } from 'class-transformer';
import * as validator from 'class-validator';
import { IsInt, IsString, ValidateNested } from 'class-validator';
import { dtoShape, pickDeclared, type KeyPath } from './dto-shape';
import { validateSignals } from './signals-validation';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const storage = require('class-transformer/cjs/storage').defaultMetadataStorage;

class Leaf {
  @IsInt() n!: number;
}

class Base {
  @IsString() name!: string;
}

class Node extends Base {
  @ValidateNested({ each: true }) @Type(() => Node) children?: Node[];
  @ValidateNested() @Type(() => Leaf) leaf?: Leaf;
  @Expose({ name: 'plainLabel' }) label?: string;
  @Transform(({ value }) => String(value).trim()) trimmed?: string;
}

describe('dtoShape (reads class-validator and class-transformer metadata: fails loudly if they move)', () => {
  it('lists validated, inherited, exposed (custom name too), typed and transformed-only properties', () => {
    const shape = dtoShape(Node, validator, storage);
    expect([...shape.fields!.keys()].sort()).toEqual(['children', 'label', 'leaf', 'name', 'plainLabel', 'trimmed']);
    expect(shape.fields!.get('children')!.nested).toBe(shape); // a class nesting itself shares its shape
    expect([...dtoShape(Leaf, validator, storage).fields!.keys()]).toEqual(['n']);
    expect(shape.fields!.get('name')!.copy).toBe(true);
    expect(shape.fields!.get('trimmed')!.copy).toBe(false);
  });

  it('picks only declared keys at every depth and notes the first undeclared ones', () => {
    const unknown: KeyPath[] = [];
    const picked = pickDeclared(
      { name: 'a', x: 1, children: [{ name: 'b', y: 2, leaf: { n: 1, z: 3 } }], leaf: { n: 2 } },
      dtoShape(Node, validator, storage), unknown, 10,
    );
    expect(picked).toEqual({ name: 'a', children: [{ name: 'b', leaf: { n: 1 } }], leaf: { n: 2 } });
    expect(unknown).toEqual([['x'], ['children', 0, 'y'], ['children', 0, 'leaf', 'z']]);
  });

  it('a class with no metadata takes every key, copied', async () => {
    class Plain {
      count?: number;
    }
    const source = { count: 1, deep: { a: [1, { b: 2 }] } };
    const result = await validateSignals(Plain, source);
    expect(result.value).toBeInstanceOf(Plain);
    expect(result.value).toEqual(source);
    expect((result.value as any).deep).not.toBe(source.deep);
  });

  it('validates the picked instance: nested DTOs are instances, undeclared keys absent', async () => {
    const result = await validateSignals(Node, { name: 'a', extra: 1, plainLabel: 'L', trimmed: ' t ', children: [{ name: 'b' }], leaf: { n: 3 } });
    const node = result.value as Node;
    expect(node.children![0]).toBeInstanceOf(Node);
    expect(node.leaf).toBeInstanceOf(Leaf);
    expect(node.label).toBe('L');
    expect(node.trimmed).toBe('t');
    expect(Object.keys(node)).not.toContain('extra');
  });
});
