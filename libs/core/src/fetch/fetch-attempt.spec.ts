import type { FetchOutcome } from './fetch-outcome';
import { attemptSucceeded, fetchAttemptOf, lastFailure, parseFetchAttempts } from './fetch-attempt';
import { nextAttemptAfterFailure } from './fetch-retry';

const T = 1_800_000_000_000;
const context = { at: T, reason: 'miss' as const, attempt: 1, durationMs: 12.4 };

describe('fetchAttemptOf: the attempt log record of one fetch', () => {
  it.each<[string, FetchOutcome, Record<string, unknown>]>([
    [
      'a host that does not resolve: its rule code and message, no HTTP status',
      { outcome: 'transient', errors: [{ code: 'fetch.dns_failed', message: 'x.invalid did not resolve' }] },
      { outcome: 'transient', code: 'fetch.dns_failed', message: 'x.invalid did not resolve' },
    ],
    [
      'a 503: the status too',
      { outcome: 'transient', status: 503, errors: [{ code: 'fetch.server_error', message: '503' }] },
      { outcome: 'transient', code: 'fetch.server_error', http_status: 503 },
    ],
    [
      'an invalid document: the first rule that failed',
      {
        outcome: 'invalid',
        status: 200,
        warnings: [],
        errors: [{ code: 'document.redirect_uris_missing', message: 'no redirect_uris', field: 'redirect_uris' }],
      },
      { outcome: 'invalid', code: 'document.redirect_uris_missing', http_status: 200 },
    ],
    [
      'a 304: no code',
      {
        outcome: 'not_modified',
        warnings: [],
        validators: {},
        lifetime: { fetchedAt: T, refreshAt: T + 1, expiresAt: T + 2 } as never,
      },
      { outcome: 'not_modified', http_status: 304 },
    ],
  ])('%s', (_name, outcome, expected) => {
    const record = fetchAttemptOf(outcome, context);
    expect(record).toMatchObject({ at: T, reason: 'miss', attempt: 1, duration_ms: 12, ...expected });
    if (!('code' in expected)) expect(record.code).toBeUndefined();
  });

  it('keeps a long message short (the log is bounded)', () => {
    const record = fetchAttemptOf(
      { outcome: 'transient', errors: [{ code: 'fetch.connect_failed', message: 'x'.repeat(5000) }] },
      context,
    );
    expect(record.message).toHaveLength(1000);
  });
});

describe('the attempt log read back', () => {
  const failed = fetchAttemptOf(
    { outcome: 'transient', errors: [{ code: 'fetch.timeout', message: 'no answer in 5 s' }] },
    { ...context, next: { kind: 'retry', at: T + 2000 } },
  );
  const ok = { at: T + 5000, reason: 'refresh', attempt: 1, outcome: 'ok', http_status: 200, duration_ms: 30 };

  it('skips what another version wrote, keeps the order (newest first)', () => {
    expect(parseFetchAttempts([JSON.stringify(ok), 'not json', '{"at":"x"}', JSON.stringify(failed)])).toEqual([
      ok,
      failed,
    ]);
  });

  it('lastFailure: the latest attempt, only when it failed', () => {
    expect(lastFailure([failed])).toEqual(failed);
    expect(lastFailure([ok, failed])).toBeUndefined();
    expect(lastFailure([])).toBeUndefined();
    expect(attemptSucceeded(ok)).toBe(true);
    expect(attemptSucceeded(failed)).toBe(false);
  });
});

describe('nextAttemptAfterFailure: when a transient failure is tried again', () => {
  it.each([
    ['first failure of 5: retry after the exponential backoff', 0, 5, 0, { kind: 'retry', inMs: 2000 }],
    ['third failure: 8 s', 2, 5, 0, { kind: 'retry', inMs: 8000 }],
    ['Retry-After longer than the backoff wins', 0, 5, 30_000, { kind: 'retry', inMs: 30_000 }],
    ['the last attempt of the job: the cooldown', 4, 5, 0, { kind: 'cooldown', inMs: 120_000 }],
  ])('%s', (_name, attemptsMade, maxAttempts, retryAfterMs, expected) => {
    expect(
      nextAttemptAfterFailure({
        attemptsMade,
        maxAttempts,
        backoffDelayMs: 2000,
        retryAfterMs,
        cooldownMs: 120_000,
        random: 0.5,
      }),
    ).toEqual(expected);
  });
});
