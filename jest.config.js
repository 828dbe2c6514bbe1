/** Jest on Node 20 cannot require() Nest 12's ESM: @swc/jest transpiles both our TS and Nest's JS. */
const swc = {
  jsc: {
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true },
    target: 'es2022',
  },
  module: { type: 'commonjs' },
};
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/libs', '<rootDir>/test'],
  testMatch: ['**/*.spec.ts', '**/*.e2e-spec.ts', '**/*.browser-spec.ts'],
  transform: { '^.+\\.(t|j)s$': ['@swc/jest', swc] },
  transformIgnorePatterns: ['/node_modules/(?!(@nestjs|happy-dom)/)'],
  moduleNameMapper: {
    '^nestjs-datastar$': '<rootDir>/libs/datastar/src/index.ts',
    '^nestjs-datastar/(.*)$': '<rootDir>/libs/datastar/src/$1/index.ts',
  },
  testTimeout: 30000,
};
