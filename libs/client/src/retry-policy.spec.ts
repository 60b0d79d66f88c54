import { GatewayError } from './errors';
import { retryDelay, retryHintMs, RetryPolicy, withRetries } from './retry-policy';

const policy: RetryPolicy = { attempts: 4, baseDelayMs: 100, maxDelayMs: 300, budgetMs: 1_000 };

describe('retryDelay', () => {
  it.each([
    // done, elapsed, hint, random, expected
    [1, 0, undefined, 0, 50], // half the first backoff at least
    [1, 0, undefined, 1, 100], // at most the backoff
    [2, 0, undefined, 0.5, 150], // doubled: 200 → 100…200
    [3, 0, undefined, 1, 300], // capped at maxDelayMs
    [1, 0, 250, 0, 250], // the gateway's hint is a floor
    [1, 0, 20, 1, 100], // a hint shorter than the backoff changes nothing
    [4, 0, undefined, 0, undefined], // attempts spent
    [1, 960, undefined, 1, undefined], // the budget would be passed
    [1, 0, 5_000, 0, undefined], // a hint past the budget: stop rather than wait
  ])('after attempt %i at %i ms (hint %p, random %p): %p', (done, elapsed, hint, random, expected) => {
    expect(retryDelay(policy, done, elapsed, hint, () => random)).toBe(expected);
  });

  it('spreads a fleet that retried together: the jitter draws differ', () => {
    const delays = new Set(
      Array.from({ length: 50 }, () =>
        retryDelay({ ...policy, baseDelayMs: 1000, maxDelayMs: 1000, budgetMs: 10_000 }, 1, 0),
      ),
    );
    expect(delays.size).toBeGreaterThan(10);
  });
});

describe('withRetries', () => {
  const fast: RetryPolicy = { attempts: 3, baseDelayMs: 1, maxDelayMs: 2, budgetMs: 1_000 };

  it('returns a done result at once, however many attempts are left', async () => {
    const attempt = jest.fn(() => Promise.resolve({ done: 'deny' }));
    expect(await withRetries(fast, attempt)).toEqual({ result: 'deny', attempts: 1 });
    expect(attempt).toHaveBeenCalledTimes(1);
  });

  it('retries a result marked retry, and returns the last one when the attempts run out', async () => {
    const attempt = jest.fn(() => Promise.resolve({ retry: 'pending' }));
    expect(await withRetries(fast, attempt)).toEqual({ result: 'pending', attempts: 3 });
  });

  it('stops retrying as soon as an attempt is done', async () => {
    let n = 0;
    const result = await withRetries(fast, () => Promise.resolve(++n < 2 ? { retry: 'pending' } : { done: 'allow' }));
    expect(result).toEqual({ result: 'allow', attempts: 2 });
  });

  it('retries an error only when told to, and throws it when the attempts run out', async () => {
    const unavailable = new GatewayError('temporarily_unavailable', 'down');
    const attempt = jest.fn((): Promise<{ done: string }> => Promise.reject(unavailable));
    await expect(withRetries(fast, attempt)).rejects.toBe(unavailable);
    expect(attempt).toHaveBeenCalledTimes(1);
    attempt.mockClear();
    await expect(withRetries(fast, attempt, { retryError: (e) => e.transient })).rejects.toBe(unavailable);
    expect(attempt).toHaveBeenCalledTimes(3);
  });

  it('never retries an error that is not transient', async () => {
    const attempt = jest.fn((): Promise<{ done: string }> =>
      Promise.reject(new GatewayError('invalid_request', 'bad')),
    );
    await expect(withRetries(fast, attempt, { retryError: (e) => e.transient })).rejects.toThrow('invalid_request');
    expect(attempt).toHaveBeenCalledTimes(1);
  });

  it('gives up waiting when the caller aborts', async () => {
    const controller = new AbortController();
    const slow: RetryPolicy = { attempts: 5, baseDelayMs: 60_000, maxDelayMs: 60_000, budgetMs: 600_000 };
    const run = withRetries(slow, () => Promise.resolve({ retry: 'pending' }), { signal: controller.signal });
    controller.abort(new Error('user left'));
    await expect(run).rejects.toThrow('user left');
  });
});

describe('retryHintMs', () => {
  it.each([
    [{ retry_after_seconds: 2 }, 2000],
    [{ retry_after_seconds: 0 }, 0],
    [{ retry_after_seconds: -1 }, undefined],
    [{ retry_after_seconds: '100' }, undefined],
    [{ retry_after: 2 }, undefined],
    [{}, undefined],
  ])('%j → %p', (answer, expected) => {
    expect(retryHintMs(answer)).toBe(expected);
  });
});
