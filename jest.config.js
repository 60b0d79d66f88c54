/**
 * One Jest run for unit specs beside the code (`*.spec.ts`) and integration tests under
 * `test/` (`*.test.ts`). Type checking is `npm run typecheck`; here TypeScript is only
 * transpiled, which keeps the suite fast.
 */
/** @type {import('jest').Config} */
module.exports = {
  rootDir: '.',
  roots: ['<rootDir>/apps', '<rootDir>/libs', '<rootDir>/test'],
  testMatch: ['**/*.spec.ts', '**/*.test.ts'],
  moduleFileExtensions: ['ts', 'js', 'json'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.spec.json' }],
    // @fastify/static (Swagger UI) pulls in content-disposition, published as ES modules only.
    // jose ships ES modules only: Node 20 loads them with require(esm), Jest's loader needs them as CommonJS.
    '^.+/node_modules/(content-disposition|jose)/.+\\.js$': [
      'ts-jest',
      { tsconfig: { allowJs: true, module: 'commonjs' } },
    ],
  },
  transformIgnorePatterns: ['/node_modules/(?!(content-disposition|jose)/)'],
  moduleNameMapper: { '^@cimd/([a-z-]+)(/.*)?$': '<rootDir>/libs/$1/src$2' },
  testEnvironment: 'node',
  // Integration tests share the local Redis and PostgreSQL; each file isolates itself.
  maxWorkers: 2,
  testTimeout: 30000,
};
