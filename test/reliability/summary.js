/**
 * Global teardown of the reliability suite: reads `results/*.json` (written by
 * `support/results.ts`), prints one line per category and throws (a non-zero exit) when any item
 * was lost or any 5xx escaped. The tests assert the same things themselves; this is the total.
 *
 * A results file is `{ "<category>": { tried, passed, fivexx, lost, details: [], extra? } }, "timings":
 * { "<name>": { ms, target_ms } } }`; each timing is printed on a line of its own.
 * Items lost are the `lost` counts of every category; for the `lost` category a record without
 * `lost` counts `tried - passed`. The Redis topology categories (`redis_cluster`,
 * `redis_sentinel`) get a line each when a file recorded them, from their `extra` counts.
 */
const fs = require('node:fs');
const path = require('node:path');

const CATEGORIES = ['faults', 'bad_inputs', 'ssrf', 'lost', 'redis_cluster', 'redis_sentinel'];
const TOPOLOGIES = { redis_cluster: 'redis-cluster', redis_sentinel: 'redis-sentinel' };

/** The results files in `dir`, by name (none when the directory does not exist). */
function resultFiles(dir) {
  try {
    return fs
      .readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .sort();
  } catch {
    return [];
  }
}

function totals(dir) {
  const sum = Object.fromEntries(
    CATEGORIES.map((c) => [c, { tried: 0, passed: 0, fivexx: 0, lost: 0, files: 0, extra: {} }]),
  );
  for (const file of resultFiles(dir)) {
    let data;
    try {
      data = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'));
    } catch (error) {
      throw new Error(`reliability summary: cannot read ${file}: ${error.message}`);
    }
    for (const category of CATEGORIES) {
      const c = data[category];
      if (!c) continue;
      const s = sum[category];
      s.tried += c.tried || 0;
      s.passed += c.passed || 0;
      s.fivexx += c.fivexx || 0;
      s.lost += c.lost || 0;
      s.files += 1;
      for (const [name, n] of Object.entries(c.extra || {})) s.extra[name] = (s.extra[name] || 0) + n;
    }
  }
  return sum;
}

/** Every recorded timing (`{ timings: { name: { ms, target_ms } } }`), by name, from every results file. */
function timings(dir) {
  const found = {};
  for (const file of resultFiles(dir)) {
    try {
      Object.assign(found, JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')).timings ?? {});
    } catch {
      // totals() reports an unreadable file
    }
  }
  return found;
}

const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;

function summarize(dir = path.join(__dirname, 'results')) {
  const t = totals(dir);
  const lost = CATEGORIES.reduce((n, c) => n + t[c].lost, 0);
  const fivexx = CATEGORIES.reduce((n, c) => n + t[c].fivexx, 0);
  const lines = [
    `faults survived: ${t.faults.passed}/${t.faults.tried}`,
    `bad inputs tried: ${t.bad_inputs.tried} (5xx: ${t.bad_inputs.fivexx})`,
    `SSRF vectors blocked: ${t.ssrf.passed}/${t.ssrf.tried}`,
    `items lost: ${lost} (checked: ${t.lost.tried})`,
  ];
  for (const [category, label] of Object.entries(TOPOLOGIES)) {
    const c = t[category];
    if (c.files === 0) continue;
    const x = c.extra;
    const n = (name) => x[name] || 0;
    lines.push(
      `${label}: end-to-end paths ${n('paths_passed')}/${n('paths_tried')}, ` +
        `primary killed under load ${n('failovers_survived')}/${n('failovers')} survived` +
        (n('failovers') > 0
          ? ` (replica serving after ${(n('failover_ms') / n('failovers') / 1000).toFixed(1)} s)`
          : '') +
        `, checks ${n('checks')} (allow ${n('checks_allow')}, pending ${n('checks_pending')}, other ${n('checks_other')}, 5xx: ${c.fivexx}), ` +
        `lost ${c.lost} of ${c.tried} (sessions ${n('sessions')}, revocations ${n('revocations')}, fetch jobs ${n('fetch_jobs')}, events ${n('events')})`,
    );
  }
  if (fivexx !== t.bad_inputs.fivexx) lines.push(`5xx escaped (all categories): ${fivexx}`);
  const measured = timings(dir);
  for (const [name, { ms, target_ms: target }] of Object.entries(measured)) {
    const shown = Number.isFinite(ms) && ms !== null ? seconds(ms) : 'not reached';
    const over = !(Number.isFinite(ms) && ms !== null && ms <= target);
    lines.push(`${name}: ${shown} (target ${seconds(target)}${over ? ', MISSED' : ''})`);
  }
  return { lines, lost, fivexx, totals: t, timings: measured };
}

module.exports = async function reliabilitySummary() {
  const dir = path.join(__dirname, 'results');
  const { lines, lost, fivexx } = summarize(dir);
  const text = ['', '== reliability summary', ...lines, ''].join('\n');
  process.stdout.write(`${text}\n`);
  try {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'summary.txt'), `${lines.join('\n')}\n`);
  } catch {
    // The printed summary is what counts.
  }
  if (lost > 0 || fivexx > 0) {
    throw new Error(`reliability suite failed: ${lost} item(s) lost, ${fivexx} 5xx response(s) escaped`);
  }
};
module.exports.summarize = summarize;
