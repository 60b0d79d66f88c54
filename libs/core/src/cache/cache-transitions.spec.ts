import type { MetadataDocument } from '../document/metadata-document';
import type { FetchOutcome, KeySetOutcome } from '../fetch/fetch-outcome';
import type { CacheEntry } from './cache-entry';
import {
  answeredBefore,
  CacheTransition,
  logoStillFresh,
  nextCacheEntry,
  TransitionSettings,
  withKeySet,
} from './cache-transitions';

const ID = 'https://app.example/client.json';
const NOW = 1_800_000_000_000;
const SETTINGS: TransitionSettings = {
  goneConfirmDelayMs: 60_000,
  refusedRetrySeconds: 60,
  staleRetentionSeconds: 3600,
  refreshAheadRatio: 0.8,
};
const doc = (extra: Partial<MetadataDocument> = {}): MetadataDocument => ({
  client_id: ID,
  redirect_uris: ['https://app.example/cb'],
  token_endpoint_auth_method: 'none',
  grant_types: ['authorization_code'],
  response_types: ['code'],
  application_type: 'web',
  client_name: 'App',
  ...extra,
});
const lifetime = {
  ttlSeconds: 600,
  source: 'headers' as const,
  fetchedAt: NOW,
  refreshAt: NOW + 480_000,
  expiresAt: NOW + 600_000,
};
const valid = (extra: Partial<CacheEntry> = {}): CacheEntry => ({
  v: 1,
  client_id: ID,
  status: 'valid',
  document: doc(),
  raw_hash: 'h1',
  fetched_at: NOW - 700_000,
  first_seen_at: NOW - 86_400_000,
  refresh_at: NOW - 220_000,
  expires_at: NOW - 100_000,
  etag: '"v1"',
  ...extra,
});
const refused = (status: 'invalid' | 'gone'): CacheEntry => ({
  v: 1,
  client_id: ID,
  status,
  errors: [{ code: 'fetch.gone', message: 'the document URL answered 404' }],
  fetched_at: NOW - 120_000,
  first_seen_at: NOW - 86_400_000,
  refresh_at: NOW - 60_000,
  expires_at: NOW - 60_000,
});
const ok = (document = doc(), rawHash = 'h2'): FetchOutcome => ({
  outcome: 'ok',
  document,
  warnings: [],
  lifetime,
  validators: { etag: '"v2"' },
  rawHash,
  bytes: 200,
});
const gone: FetchOutcome = {
  outcome: 'gone',
  status: 404,
  errors: [{ code: 'fetch.gone', message: 'the document URL answered 404' }],
};
const invalid: FetchOutcome = {
  outcome: 'invalid',
  status: 200,
  warnings: [],
  errors: [{ code: 'document.client_id_mismatch', message: 'client_id differs' }],
};
const transient: FetchOutcome = {
  outcome: 'transient',
  errors: [{ code: 'fetch.timeout', message: 'no complete response within 5000 ms' }],
  retryAfterSeconds: 30,
};
const notModified: FetchOutcome = { outcome: 'not_modified', lifetime, validators: { etag: '"v1"' }, warnings: [] };

let ids = 0;
const next = (
  previous: CacheEntry | undefined,
  outcome: FetchOutcome,
  extra: { logo?: 'unavailable'; now?: number } = {},
) =>
  nextCacheEntry({
    previous,
    clientId: ID,
    outcome,
    now: extra.now ?? NOW,
    settings: SETTINGS,
    newId: () => `id-${++ids}`,
    ...extra,
  });
const summary = (t: CacheTransition) => ({
  kind: t.kind,
  status: t.kind === 'retry' ? t.entry?.status : t.entry.status,
  events: t.kind === 'write' ? t.events.map((e) => e.type) : [],
});

