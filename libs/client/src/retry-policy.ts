import { GatewayError } from './errors';

/**
 * How a `pending` answer (the gateway could not have the client's document in time) and a
 * transient failure of an idempotent call are tried again: a few attempts, exponential backoff
 * with jitter, never longer than the gateway asked for less, never past the budget.
 */
export interface RetryPolicy {
  /** Attempts in all, the first included (1: never retry). */
  attempts: number;
  /** The first backoff; doubled after each attempt, at most `maxDelayMs`. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** No attempt starts later than this after the first one. */
  budgetMs: number;
}

/**
 * Four attempts within 10 s: an authorize check that misses the cache waits up to the gateway's
 * CIMD_AUTHORIZE_WAIT_MS (2.5 s by default) before it answers `pending`, so a user waits at
 * most about that long per attempt while the fetch goes on in the background.
 */
export const DEFAULT_RETRY_POLICY: RetryPolicy = { attempts: 4, baseDelayMs: 250, maxDelayMs: 2_000, budgetMs: 10_000 };

/** How long to wait before attempt `done + 1`, or undefined when the policy says stop. */
export function retryDelay(
  policy: RetryPolicy,
  done: number,
  elapsedMs: number,
  hintMs?: number,
  random: () => number = Math.random,
): number | undefined {
  if (done >= policy.attempts) return undefined;
  const backoff = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (done - 1));
  // Equal jitter: at least half the backoff (no hammering), the rest random (a fleet that missed
  // together does not come back together).
  let delay = backoff / 2 + random() * (backoff / 2);
  // The gateway's hint is a floor: it knows better than our backoff when trying again is worth it.
  if (hintMs !== undefined && Number.isFinite(hintMs) && hintMs > delay) delay = hintMs;
  if (elapsedMs + delay > policy.budgetMs) return undefined;
  return Math.round(delay);
}

/** A wait that ends early, with the signal's reason, when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason as Error);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** What one attempt came to: a result to return, or one to retry (with the gateway's hint). */
export type Attempt<T> = { done: T } | { retry: T; hintMs?: number };

/**
 * Run `attempt` until it is done or the policy says stop; then the last result (a `pending`
 * decision stays `pending`). A thrown error is retried only when `retryError` says so (a
 * transient failure of an idempotent call); otherwise, or when the policy stops, it is thrown.
 */
export async function withRetries<T>(
  policy: RetryPolicy,
  attempt: (n: number) => Promise<Attempt<T>>,
  options: { retryError?: (e: GatewayError) => boolean; signal?: AbortSignal } = {},
): Promise<{ result: T; attempts: number }> {
  const started = Date.now();
  for (let n = 1; ; n++) {
    let outcome: Attempt<T>;
    try {
      outcome = await attempt(n);
    } catch (e) {
      const retryable = e instanceof GatewayError && options.retryError?.(e) === true;
      const delay = retryable ? retryDelay(policy, n, Date.now() - started, e.details.retryAfterMs) : undefined;
      if (delay === undefined) throw e;
      await sleep(delay, options.signal);
      continue;
    }
    if ('done' in outcome) return { result: outcome.done, attempts: n };
    const delay = retryDelay(policy, n, Date.now() - started, outcome.hintMs);
    if (delay === undefined) return { result: outcome.retry, attempts: n };
    await sleep(delay, options.signal);
  }
}

/**
 * The retry hint of a `pending` answer: `retry_after_seconds`, which the gateway sends when it
 * knows when the client's next fetch is due (a backoff or a cooldown). Absent or malformed: none.
 */
export function retryHintMs(answer: Record<string, unknown>): number | undefined {
  const s = answer.retry_after_seconds;
  if (typeof s === 'number' && Number.isFinite(s) && s >= 0) return s * 1000;
  return undefined;
}
