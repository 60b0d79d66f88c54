#!/usr/bin/env node
'use strict';
// `npm run docs`: regenerate docs/RULES.md from the rule catalogue (needs `npm run build`).
const { writeFileSync } = require('node:fs');
const { join } = require('node:path');
const { renderRulesMarkdown } = require('../dist/libs/core/src/findings');
writeFileSync(join(__dirname, '..', 'docs', 'RULES.md'), renderRulesMarkdown());
process.stdout.write('docs/RULES.md written\n');
