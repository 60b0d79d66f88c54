'use strict';
/**
 * CPU used by each process of the run while a measurement runs (Linux /proc), in percent of
 * one core: with 2 cores shared by the generator, the servers, Redis and PostgreSQL, this is
 * what says which one a number is bound by.
 */
const { readdirSync, readFileSync } = require('node:fs');
const os = require('node:os');

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

function ticksOf(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may contain spaces: fields are counted after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]); // utime + stime
  } catch {
    return undefined;
  }
}

/** Every PostgreSQL process (postmaster, backends, background workers): pid → ticks. */
function postgresTicks() {
  const ticks = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() !== 'postgres') continue;
    } catch {
      continue;
    }
    const t = ticksOf(entry);
    if (t !== undefined) ticks.set(entry, t);
  }
  return ticks;
}

/**
 * Ticks PostgreSQL used between two snapshots: per process, so that a backend that exited
 * meanwhile (its ticks gone with it) does not make the sum negative; a new one counts whole.
 */
function postgresDelta(before, after) {
  let total = 0;
  for (const [pid, t] of after) {
    const b = before.get(pid);
    total += b !== undefined && t >= b ? t - b : t; // fewer ticks than before: the pid was reused
  }
  return total;
}

function machineTicks() {
  try {
    const [cpu] = readFileSync('/proc/stat', 'utf8').split('\n');
    const v = cpu.trim().split(/\s+/).slice(1).map(Number);
    const idle = (v[3] ?? 0) + (v[4] ?? 0);
    const total = v.reduce((a, b) => a + b, 0);
    return { busy: total - idle, total };
  } catch {
    return undefined;
  }
}

/** Start counting; `stop()` returns { process: percent of one core, …, machine: percent of all cores }. */
function cpuUsage(pids) {
  const t0 = performance.now();
  const before = Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, pid && ticksOf(pid)]));
  const pg0 = postgresTicks();
  const m0 = machineTicks();
  return {
    stop() {
      const seconds = (performance.now() - t0) / 1000;
      const out = {};
      for (const [name, pid] of Object.entries(pids)) {
        const a = before[name];
        const b = pid && ticksOf(pid);
        if (a !== undefined && b !== undefined) out[name] = pct(b - a, seconds);
      }
      out.postgres = pct(postgresDelta(pg0, postgresTicks()), seconds);
      const m1 = machineTicks();
      if (m0 && m1 && m1.total > m0.total) {
        out.machine = Math.round((100 * (m1.busy - m0.busy)) / (m1.total - m0.total));
        // Whatever else ran on the machine meanwhile (other test runs, the kernel's own work).
        const ours = Object.values(out).reduce((a, b) => a + b, 0) - out.machine;
        out.others = Math.max(0, Math.round(out.machine * os.availableParallelism() - ours));
      }
      return out;
    },
  };
}

function pct(ticks, seconds) {
  return seconds > 0 ? Math.round((100 * ticks) / TICKS_PER_SECOND / seconds) : 0;
}

module.exports = { cpuUsage };
