'use strict';
// Loads the bench's TypeScript servers (Nest decorators need legacy decorators + metadata) with
// @swc/core, already a dev dependency. Only files under bench/ are transpiled; the library itself
// is loaded from the bench's own tsc build (BENCH_LIB_DIR, set by run.mjs).
const Module = require('node:module');
const { readFileSync } = require('node:fs');
const { transformSync } = require('@swc/core');

const options = {
  jsc: {
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true },
    target: 'es2022',
  },
  module: { type: 'commonjs' },
  sourceMaps: 'inline',
};

Module._extensions['.ts'] = function compileTs(module, filename) {
  const { code } = transformSync(readFileSync(filename, 'utf8'), { ...options, filename });
  module._compile(code, filename);
};

// BENCH_LIB_DIR: where `nestjs-datastar` is loaded from: the bench's build (bench/.lib) or, for
// before/after runs, another build inside the repo (so its own imports still resolve).
const libDir = process.env.BENCH_LIB_DIR;
if (libDir) {
  const { resolve } = require('node:path');
  const original = Module._resolveFilename;
  Module._resolveFilename = function resolveFilename(request, ...rest) {
    if (request === 'nestjs-datastar') return resolve(libDir, 'index.js');
    return original.call(this, request, ...rest);
  };
}
