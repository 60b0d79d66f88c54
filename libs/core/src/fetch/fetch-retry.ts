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
