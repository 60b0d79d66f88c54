#!/usr/bin/env node
'use strict';
/**
 * `npm start`: run the gateway and the fetcher as two processes against the local Redis and
 * PostgreSQL, with development defaults. Each line is prefixed with the process it came
 * from; Ctrl-C (or SIGTERM) stops both; if one exits, the other is stopped too. In a terminal
 * the logs are human-readable (the apps see a pipe, so they are told: LOG_FORMAT=pretty);
 * otherwise, or with NODE_ENV=production, one JSON object a line (LOG_FORMAT overrides both).
 */
const { spawn } = require('node:child_process');
const path = require('node:path');
const readline = require('node:readline');

const root = path.join(__dirname, '..');
const apps = [
  { name: 'gateway', entry: 'dist/apps/gateway/src/main.js' },
  { name: 'fetcher', entry: 'dist/apps/fetcher/src/main.js' },
];

// The gateway refuses to start without an admin token. For a local run, make one up and say so.
const env = { NODE_ENV: 'development', ...process.env };
if (!env.LOG_FORMAT && process.stdout.isTTY && env.NODE_ENV !== 'production') {
  env.LOG_FORMAT = 'pretty';
  // The apps write to a pipe: colours only because this process writes to a colour terminal.
  if (!('NO_COLOR' in env) && process.stdout.hasColors()) env.FORCE_COLOR = '1';
}
let generatedToken = false;
if (!env.CIMD_ADMIN_TOKEN && env.NODE_ENV !== 'production') {
  env.CIMD_ADMIN_TOKEN = require('node:crypto').randomBytes(24).toString('base64url');
  generatedToken = true;
}

const children = apps.map(({ name, entry }) => {
  const child = spawn(process.execPath, [path.join(root, entry)], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  for (const stream of [child.stdout, child.stderr]) {
    readline.createInterface({ input: stream }).on('line', (line) => process.stdout.write(`[${name}] ${line}\n`));
  }
  child.on('exit', (code, signal) => {
    process.stdout.write(`[${name}] exited (${signal ?? code})\n`);
    // Ctrl-C in a terminal reaches the apps too, and an app re-raises the signal once it has shut
    // down: ended by SIGINT or SIGTERM is a requested stop, even if it is seen before our own.
    stopAll(code ?? (signal === 'SIGINT' || signal === 'SIGTERM' ? 0 : 1));
  });
  return child;
});

let stopping = false;
function stopAll(exitCode) {
  if (stopping) return;
  stopping = true;
  process.exitCode = exitCode;
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
}

process.on('SIGINT', () => stopAll(0));
process.on('SIGTERM', () => stopAll(0));

const port = env.PORT ?? '3000';
const fetcherPort = env.FETCHER_PORT ?? '3001';
process.stdout.write(
  [
    'cimd-gateway is starting:',
    `  API      http://127.0.0.1:${port}/v1   (OpenAPI docs http://127.0.0.1:${port}/docs)`,
    `  console  http://127.0.0.1:${port}/console   (sign in with the admin token or a tenant API key)`,
    `  gRPC     127.0.0.1:${env.GRPC_PORT ?? '50051'}`,
    `  metrics  http://127.0.0.1:${port}/metrics and http://127.0.0.1:${fetcherPort}/metrics (fetcher)`,
    generatedToken
      ? `  admin token for this run (set CIMD_ADMIN_TOKEN to choose one): ${env.CIMD_ADMIN_TOKEN}`
      : '  admin token: the CIMD_ADMIN_TOKEN you set',
    `  logs     ${env.LOG_FORMAT === 'pretty' ? 'human-readable (LOG_FORMAT=json for JSON lines)' : 'JSON, one object a line'}`,
    '',
  ].join('\n'),
);
