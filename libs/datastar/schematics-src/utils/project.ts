import type { SchematicContext, Tree } from '@angular-devkit/schematics';
import { posix } from 'node:path';

/** Reads a text file of the tree, or undefined. */
export function readText(tree: Tree, path: string): string | undefined {
  return tree.read(path)?.toString('utf8');
}

/** `src` -> `src`, `/apps/api/src/` -> `apps/api/src`. */
export function normalizeDir(dir: string | undefined, fallback: string): string {
  const clean = posix.normalize((dir ?? fallback).replace(/\\/g, '/')).replace(/^\/+|\/+$/g, '');
  return clean === '.' ? '' : clean;
}

/** Joins tree paths, ignoring empty parts. */
export function joinPath(...parts: string[]): string {
  return posix.join(...parts.filter(Boolean));
}

/**
 * The views directory for a source root: beside it (`src` -> `views`, `apps/api/src` ->
 * `apps/api/views`), which is also the path relative to where `nest start` runs.
 */
export function viewsDirFor(sourceRoot: string): string {
  return joinPath(posix.dirname(sourceRoot || '.') === '.' ? '' : posix.dirname(sourceRoot), 'views');
}

/**
 * The extension relative imports need: `.js` in ESM projects (`"type": "module"`, or a module
 * file that already writes `./app.controller.js`), none in CommonJS ones.
 */
export function relativeImportSuffix(tree: Tree, moduleText: string | undefined): string {
  if (moduleText && /from\s+['"]\.{1,2}\/[^'"]+\.js['"]/.test(moduleText)) return '.js';
  if (moduleText && /from\s+['"]\.{1,2}\/[^'"]+['"]/.test(moduleText)) return '';
  try {
    return JSON.parse(readText(tree, 'package.json') ?? '{}').type === 'module' ? '.js' : '';
  } catch {
    return '';
  }
}

/** `./counter/counter.controller` from `src/app.module.ts` to `src/counter/counter.controller.ts`. */
export function relativeImport(fromFile: string, toFile: string, suffix: string): string {
  let path = posix.relative(posix.dirname(fromFile), toFile.replace(/\.ts$/, ''));
  if (!path.startsWith('.')) path = `./${path}`;
  return path + suffix;
}

/** Creates a file unless it exists (then says so and leaves it alone). Returns whether it wrote. */
export function createIfMissing(tree: Tree, context: SchematicContext, path: string, content: string): boolean {
  if (tree.exists(path)) {
    context.logger.warn(`${path} exists: left as it is.`);
    return false;
  }
  tree.create(path, content);
  return true;
}

/** Adds a runtime dependency to package.json when it is missing. Returns whether it changed the file. */
export function addDependency(tree: Tree, name: string, range: string): boolean {
  const text = readText(tree, 'package.json');
  if (text === undefined) return false;
  const pkg = JSON.parse(text);
  if (pkg.dependencies?.[name] || pkg.devDependencies?.[name] || pkg.peerDependencies?.[name]) return false;
  pkg.dependencies = Object.fromEntries(Object.entries({ ...pkg.dependencies, [name]: range }).sort(([a], [b]) => a.localeCompare(b)));
  const indent = /^\{\n([ \t]+)"/.exec(text)?.[1] ?? '  ';
  tree.overwrite('package.json', `${JSON.stringify(pkg, null, indent)}\n`);
  return true;
}

/** The package manager a lock file names (npm when none does). */
export function packageManagerOf(tree: Tree): 'npm' | 'pnpm' | 'yarn' | 'bun' {
  if (tree.exists('pnpm-lock.yaml')) return 'pnpm';
  if (tree.exists('yarn.lock')) return 'yarn';
  if (tree.exists('bun.lockb') || tree.exists('bun.lock')) return 'bun';
  return 'npm';
}
