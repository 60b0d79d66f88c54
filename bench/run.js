#!/usr/bin/env node
'use strict';
/**
 * `npm run bench [-- --quick] [-- --only a,b] [-- --out DIR] [-- --profile] [-- --node-arg PROC=ARG]`
 *
 * Starts the gateway and the fetcher (dist/) against the local Redis and PostgreSQL, a local
 * HTTPS origin and the baseline server, runs every scenario, prints a Markdown table and
 * writes <out>/latest.json and <out>/latest.md (default out: bench/results). --quick runs
 * every scenario at a tiny size to check that the harness works (npm test does); its numbers
 * mean nothing. --profile runs the gateway, the fetcher and the baseline with --cpu-prof
 * (profiles in <out>/profiles; summarize with bench/cpuprofile-top.js). --node-arg gives one
 * process (gateway, fetcher, baseline) a Node option, e.g. `--node-arg gateway=--trace-gc`
 * (its output lands in <out>/logs/gateway.log); repeat it for more. Everything the run
 * creates (processes, database, Redis keys) is removed at the end, also on failure or Ctrl-C.
 */
const { mkdirSync, readFileSync, writeFileSync } = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { BenchStack } = require('./lib/stack');
const { loadTemplates } = require('./lib/documents');
const { formatMarkdown } = require('./lib/report');

const SCENARIOS = [
  require('./scenarios/authorize-hit'),
  require('./scenarios/authorize-hit-grpc'),
  require('./scenarios/client-authenticate'),
  require('./scenarios/authorize-miss'),
  require('./scenarios/herd'),
  require('./scenarios/fetcher-throughput'),
  require('./scenarios/redis-bytes'),
  require('./scenarios/revocation-fanout'),
];

const SIZES = {
  full: {
    hit: { clients: 1000, connections: 32, warmupS: 5, maxS: 15, pacedS: 15, rounds: 2 },
    hitGrpc: { clients: 1000, concurrency: 32, warmupS: 5, maxS: 15, pacedS: 15, rounds: 2 },
    authenticate: { clients: 100, connections: 32, warmupS: 3, maxS: 10, rounds: 2 },
    miss: { samples: 200 },
    herd: { concurrent: 1000 },
    throughput: { jobs: 3000 },
    redisBytes: { clients: 100_000 },
    revocation: { sessions: 100_000 },
  },
  quick: {
    hit: { clients: 50, connections: 8, warmupS: 1, maxS: 1, pacedS: 1, rounds: 1 },
    hitGrpc: { clients: 50, concurrency: 8, warmupS: 1, maxS: 1, pacedS: 1, rounds: 1 },
    authenticate: { clients: 5, connections: 4, warmupS: 1, maxS: 1, rounds: 1 },
    miss: { samples: 10 },
    herd: { concurrent: 50 },
    throughput: { jobs: 50 },
    redisBytes: { clients: 1000 },
    revocation: { sessions: 1000 },
  },
};

function parseArgs(argv) {
  const args = { quick: false, profile: false, only: undefined, out: path.join(__dirname, 'results'), nodeArgs: {} };
  for (let i = 0; i < argv.length; i++) {
    const [flag, ...rest] = argv[i].split('=');
    const inline = rest.length > 0 ? rest.join('=') : undefined;
    const value = () => inline ?? argv[++i];
    if (flag === '--quick') args.quick = true;
    else if (flag === '--profile') args.profile = true;
    else if (flag === '--only') args.only = value().split(',');
    else if (flag === '--out') args.out = path.resolve(value());
    else if (flag === '--node-arg') {
      const [proc, ...arg] = value().split('=');
      if (!['gateway', 'fetcher', 'baseline'].includes(proc) || arg.length === 0)
        throw new Error('--node-arg takes PROCESS=ARG, PROCESS one of gateway, fetcher, baseline');
      (args.nodeArgs[proc] ??= []).push(arg.join('='));
    } else if (flag === '--help' || flag === '-h') {
      process.stdout.write(`${readFileSync(__filename, 'utf8').split('*/')[0]}*/\n`);
      process.exit(0);
    } else throw new Error(`unknown option ${argv[i]} (see --help)`);
  }
  const names = SCENARIOS.map((s) => s.name);
  for (const name of args.only ?? [])
    if (!names.includes(name)) throw new Error(`no scenario ${name} (${names.join(', ')})`);
  return args;
}

async function machine(stack) {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const redis = /redis_version:(\S+)/.exec(await stack.redis.info('server'))?.[1];
  const pg = (await stack.pg.query('SHOW server_version')).rows[0].server_version;
  return {
    nproc: os.availableParallelism(),
    cpu: /model name\s*:\s*(.+)/.exec(cpuinfo)?.[1]?.trim() ?? os.cpus()[0]?.model,
    memory_gb: Math.round(os.totalmem() / 2 ** 30),
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    redis,
    postgres: pg,
  };
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const mode = args.quick ? 'quick' : 'full';
  const sizes = SIZES[mode];
  const log = (line) => process.stderr.write(`${line}\n`);
  mkdirSync(args.out, { recursive: true });
  const started = Date.now();
  const stack = new BenchStack({ outDir: args.out, profile: args.profile, nodeArgs: args.nodeArgs, log });
  let interrupted = false;
  const onSignal = (signal) => {
    if (interrupted) return;
    interrupted = true;
    log(`\n${signal}: stopping and cleaning up`);
    stack.stop().then(
      () => process.exit(130),
      (e) => {
        log(e.message);
        process.exit(130);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const results = {
    version: 1,
    mode,
    started_at: new Date(started).toISOString(),
    generator: { name: 'autocannon', version: require('autocannon/package.json').version },
    scenarios: {},
    targets: {},
    details: {},
    errors: {},
  };
  try {
    log(`cimd-gateway bench (${mode}): starting the stack`);
    await stack.start();
    results.machine = await machine(stack);
    results.settings = { fetcher: stack.fetcherSettings(), sizes };
    const ctx = { stack, sizes, log, quick: args.quick, templates: loadTemplates(stack.clientId('/template.json')) };
    for (const scenario of SCENARIOS) {
      if (args.only && !args.only.includes(scenario.name)) continue;
      if (interrupted) break;
      log(`▶ ${scenario.name}`);
      const t0 = Date.now();
      try {
        const { metrics, detail } = await scenario.run(ctx);
        results.scenarios[scenario.name] = metrics;
        results.targets[scenario.name] = scenario.target(metrics);
        results.details[scenario.name] = { ...detail, seconds: Math.round((Date.now() - t0) / 100) / 10 };
      } catch (e) {
        results.errors[scenario.name] = e.stack ?? String(e);
        log(`  failed: ${e.message}`);
      }
    }
  } catch (e) {
    results.errors.stack = e.stack ?? String(e);
    log(`the stack failed: ${e.message}`);
  } finally {
    log('cleaning up');
    await stack.stop().catch((e) => {
      results.errors.cleanup = e.message;
      log(e.message);
    });
  }
  results.finished_at = new Date().toISOString();
  results.duration_s = Math.round((Date.now() - started) / 1000);
  const markdown = formatMarkdown(results);
  writeFileSync(path.join(args.out, 'latest.json'), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(path.join(args.out, 'latest.md'), markdown);
  process.stdout.write(markdown);
  log(`wrote ${path.join(args.out, 'latest.json')} and latest.md in ${results.duration_s} s`);
  if (Object.keys(results.errors).length > 0) process.exitCode = 1;
}

main().catch((e) => {
  process.stderr.write(`bench failed: ${e.stack ?? e}\n`);
  process.exitCode = 1;
});
