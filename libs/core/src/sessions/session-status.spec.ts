import { SESSION_CACHE_TTL_MS, sessionCacheTtlMs, sessionStatus } from './session-status';

const T = 1_800_000_000_000;
const iso = (ms: number) => new Date(ms).toISOString();

describe('sessionStatus: the one rule for whether a session is active', () => {
  const base = { client_id: 'https://app.example/c.json', created_at: T };
  it.each([
    ['active', base, undefined, T + 1, { active: true }],
    [
      'revoked by the tenant',
      { ...base, revoked_at: T + 5, reason: 'api' },
      undefined,
      T + 10,
      { active: false, revoked_at: iso(T + 5), reason: 'api' },
    ],
    [
      'ended by a bulk revocation after it began',
      base,
      { at: T + 7, reason: 'client.gone' },
      T + 10,
      { active: false, revoked_at: iso(T + 7), reason: 'client.gone' },
    ],
    [
      'not ended by a bulk revocation before it began',
      base,
      { at: T - 1, reason: 'client.gone' },
      T + 10,
      { active: true },
    ],
    ['expired', { ...base, expires_at: T + 5 }, undefined, T + 5, { active: false, reason: 'expired' }],
    ['not yet expired', { ...base, expires_at: T + 5 }, undefined, T + 4, { active: true, expires_at: iso(T + 5) }],
  ])('%s', (_name, state, revocation, now, expected) => {
    expect(sessionStatus(state, revocation, now)).toMatchObject({
      ...expected,
      client_id: base.client_id,
      created_at: iso(T),
    });
  });
});

describe('sessionCacheTtlMs', () => {
  it('keeps a session a day past its expiry, at most 30 days', () => {
    expect(sessionCacheTtlMs({ client_id: 'x', created_at: T }, T)).toBe(SESSION_CACHE_TTL_MS);
    expect(sessionCacheTtlMs({ client_id: 'x', created_at: T, expires_at: T + 3600_000 }, T)).toBe(
      3600_000 + 86_400_000,
    );
    expect(sessionCacheTtlMs({ client_id: 'x', created_at: T, expires_at: T - 5 }, T)).toBe(86_400_000);
  });
});
