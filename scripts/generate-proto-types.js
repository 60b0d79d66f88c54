#!/usr/bin/env node
'use strict';
/**
 * `npm run proto:types [-- --out DIR]`: the TypeScript types of proto/cimd/v1/gateway.proto, as
 * @grpc/proto-loader loads it for the gateway and its callers (field names as written, unset
 * fields absent, repeated fields always arrays), into libs/contracts/src/grpc/generated.
 * Generated, committed, and checked: test/grpc-types.test.ts fails when they drift from the proto.
 */
const { execFileSync } = require('node:child_process');
const { rmSync } = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const outFlag = process.argv.indexOf('--out');
const out =
  outFlag > 0 ? path.resolve(process.argv[outFlag + 1]) : path.join(root, 'libs/contracts/src/grpc/generated');

rmSync(out, { recursive: true, force: true });
execFileSync(
  process.execPath,
  [
    require.resolve('@grpc/proto-loader/build/bin/proto-loader-gen-types.js'),
    '--keepCase',
    '--longs=String',
    '--enums=String',
    '--arrays',
    '--grpcLib=@grpc/grpc-js',
    '--includeComments',
    '-I',
    'proto',
    '-O',
    out,
    'cimd/v1/gateway.proto',
  ],
  // Relative paths: the files name their source, and must read the same on every machine.
  { stdio: 'inherit', cwd: root },
);
