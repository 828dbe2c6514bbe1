/**
 * Loads an optional peer of the testing kit with `require()`. The published build is CommonJS:
 * a dynamic `import()` in it needs `--experimental-vm-modules` under Jest, `require()` does not.
 */
export function requirePeer<T>(name: string, install: string): T {
  try {
    return require(name) as T;
  } catch (error) {
    throw new Error(peerFailure(name, install, error as NodeJS.ErrnoException));
  }
}

/** Whether `name` is installed where the kit can resolve it (loading it may still fail, loudly). */
export function hasPeer(name: string): boolean {
  try {
    require.resolve(name);
    return true;
  } catch {
    return false;
  }
}

function peerFailure(name: string, install: string, error: NodeJS.ErrnoException): string {
  const cause = error.message.split('\n')[0];
  if (error.code === 'MODULE_NOT_FOUND' && cause.includes(`'${name}'`)) {
    return `The testing kit needs "${name}", which is not installed: npm install --save-dev ${install}`;
  }
  if (error.code === 'ERR_REQUIRE_ESM' || /Must use import|Cannot use import statement|Unexpected token 'export'/.test(error.message)) {
    return `The testing kit could not load "${name}": it (or a package it loads) is an ES module, and this runtime `
      + `cannot require() ES modules (${cause}). Jest does so only on Node >= 24.9; on older Node let Jest compile it to `
      + `CommonJS: transformIgnorePatterns: ['/node_modules/(?!(@nestjs|happy-dom)/)'] with a transform for .js files `
      + `(@swc/jest or babel-jest, e.g. transform: { '^.+\\\\.(t|j)s$': '@swc/jest' }).`;
  }
  return `The testing kit could not load "${name}" (${cause}).`;
}
