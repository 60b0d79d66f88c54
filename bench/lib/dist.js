'use strict';
/**
 * The built libraries (`npm run build` writes dist/). The benchmark runs what ships: the
 * gateway and the fetcher as built, and the same @cimd libraries for its baselines.
 */
const { existsSync } = require('node:fs');
const path = require('node:path');

const ROOT = path.join(__dirname, '..', '..');
/** CIMD_BENCH_DIST: measure another build (a copy inside the repository, so node_modules resolves). */
const DIST = path.resolve(ROOT, process.env.CIMD_BENCH_DIST || 'dist');

if (!existsSync(path.join(DIST, 'apps', 'gateway', 'src', 'main.js'))) {
  throw new Error(`${DIST} has no build: run "npm run build" first (npm run bench does it)`);
}

module.exports = {
  ROOT,
  DIST,
  GATEWAY_MAIN: path.join(DIST, 'apps', 'gateway', 'src', 'main.js'),
  FETCHER_MAIN: path.join(DIST, 'apps', 'fetcher', 'src', 'main.js'),
  MIGRATE_MAIN: path.join(DIST, 'apps', 'gateway', 'src', 'database', 'migrate.js'),
  contracts: require(path.join(DIST, 'libs', 'contracts', 'src')),
  core: require(path.join(DIST, 'libs', 'core', 'src')),
  runtime: require(path.join(DIST, 'libs', 'runtime', 'src')),
  safeFetch: require(path.join(DIST, 'libs', 'safe-fetch', 'src')),
  store: require(path.join(DIST, 'libs', 'store', 'src')),
  testing: require(path.join(DIST, 'libs', 'testing', 'src')),
};