describe('nextCacheEntry: the client cache state machine', () => {
  it.each<[string, CacheEntry | undefined, FetchOutcome, ReturnType<typeof summary>]>([
    [
      'first fetch of a valid document',
      undefined,
      ok(),
      { kind: 'write', status: 'valid', events: ['client.fetched'] },
    ],
    ['first fetch of a missing document', undefined, gone, { kind: 'write', status: 'gone', events: ['client.gone'] }],
    [
      'first fetch of an invalid document',
      undefined,
      invalid,
      { kind: 'write', status: 'invalid', events: ['client.invalid'] },
    ],
    [
      'a valid client answering 404: suspect, still valid (SPEC-NOTES 23)',
      valid(),
      gone,
      { kind: 'suspect', status: 'valid', events: [] },
    ],
    [
      'a valid client breaking: suspect, still valid',
      valid(),
      invalid,
      { kind: 'suspect', status: 'valid', events: [] },
    ],
    [
      'a gone client coming back: restored',
      refused('gone'),
      ok(),
      { kind: 'write', status: 'valid', events: ['client.restored', 'client.fetched'] },
    ],
    [
      'an invalid client fixed: restored',
      refused('invalid'),
      ok(),
      { kind: 'write', status: 'valid', events: ['client.restored', 'client.fetched'] },
    ],
    ['a gone client still gone: no new event', refused('gone'), gone, { kind: 'write', status: 'gone', events: [] }],
    [
      'a gone client now invalid: client.invalid',
      refused('gone'),
      invalid,
      { kind: 'write', status: 'invalid', events: ['client.invalid'] },
    ],
    [
      'the same bytes again: fetched only',
      valid({ raw_hash: 'h2' }),
      ok(),
      { kind: 'write', status: 'valid', events: ['client.fetched'] },
    ],
    [
      'a removed redirect URI: changed',
      valid(),
      ok(doc({ redirect_uris: ['https://app.example/other'] })),
      { kind: 'write', status: 'valid', events: ['client.changed', 'client.fetched'] },
    ],
    [
      'other bytes, nothing significant changed: fetched only',
      valid(),
      ok(doc()),
      { kind: 'write', status: 'valid', events: ['client.fetched'] },
    ],
    [
      '304 on a valid copy: revalidated (SPEC-NOTES 4)',
      valid(),
      notModified,
      { kind: 'write', status: 'valid', events: ['client.fetched'] },
    ],
    [
      '304 without a validated copy: retried whole (SPEC-NOTES 4)',
      refused('gone'),
      notModified,
      { kind: 'retry', status: undefined, events: [] },
    ],
    [
      'transient with a copy: the copy stays, the error is noted (SPEC-NOTES 15)',
      valid(),
      transient,
      { kind: 'retry', status: 'valid', events: [] },
    ],
    [
      'transient without a copy: nothing is written (SPEC-NOTES 15)',
      undefined,
      transient,
      { kind: 'retry', status: undefined, events: [] },
    ],
  ])('%s', (_name, previous, outcome, expected) => {
    expect(summary(next(previous, outcome))).toEqual(expected);
  });

  it('a suspect is confirmed gone only after the delay, counted from the first answer', () => {
    const first = next(valid(), gone);
    expect(first).toMatchObject({
      kind: 'suspect',
      confirmInMs: 60_000,
      entry: { suspect: { since: NOW, outcome: 'gone' } },
    });
    const early = next(first.kind === 'suspect' ? first.entry : undefined, gone, { now: NOW + 30_000 });
    expect(early).toMatchObject({ kind: 'suspect', confirmInMs: 30_000, entry: { suspect: { since: NOW } } });
    const confirmed = next(first.kind === 'suspect' ? first.entry : undefined, gone, { now: NOW + 60_000 });
    expect(summary(confirmed)).toEqual({ kind: 'write', status: 'gone', events: ['client.gone'] });
    // A refused entry is fetched again no sooner than the lower cache bound.
    if (confirmed.kind !== 'write') throw new Error('expected a write');
    expect(confirmed.entry.refresh_at).toBe(NOW + 60_000 + 60_000);
    expect(confirmed.entry.document).toBeUndefined();
    expect(confirmed.entry.first_seen_at).toBe(NOW - 86_400_000);
  });

  it('a valid answer clears the suspicion; a 304 clears it and the last error too', () => {
    const suspect = valid({
      suspect: { since: NOW - 1000, outcome: 'gone', errors: [] },
      last_error: { at: NOW - 5, code: 'fetch.timeout', message: 'x' },
    });
    const fresh = next(suspect, ok());
    expect(fresh.kind === 'write' && fresh.entry.suspect).toBeUndefined();
    const revalidated = next(suspect, notModified);
    if (revalidated.kind !== 'write') throw new Error('expected a write');
    expect(revalidated.entry).not.toHaveProperty('suspect');
    expect(revalidated.entry).not.toHaveProperty('last_error');
    expect(revalidated.entry).toMatchObject({
      document: doc(),
      fetched_at: NOW,
      expires_at: NOW + 600_000,
      etag: '"v1"',
    });
  });

  it('names the kinds of change, carries the new hash, and keeps first_seen_at', () => {
    const t = next(
      valid(),
      ok(doc({ redirect_uris: ['https://app.example/cb', 'https://app.example/new'], client_name: 'Renamed' }), 'h3'),
    );
    if (t.kind !== 'write') throw new Error('expected a write');
    expect(t.events[0]).toMatchObject({
      type: 'client.changed',
      data: { changes: ['redirect_uris_added', 'client_name'], raw_hash: 'h3' },
    });
    expect(t.entry).toMatchObject({ raw_hash: 'h3', first_seen_at: NOW - 86_400_000, etag: '"v2"' });
  });

  it('every event has its own id, the time, the client_id and the version', () => {
    const t = next(refused('gone'), ok());
    if (t.kind !== 'write') throw new Error('expected a write');
    expect(new Set(t.events.map((e) => e.id)).size).toBe(2);
    for (const e of t.events) expect(e).toMatchObject({ time: NOW, client_id: ID, version: 1 });
  });

  it('a logo that could not be stored is a warning; a stored one is kept by hash', () => {
    const withLogo = ok(doc({ logo_uri: 'https://app.example/logo.png' }));
    const missing = next(undefined, withLogo, { logo: 'unavailable' });
    expect(missing.kind === 'write' && missing.entry.warnings).toEqual(['logo.unavailable']);
    const stored = nextCacheEntry({
      previous: undefined,
      clientId: ID,
      outcome: withLogo,
      now: NOW,
      settings: SETTINGS,
      logo: { sha256: 'abc', content_type: 'image/png' },
      newId: () => 'x',
    });
    expect(stored.kind === 'write' && stored.entry.logo).toEqual({ sha256: 'abc', content_type: 'image/png' });
  });

  it('keeps an entry in Redis for the stale retention past its expiry', () => {
    const t = next(undefined, ok());
    expect(t.kind === 'write' && t.ttlMs).toBe(600_000 + 3_600_000);
  });

  it('a transient failure carries the origin’s Retry-After', () => {
    expect(next(valid(), transient)).toMatchObject({
      kind: 'retry',
      retryAfterMs: 30_000,
      entry: { last_error: { at: NOW, code: 'fetch.timeout' } },
    });
  });
});

