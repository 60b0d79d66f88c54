import { parseEventFields } from '@cimd/contracts';
import { record } from './results';
import { sleep } from './servers';
import type { ProcessStack } from './stack';

/**
 * `it` for one injected fault: whatever happens, the fault is recorded (tried, survived or not,
 * with the measurements the test noted) in the suite's results before Jest sees the outcome.
 */
export function faultTest(
  file: string,
  name: string,
  body: (note: (line: string) => void) => Promise<void>,
  timeoutMs: number,
): void {
  it(
    name,
    async () => {
      const notes: string[] = [];
      let survived = false;
      try {
        await body((line) => {
          notes.push(line);
          process.stdout.write(`  [${name}] ${line}\n`);
        });
        survived = true;
      } finally {
        record(
          'faults',
          {
            tried: 1,
            passed: survived ? 1 : 0,
            details: [`${survived ? 'survived' : 'FAILED'}: ${name}; ${notes.join('; ')}`],
          },
          file,
        );
      }
    },
    timeoutMs,
  );
}

/**
 * Every client event on the stack's stream was consumed by the gateway: its id is in
 * `processed_events` (one transaction per event) and the consumer group has nothing pending.
 * Waits up to `waitMs`; returns the ids still unprocessed (lost).
 */
export async function verifyEventsProcessed(
  stack: ProcessStack,
  waitMs = 30_000,
): Promise<{ events: number; lost: string[] }> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const entries = await stack.inspect.xrange(stack.keys.events, '-', '+');
    const ids = entries.map(([, fields]) => parseEventFields(fields)?.id).filter((id): id is string => !!id);
    const done = new Set(
      (
        await stack.query<{ event_id: string }>('SELECT event_id FROM processed_events WHERE event_id = ANY($1)', [ids])
      ).map((r) => r.event_id),
    );
    const lost = ids.filter((id) => !done.has(id));
    const groups = (await stack.inspect.xinfo('GROUPS', stack.keys.events).catch(() => [])) as unknown[][];
    const pending = groups.reduce((n, g) => n + Number(g[g.indexOf('pending') + 1] ?? 0), 0);
    if ((lost.length === 0 && pending === 0) || Date.now() > deadline) return { events: ids.length, lost };
    await sleep(250);
  }
}

/** Time from `since` until `check` first returns true, polling every `everyMs`; Infinity after `limitMs`. */
export async function timeUntil(
  check: () => Promise<boolean>,
  since: number,
  limitMs: number,
  everyMs = 50,
): Promise<number> {
  for (;;) {
    if (await check()) return Date.now() - since;
    if (Date.now() - since > limitMs) return Number.POSITIVE_INFINITY;
    await sleep(everyMs);
  }
}

export function mb(bytes: number | undefined): string {
  return bytes === undefined ? '?' : `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}
