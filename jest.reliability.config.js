/**
 * `npm run test:reliability`: the reliability and security suite under `test/reliability/`
 * (`*.reliability.ts`). Real Redis, PostgreSQL, gateway and fetcher processes and a local HTTPS
 * origin; fault tests stop and start servers of their own, so files run one at a time. Each file
 * records what it tried through `test/reliability/support/results.ts`; the global teardown
 * (`test/reliability/summary.js`) prints one line per category and fails the run if anything
 * was lost or a 5xx escaped.
 */
const base = require('./jest.config.js');

/** @type {import('jest').Config} */
module.exports = {
  ...base,
  roots: ['<rootDir>/test/reliability'],
  testMatch: ['<rootDir>/test/reliability/**/*.reliability.ts'],
  // Faults restart servers and measure memory and time: one file at a time.
  maxWorkers: 1,
  testTimeout: 180000,
  globalSetup: '<rootDir>/test/reliability/setup.js',
  globalTeardown: '<rootDir>/test/reliability/summary.js',
};
