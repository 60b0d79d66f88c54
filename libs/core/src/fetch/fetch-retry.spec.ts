import { failureCooldownMs, fetchBackoffMs, MAX_FETCH_BACKOFF_MS } from './fetch-retry';

describe('fetchBackoffMs', () => {
  it.each([
    [1, 0.5, 0, 2000],
    [2, 0.5, 0, 4000],
    [3, 0.5, 0, 8000],
    [1, 0, 0, 1600],
    [1, 1, 0, 2400],
    [1, 0.5, 30_000, 30_000],
    [30, 0.5, 0, MAX_FETCH_BACKOFF_MS],
  ])('attempt %i, jitter %d, Retry-After %i ms: %i ms', (attempts, random, retryAfter, expected) => {
    expect(fetchBackoffMs(attempts, 2000, retryAfter, random)).toBe(expected);
  });
});

describe('failureCooldownMs', () => {
  it.each([
    [1, 30_000],
    [2, 60_000],
    [3, 120_000],
    [10, 3_600_000],
    [100, 3_600_000],
  ])('after %i failures: %i ms (capped at an hour)', (failures, expected) => {
    expect(failureCooldownMs(failures, 3600)).toBe(expected);
  });
});
