import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/**
 * The library's folders in the order data flows (README, "Development"): a file may import from
 * its own folder and from folders further down this list, never from one above it. A new folder,
 * or an import that goes up, fails here: put the code where the map says, or change the map.
 */
const LAYERS: readonly string[] = [
  '(root)', // the module, the explorers, index.ts: wiring
  'testing', // a separate entry point, for users' tests
  'decorators',
  'live',
  'dispatch',
  'csrf',
  'streams',
  'tracker',
  'templates',
  'core',
  'datastar.module-definition',
  'interfaces',
  'pubsub',
  'redis',
  'datastar.errors',
  'datastar.messages',
  'datastar.constants',
  'protocol',
];

const SRC = resolve(__dirname, '../../libs/datastar/src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts') ? [path] : [];
  });
}

/** The layer of a file: its top folder, or for a root file its name (a few root files are leaves). */
function layerOf(file: string): string {
  const [first, ...rest] = relative(SRC, file).split('/');
  if (rest.length) return first;
  const name = first.replace(/\.ts$/, '');
  return LAYERS.includes(name) ? name : '(root)';
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)].map((match) => resolve(dirname(file), match[1]));
}

describe('library layers', () => {
  const files = sourceFiles(SRC);

  it('every folder and root leaf is on the map', () => {
    const unknown = [...new Set(files.map(layerOf))].filter((layer) => !LAYERS.includes(layer));
    expect(unknown).toEqual([]);
  });

  it('no file imports from a layer above its own', () => {
    const upward: string[] = [];
    for (const file of files) {
      const own = LAYERS.indexOf(layerOf(file));
      for (const target of importsOf(file)) {
        const layer = layerOf(`${target}.ts`);
        if (LAYERS.indexOf(layer) < own) upward.push(`${relative(SRC, file)} -> ${relative(SRC, target)} (${layer})`);
      }
    }
    expect(upward).toEqual([]);
  });

  it('protocol/ is free of Nest and of everything above it', () => {
    const nest = files
      .filter((file) => layerOf(file) === 'protocol')
      .filter((file) => /from '@nestjs\//.test(readFileSync(file, 'utf8')))
      .map((file) => relative(SRC, file));
    expect(nest).toEqual([]);
  });
});
