#!/usr/bin/env node
'use strict';
/**
 * `node bench/cpuprofile-top.js <file.cpuprofile> [--top N] [--from S] [--to S]`
 *
 * A text summary of a V8 CPU profile (node --cpu-prof; `npm run bench -- --profile` writes one
 * per process): time by package, and the functions with the most self and total time. The same
 * profile opens as a flame graph in Chrome DevTools (Performance → Load profile) or speedscope.
 * --from/--to keep only the samples between those seconds of the profile (e.g. one load phase);
 * --callers REGEX shows the call paths (three frames up) into the functions whose name matches.
 */
const { readFileSync } = require('node:fs');
const path = require('node:path');

function parseArgs(argv) {
  const args = { file: undefined, top: 25, from: 0, to: Infinity, callers: undefined };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--top') args.top = Number(argv[++i]);
    else if (argv[i] === '--from') args.from = Number(argv[++i]);
    else if (argv[i] === '--to') args.to = Number(argv[++i]);
    else if (argv[i] === '--callers') args.callers = new RegExp(argv[++i]);
    else args.file = argv[i];
  }
  if (!args.file) {
    process.stderr.write(
      'usage: node bench/cpuprofile-top.js <file.cpuprofile> [--top N] [--from S] [--to S] [--callers REGEX]\n',
    );
    process.exit(2);
  }
  return args;
}

/** Where a function comes from: a package, our code, Node itself, or V8's pseudo-frames. */
function originOf(frame) {
  const url = frame.url || '';
  if (!url) return frame.functionName.startsWith('(') ? frame.functionName : '(native)';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  if (url.startsWith('node:')) return 'node (core)';
  const dist = /\/dist\/(apps\/[^/]+|libs\/[^/]+)\//.exec(url);
  if (dist) return dist[1];
  return path.basename(url);
}

function main() {
  const args = parseArgs(process.argv.slice(2));
  const profile = JSON.parse(readFileSync(args.file, 'utf8'));
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

  // Self time per node from the samples (time deltas are µs, each belongs to the sample it precedes).
  const self = new Map();
  let t = 0;
  let total = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = profile.timeDeltas[i] ?? 0;
    t += dt;
    const s = t / 1e6;
    if (s < args.from || s > args.to) continue;
    const next = profile.timeDeltas[i + 1] ?? dt;
    self.set(profile.samples[i], (self.get(profile.samples[i]) ?? 0) + next);
    total += next;
  }
  const key = (n) =>
    `${n.callFrame.functionName || '(anonymous)'} ${originOf(n.callFrame)}:${n.callFrame.lineNumber + 1}`;
  const selfBy = new Map();
  const totalBy = new Map();
  const pkgBy = new Map();
  const callersBy = new Map();
  for (const [id, us] of self) {
    const node = byId.get(id);
    if (args.callers?.test(node.callFrame.functionName)) {
      const chain = [];
      for (let n = node; n && chain.length < 4; n = byId.get(parent.get(n.id))) chain.push(key(n));
      const k = chain.join(' ← ');
      callersBy.set(k, (callersBy.get(k) ?? 0) + us);
    }
    selfBy.set(key(node), (selfBy.get(key(node)) ?? 0) + us);
    pkgBy.set(originOf(node.callFrame), (pkgBy.get(originOf(node.callFrame)) ?? 0) + us);
    const seen = new Set();
    for (let n = node; n; n = byId.get(parent.get(n.id))) {
      const k = key(n);
      if (seen.has(k)) continue; // recursion counts once
      seen.add(k);
      totalBy.set(k, (totalBy.get(k) ?? 0) + us);
    }
  }
  const pct = (us) => `${((100 * us) / total).toFixed(1).padStart(5)} %`;
  const show = (title, map, limit) => {
    process.stdout.write(`\n${title}\n`);
    for (const [k, us] of [...map].sort((a, b) => b[1] - a[1]).slice(0, limit)) {
      process.stdout.write(`${pct(us)}  ${k}\n`);
    }
  };
  process.stdout.write(`${args.file}: ${(total / 1e6).toFixed(1)} s of samples\n`);
  show('by package (self time)', pkgBy, args.top);
  show('functions by self time', selfBy, args.top);
  show('functions by total time (self + callees)', totalBy, args.top);
  if (args.callers) show(`call paths into ${args.callers}`, callersBy, args.top);
}

main();