describe('answeredBefore: a fetch job made redundant by a newer entry', () => {
  const entry = valid({ fetched_at: NOW });
  it.each<[string, Parameters<typeof answeredBefore>[0], CacheEntry | undefined, boolean]>([
    ['a miss asked before the entry was written', { reason: 'miss', requestedAt: NOW - 1 }, entry, true],
    ['a refresh asked before', { reason: 'refresh', requestedAt: NOW - 1 }, entry, true],
    ['a scheduled revalidation asked before', { reason: 'scheduled', requestedAt: NOW - 1 }, entry, true],
    ['a miss asked after', { reason: 'miss', requestedAt: NOW + 1 }, entry, false],
    ['an admin refresh is always fetched', { reason: 'admin', requestedAt: NOW - 1 }, entry, false],
    ['a confirmation is always fetched', { reason: 'confirm', requestedAt: NOW - 1 }, entry, false],
    [
      'a resumed admin job whose run already wrote',
      { reason: 'admin', requestedAt: NOW - 1, resumed: true },
      entry,
      true,
    ],
    ['no entry yet', { reason: 'miss', requestedAt: NOW - 1 }, undefined, false],
  ])('%s', (_name, job, previous, expected) => {
    expect(answeredBefore(job, previous)).toBe(expected);
  });
});

describe('a 304 keeps the stored lifetime unless it carries its own (RFC 9111 §4.3.4; SPEC-NOTES 32)', () => {
  const stored = valid({ ttl_seconds: 600 });
  it('a 304 saying nothing about freshness keeps the 600 s the 200 was given', () => {
    const silent: FetchOutcome = {
      outcome: 'not_modified',
      lifetime: {
        ttlSeconds: 3600,
        source: 'default',
        fetchedAt: NOW,
        refreshAt: NOW + 2_880_000,
        expiresAt: NOW + 3_600_000,
      },
      validators: {},
      warnings: [],
    };
    const t = next(stored, silent);
    expect(t).toMatchObject({
      kind: 'write',
      entry: { fetched_at: NOW, refresh_at: NOW + 480_000, expires_at: NOW + 600_000, ttl_seconds: 600 },
    });
  });
  it('a 304 with its own max-age takes it', () => {
    const own: FetchOutcome = {
      outcome: 'not_modified',
      lifetime: {
        ttlSeconds: 120,
        source: 'headers',
        fetchedAt: NOW,
        refreshAt: NOW + 96_000,
        expiresAt: NOW + 120_000,
      },
      validators: {},
      warnings: [],
    };
    expect(next(stored, own)).toMatchObject({ entry: { expires_at: NOW + 120_000, ttl_seconds: 120 } });
  });
});

