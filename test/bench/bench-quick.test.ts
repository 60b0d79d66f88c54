import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * `npm run bench -- --quick` as part of the suite: the harness starts its stack (gateway,
 * fetcher, baseline, local origin; its own database and Redis key prefix), runs every scenario
 * at a tiny size, writes latest.json and latest.md, and removes what it created. Only that the
 * harness works is checked: its numbers at this size mean nothing, and timings belong in the
 * benchmark, never in a test.
 */
const ROOT = join(__dirname, '..', '..');

/** Every scenario, the keys bench/README.md documents under "scenarios", and the stalls that explain a p99. */
const SCENARIO_KEYS: Record<string, string[]> = {
  authorize_hit: [
    'rps',
    'baseline_rps',
    'ratio',
    'p50_ms',
    'p99_ms',
    'baseline_p99_ms',
    'gateway_loop_max_ms',
    'baseline_loop_max_ms',
    'harness_loop_max_ms',
  ],
  authorize_hit_grpc: [
    'rps',
    'baseline_rps',
    'ratio',
    'p50_ms',
    'p99_ms',
    'baseline_p50_ms',
    'baseline_p99_ms',
    'cpu_us_per_request',
    'baseline_cpu_us_per_request',
    'half_rate_rps',
    'gateway_loop_max_ms',
    'baseline_loop_max_ms',
    'harness_loop_max_ms',
  ],
  authorize_miss: ['p50_ms', 'p99_ms', 'inline_p50_ms', 'ratio'],
  client_authenticate: ['rps', 'baseline_rps', 'ratio', 'cpu_us_per_request', 'baseline_cpu_us_per_request'],
  herd: ['concurrent', 'answered', 'origin_requests'],
  fetcher_throughput: ['jobs_per_s', 'concurrency'],
  redis_bytes_per_client: ['clients', 'bytes_per_client'],
  revocation_fanout: ['sessions', 'seconds'],
};

let out: string;

beforeAll(() => {
  out = mkdtempSync(join(tmpdir(), 'cimd-bench-quick-'));
});

afterAll(() => {
  rmSync(out, { recursive: true, force: true });
});

function runQuick(): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'bench', 'run.js'), '--quick', '--out', out], {
      cwd: ROOT,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, stderr }));
  });
}

describe('bench/run.js --quick', () => {
  it('runs every scenario and writes latest.json and latest.md', async () => {
    const { code, stderr } = await runQuick();
    const resultsFile = join(out, 'latest.json');
    expect(existsSync(resultsFile)).toBe(true);
    const results = JSON.parse(readFileSync(resultsFile, 'utf8'));
    // On failure, say which scenario failed and why rather than only "exit 1".
    expect({ errors: results.errors, code }).toEqual({ errors: {}, code: 0 });
    expect(stderr).toContain('wrote');
    expect(results.mode).toBe('quick');
    expect(Object.keys(results.scenarios).sort()).toEqual(Object.keys(SCENARIO_KEYS).sort());
    for (const [name, keys] of Object.entries(SCENARIO_KEYS)) {
      for (const key of keys) {
        const value = results.scenarios[name][key];
        if (!Number.isFinite(value)) throw new Error(`scenarios.${name}.${key} is ${JSON.stringify(value)}`);
      }
      // Whether a target is met is reported, not asserted.
      expect(typeof results.targets[name].met).toBe('boolean');
    }
    expect(Object.keys(results.machine)).toEqual(expect.arrayContaining(['nproc', 'cpu', 'node', 'redis', 'postgres']));

    const markdown = readFileSync(join(out, 'latest.md'), 'utf8');
    expect(markdown).toContain('| scenario | measured | compared with | target | |');
    for (const name of Object.keys(SCENARIO_KEYS)) expect(markdown).toContain(`| ${name} |`);
  }, 300_000);
});
