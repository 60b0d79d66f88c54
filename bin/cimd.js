#!/usr/bin/env node
'use strict';
// Thin launcher for the built CLI; `npm run build` produces dist/.
const path = require('node:path');
const fs = require('node:fs');
const main = path.join(__dirname, '..', 'dist', 'apps', 'cli', 'src', 'main.js');
if (!fs.existsSync(main)) {
  process.stderr.write('cimd: the CLI is not built yet; run "npm run build" first.\n');
  process.exit(2);
}
require(main);
