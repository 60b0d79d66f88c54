/**
 * Global setup of the reliability suite: start each run with no results from an earlier one, so
 * the summary counts this run only.
 */
const fs = require('node:fs');
const path = require('node:path');

module.exports = async function reliabilitySetup() {
  const dir = path.join(__dirname, 'results');
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
};
