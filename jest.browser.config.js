/**
 * The console's tests in a real browser (`npm run test:browser`): Chromium from the system's
 * packages (/usr/bin/chromium, or CIMD_CHROMIUM) driven by playwright-core, against a whole
 * stack per file. Kept out of `npm test` so that it stays fast; .ci/run runs both.
 */
const base = require('./jest.config');

/** @type {import('jest').Config} */
module.exports = {
  ...base,
  roots: ['<rootDir>/test/browser'],
  testMatch: ['**/*.browser.ts'],
  maxWorkers: 1,
  testTimeout: 60000,
};
