#!/usr/bin/env node
'use strict';
/**
 * The container's entrypoint: `gateway` (HTTP and gRPC), `fetcher` (the fetch worker), `migrate`
 * (apply the PostgreSQL migrations and exit) or `cimd <args>` (the CLI). One image, one role per
 * container.
 */
const path = require('node:path');

const ROLES = {
  gateway: 'dist/apps/gateway/src/main.js',
  fetcher: 'dist/apps/fetcher/src/main.js',
  migrate: 'dist/apps/gateway/src/database/migrate.js',
  cimd: 'dist/apps/cli/src/main.js',
};

const [role, ...rest] = process.argv.slice(2);
const entry = role === undefined ? undefined : ROLES[role];
if (entry === undefined) {
  process.stderr.write(`usage: ${Object.keys(ROLES).join(' | ')} (got ${JSON.stringify(role ?? '')})\n`);
  process.exit(2);
}
// The apps start when they are the main module, so run the file as the main module.
process.argv = [process.argv[0], path.join(__dirname, '..', entry), ...rest];
require('node:module').runMain();
