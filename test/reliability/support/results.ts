/**
 * Results of the reliability suite, shared by every `*.reliability.ts` file: each call adds its
 * counts to `test/reliability/results/<file>.json` (one file per test file; the directory is
 * emptied by the global setup and summed by the global teardown, `test/reliability/summary.js`).
 *
 * Categories: `faults` (tried = faults injected, passed = survived), `bad_inputs` (tried =
 * inputs sent, passed = refused properly, fivexx = 5xx answers), `ssrf` (tried = vectors,
 * passed = blocked), `lost` (tried = items checked after a fault, passed = found; lost defaults
 * to tried - passed), `redis_cluster` and `redis_sentinel` (tried = items acknowledged under
 * load and checked after a primary was killed; `extra` holds the paths, failovers and checks of
 * the summary line). Any category may report `fivexx` and `lost`; the run fails if either sums
 * above zero. `extra` numbers are summed by name. Besides the counts, `timings` holds measured
 * durations with their targets (`recordTiming`), printed one per line.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';

export type ResultCategory = 'faults' | 'bad_inputs' | 'ssrf' | 'lost' | 'redis_cluster' | 'redis_sentinel';

export interface ResultCounts {
  tried: number;
  passed: number;
  fivexx?: number;
  lost?: number;
  details?: string[];
  extra?: Record<string, number>;
}

interface StoredCounts {
  tried: number;
  passed: number;
  fivexx: number;
  lost: number;
  details: string[];
  extra?: Record<string, number>;
}

/** A measured duration with the target it is held to, printed by the summary. */
export interface Timing {
  ms: number;
  target_ms: number;
}

export const RESULTS_DIR = join(__dirname, '..', 'results');

/** The results file for a test file: `record(..., __filename)` and `record(..., 'faults-redis')` agree. */
export function resultsFile(file: string): string {
  const name = basename(file).replace(/\.reliability\.ts$|\.ts$|\.json$/, '');
  return join(RESULTS_DIR, `${name}.json`);
}

type StoredResults = Partial<Record<ResultCategory, StoredCounts>> & { timings?: Record<string, Timing> };

function readResults(target: string): StoredResults {
  try {
    return JSON.parse(readFileSync(target, 'utf8')) as StoredResults;
  } catch {
    return {};
  }
}

function writeResults(target: string, data: StoredResults): void {
  const temporary = `${target}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(data, null, 2)}\n`);
  renameSync(temporary, target);
}

/**
 * A duration the summary prints on a line of its own (`<name>: 6.1 s (target 15 s)`), e.g. the
 * time from a fetcher's SIGKILL until every waiting client is answered. `name` is the line's
 * label; a second record under the same name replaces the first.
 */
export function recordTiming(name: string, timing: Timing, file: string): void {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const target = resultsFile(file);
  const data = readResults(target);
  data.timings = { ...data.timings, [name]: timing };
  writeResults(target, data);
}

export function record(category: ResultCategory, counts: ResultCounts, file: string): void {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const target = resultsFile(file);
  const data = readResults(target);
  const lost = counts.lost ?? (category === 'lost' ? Math.max(0, counts.tried - counts.passed) : 0);
  const previous = data[category] ?? { tried: 0, passed: 0, fivexx: 0, lost: 0, details: [] };
  const extra = { ...previous.extra };
  for (const [name, n] of Object.entries(counts.extra ?? {})) extra[name] = (extra[name] ?? 0) + n;
  data[category] = {
    tried: previous.tried + counts.tried,
    passed: previous.passed + counts.passed,
    fivexx: previous.fivexx + (counts.fivexx ?? 0),
    lost: previous.lost + lost,
    details: [...previous.details, ...(counts.details ?? [])],
    ...(Object.keys(extra).length > 0 ? { extra } : {}),
  };
  writeResults(target, data);
}