describe('logoStillFresh: a prefetched logo is fetched again when its document lifetime ends (SPEC-NOTES 21)', () => {
  const withLogo = (fetchedAt: number) =>
    valid({
      document: doc({ logo_uri: 'https://app.example/logo.png' }),
      ttl_seconds: 600,
      logo: { sha256: 'abc', content_type: 'image/png', fetched_at: fetchedAt },
    });
  it.each([
    ['fetched 10 minutes minus a second ago', NOW - 599_000, 'https://app.example/logo.png', true],
    ['fetched 10 minutes ago: one lifetime', NOW - 600_000, 'https://app.example/logo.png', false],
    ['another logo_uri now', NOW - 1000, 'https://app.example/other.png', false],
  ])('%s', (_name, fetchedAt, uri, fresh) => {
    expect(logoStillFresh(withLogo(fetchedAt), uri, NOW)).toBe(fresh);
  });
});

describe('withKeySet: the key set at jwks_uri onto the entry (SPEC-NOTES 26, 27, 30)', () => {
  const JWKS_URI = 'https://app.example/jwks.json';
  const keyed = (keys?: CacheEntry['keys']) =>
    valid({
      document: doc({ token_endpoint_auth_method: 'private_key_jwt', jwks_uri: JWKS_URI }),
      fetched_at: NOW,
      refresh_at: NOW + 480_000,
      expires_at: NOW + 600_000,
      ...(keys ? { keys } : {}),
    });
  const held = {
    jwks_uri: JWKS_URI,
    status: 'valid' as const,
    jwks: { keys: [{ kty: 'EC' }] },
    raw_hash: 'k1',
    fetched_at: NOW - 1,
  };
  const okKeys = (hash: string, expiresIn = 300_000): KeySetOutcome => ({
    outcome: 'ok',
    jwks: { keys: [{ kty: 'EC' }] },
    warnings: [],
    lifetime: {
      ttlSeconds: expiresIn / 1000,
      source: 'headers',
      fetchedAt: NOW,
      refreshAt: NOW + expiresIn * 0.8,
      expiresAt: NOW + expiresIn,
    },
    validators: { etag: '"k"' },
    rawHash: hash,
  });
  const apply = (entry: CacheEntry, keys: KeySetOutcome) => withKeySet(entry, keys, NOW, SETTINGS, () => 'e');

  it('a first key set: valid, no change event, and its shorter lifetime bounds the entry', () => {
    const r = apply(keyed(), okKeys('k1'));
    expect(r?.entry.keys).toMatchObject({ status: 'valid', raw_hash: 'k1', etag: '"k"' });
    expect(r?.entry).toMatchObject({ refresh_at: NOW + 240_000, expires_at: NOW + 300_000 });
    expect(r?.events).toEqual([]);
  });
  it('another key set at the same jwks_uri is a change of keys', () => {
    expect(
      apply(keyed(held), okKeys('k2'))?.events.map((e) => [e.type, e.type === 'client.changed' ? e.data.changes : []]),
    ).toEqual([['client.changed', ['keys']]]);
  });
  it('the same key set again is no change', () => {
    expect(apply(keyed(held), okKeys('k1'))?.events).toEqual([]);
  });
  it('a usable set that becomes unusable is a change; a transient failure keeps the held set and retries soon', () => {
    const refused: KeySetOutcome = { outcome: 'refused', errors: [{ code: 'keys.private_key', message: 'x' }] };
    expect(apply(keyed(held), refused)).toMatchObject({
      entry: { keys: { status: 'invalid' } },
      events: [{ type: 'client.changed' }],
    });
    const transient: KeySetOutcome = { outcome: 'transient', errors: [{ code: 'fetch.timeout', message: 'x' }] };
    const kept = apply(keyed(held), transient);
    expect(kept?.entry.keys).toEqual(held);
    expect(kept?.entry.refresh_at).toBe(NOW + 60_000);
    expect(kept?.events).toEqual([]);
  });
  it('a set never had stays unavailable on a transient failure', () => {
    const transient: KeySetOutcome = { outcome: 'transient', errors: [{ code: 'fetch.dns_failed', message: 'x' }] };
    expect(apply(keyed(), transient)?.entry.keys).toMatchObject({
      status: 'unavailable',
      errors: [{ code: 'fetch.dns_failed' }],
    });
  });
  it('an entry without jwks_uri takes no key set', () => {
    expect(apply(valid(), okKeys('k1'))).toBeUndefined();
  });
  it('a new entry carries the held set for the same jwks_uri until the follow-up fetch', () => {
    const t = next(keyed(held), ok(doc({ token_endpoint_auth_method: 'private_key_jwt', jwks_uri: JWKS_URI })));
    expect(t.kind === 'write' && t.entry.keys).toEqual(held);
    const moved = next(
      keyed(held),
      ok(doc({ token_endpoint_auth_method: 'private_key_jwt', jwks_uri: 'https://app.example/new.json' })),
    );
    expect(moved.kind === 'write' && moved.entry.keys).toMatchObject({
      jwks_uri: 'https://app.example/new.json',
      status: 'unavailable',
    });
  });
});
