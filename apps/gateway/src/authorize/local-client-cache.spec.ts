import type { CacheEntry } from '@cimd/contracts';
import { checkClientIdUrl } from '@cimd/core';
import { LocalClientCache } from './local-client-cache';

const ID = 'https://app.example/client.json';
const entry: CacheEntry = {
  v: 1,
  client_id: ID,
  status: 'valid',
  fetched_at: 0,
  refresh_at: 1,
  expires_at: 2,
};
const client = { url: checkClientIdUrl(ID), entry };

describe('LocalClientCache', () => {
  it('serves a copy for less than its TTL after the read, then reads again', () => {
    const cache = new LocalClientCache(1000);
    cache.set('k', client, cache.generation, 10_000);
    expect(cache.get('k', 10_000)?.entry).toBe(entry);
    expect(cache.get('k', 10_999)?.entry).toBe(entry);
    expect(cache.get('k', 11_000)).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('never serves a copy read "in the future" (a clock stepped back)', () => {
    const cache = new LocalClientCache(1000);
    cache.set('k', client, cache.generation, 10_000);
    expect(cache.get('k', 9_000)).toBeUndefined();
  });

  it('drops a copy when the fetcher announces an attempt for that client', () => {
    const cache = new LocalClientCache(1000);
    cache.set('k', client, cache.generation, 10_000);
    cache.set('other', client, cache.generation, 10_000);
    cache.invalidate('k');
    expect(cache.get('k', 10_001)).toBeUndefined();
    expect(cache.get('other', 10_001)).toBeDefined();
  });

  it('does not keep a read that an invalidation overtook', () => {
    const cache = new LocalClientCache(1000);
    const generation = cache.generation; // taken before the GET is sent
    cache.invalidate('k'); // the fetcher wrote and announced while the GET was on its way
    cache.set('k', client, generation, 10_000);
    expect(cache.get('k', 10_000)).toBeUndefined();
  });

  it('keeps nothing when its TTL is 0', () => {
    const cache = new LocalClientCache(0);
    expect(cache.enabled).toBe(false);
    cache.set('k', client, cache.generation, 10_000);
    expect(cache.get('k', 10_000)).toBeUndefined();
  });

  it('is bounded: the oldest read goes first', () => {
    const cache = new LocalClientCache(1000, 2);
    cache.set('a', client, cache.generation, 10_000);
    cache.set('b', client, cache.generation, 10_001);
    cache.set('c', client, cache.generation, 10_002);
    expect(cache.size).toBe(2);
    expect(cache.get('a', 10_003)).toBeUndefined();
    expect(cache.get('c', 10_003)).toBeDefined();
  });

  it('clear() forgets everything', () => {
    const cache = new LocalClientCache(1000);
    cache.set('a', client, cache.generation, 10_000);
    cache.clear();
    expect(cache.get('a', 10_000)).toBeUndefined();
  });
});
