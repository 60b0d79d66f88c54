/** The longest a failed fetch waits before its next attempt. */
export const MAX_FETCH_BACKOFF_MS = 3_600_000;

/**
 * The wait before a failed fetch's next attempt: exponential from `delayMs` with ±20 % jitter,
 * at least what the origin's Retry-After asked, at most an hour.
 */
export function fetchBackoffMs(
  attemptsMade: number,
  delayMs: number,
  retryAfterMs = 0,
  random = Math.random(),
): number {
  const exponential = delayMs * 2 ** Math.max(0, attemptsMade - 1);
  const jittered = exponential * (0.8 + random * 0.4);
  return Math.round(Math.min(Math.max(jittered, retryAfterMs), MAX_FETCH_BACKOFF_MS));
}

/** The first cooldown after a client's transient failures; it doubles per failure. */
export const FAILURE_COOLDOWN_BASE_MS = 30_000;

/**
 * How long a client_id is not fetched again after `failures` consecutive transient failures,
 * however many checks ask for it: 30 s, doubling, capped at `maxSeconds`.
 */
export function failureCooldownMs(failures: number, maxSeconds: number): number {
  return Math.min(FAILURE_COOLDOWN_BASE_MS * 2 ** Math.min(Math.max(failures, 1) - 1, 20), maxSeconds * 1000);
}

/**
 * When a failed (transient) attempt of a fetch job is followed by the next one: its retry, with
 * backoff, while the job has attempts left; otherwise the end of the client's failure cooldown,
 * after which the next check starts a new fetch. The fetcher computes the backoff here and hands
 * BullMQ that very delay, so the time an operator is told is the time the retry runs.
 */
export function nextAttemptAfterFailure(input: {
  /** Attempts of this job before the one that just failed (BullMQ's attemptsMade). */
  attemptsMade: number;
  maxAttempts: number;
  backoffDelayMs: number;
  retryAfterMs?: number;
  cooldownMs: number;
  random?: number;
}): { kind: 'retry' | 'cooldown'; inMs: number } {
  const made = input.attemptsMade + 1;
  if (made < input.maxAttempts)
    return {
      kind: 'retry',
      inMs: fetchBackoffMs(made, input.backoffDelayMs, input.retryAfterMs ?? 0, input.random ?? Math.random()),
    };
  return { kind: 'cooldown', inMs: input.cooldownMs };
}
