import { LocalCache } from './local-cache';

/** A loader whose answers the test controls, counting its calls. */
function source(initial: Record<string, string>) {
  const values = new Map(Object.entries(initial));
  let calls = 0;
  let failing = false;
  let gate: Promise<void> | undefined;
  return {
    set: (k: string, v: string) => values.set(k, v),
    fail: (on: boolean) => (failing = on),
    hold: (until: Promise<void>) => {
      gate = until;
    },
    get calls() {
      return calls;
    },
    load: async (key: string) => {
      calls++;
      if (gate) await gate;
      if (failing) throw new Error('backend down');
      const v = values.get(key);
      return v === undefined ? undefined : { v };
    },
  };
}

describe('LocalCache', () => {
  let now = 10_000;
  const clock = () => now;
  beforeEach(() => (now = 10_000));

  it('serves a copy for its TTL after the load, then loads again', async () => {
    const s = source({ k: 'one' });
    const cache = new LocalCache({ ttlMs: 1000, max: 10, load: s.load, now: clock });
    expect(cache.get('k')).toBeUndefined();
    expect(await cache.load('k', undefined)).toEqual({ v: 'one' });
    s.set('k', 'two');
    now = 10_999;
    expect(cache.get('k')).toEqual({ v: 'one' });
    expect(await cache.load('k', undefined)).toEqual({ v: 'one' });
    now = 11_001;
    expect(cache.get('k')).toBeUndefined();
    expect(await cache.load('k', undefined)).toEqual({ v: 'two' });
    expect(s.calls).toBe(2);
  });

  it('drops a copy when another process announces a change', async () => {
    const s = source({ k: 'one', other: 'x' });
    const cache = new LocalCache({ ttlMs: 1000, max: 10, load: s.load, now: clock });
    await cache.load('k', undefined);
    await cache.load('other', undefined);
    s.set('k', 'two');
    cache.invalidate('k');
    expect(cache.get('k')).toBeUndefined();
    expect(cache.get('other')).toEqual({ v: 'x' });
    expect(await cache.load('k', undefined)).toEqual({ v: 'two' });
  });

  it('does not keep a load that an invalidation overtook, but still answers it', async () => {
    const s = source({ k: 'old' });
    const cache = new LocalCache({ ttlMs: 1000, max: 10, load: s.load, now: clock });
    let release!: () => void;
    s.hold(new Promise<void>((r) => (release = r)));
    const pending = cache.load('k', undefined); // the read is on its way
    s.set('k', 'new');
    cache.invalidate('k'); // the change was announced while it travelled
    release();
    expect(await pending).toEqual({ v: 'new' });
    expect(cache.get('k')).toBeUndefined();
  });

  it('hands the loader the copy whose time ran out, never one that was invalidated', async () => {
    const seen: ({ v: string } | undefined)[] = [];
    const cache = new LocalCache<{ v: string }>({
      ttlMs: 1000,
      max: 10,
      now: clock,
      load: (_key, _context, expired) => {
        seen.push(expired);
        return Promise.resolve(expired ?? { v: 'loaded' });
      },
    });
    const first = await cache.load('k', undefined);
    now = 11_001;
    // The loader kept the expired copy: the very same object is served for another TTL.
    expect(await cache.load('k', undefined)).toBe(first);
    now = 11_500;
    expect(cache.get('k')).toBe(first);
    cache.invalidate('k');
    expect(await cache.load('k', undefined)).not.toBe(first);
    expect(seen).toEqual([undefined, first, undefined]);
  });

  it('concurrent loads of one key share one read', async () => {
    const s = source({ k: 'one' });
    const cache = new LocalCache({ ttlMs: 1000, max: 10, load: s.load, now: clock });
    const answers = await Promise.all([1, 2, 3].map(() => cache.load('k', undefined)));
    expect(answers).toEqual([{ v: 'one' }, { v: 'one' }, { v: 'one' }]);
    expect(s.calls).toBe(1);
  });

  it('keeps nothing that does not exist', async () => {
    const s = source({});
    const cache = new LocalCache({ ttlMs: 1000, max: 10, load: s.load, now: clock });
    expect(await cache.load('missing', undefined)).toBeUndefined();
    expect(await cache.load('missing', undefined)).toBeUndefined();
    expect(s.calls).toBe(2);
    expect(cache.size).toBe(0);
  });

  it('serves the expired copy when a load fails, if asked to', async () => {
    const s = source({ k: 'one' });
    const cache = new LocalCache({ ttlMs: 1000, max: 10, load: s.load, serveStaleOnLoadFailure: true, now: clock });
    await cache.load('k', undefined);
    now = 12_000;
    s.fail(true);
    expect(await cache.load('k', undefined)).toEqual({ v: 'one' });
    const strict = new LocalCache({ ttlMs: 1000, max: 10, load: s.load, now: clock });
    await expect(strict.load('k', undefined)).rejects.toThrow('backend down');
  });

  it('loads every time when its TTL is 0', async () => {
    const s = source({ k: 'one' });
    const cache = new LocalCache({ ttlMs: 0, max: 10, load: s.load });
    expect(cache.enabled).toBe(false);
    await cache.load('k', undefined);
    await cache.load('k', undefined);
    expect(cache.get('k')).toBeUndefined();
    expect(s.calls).toBe(2);
  });

  it('clear() forgets everything', async () => {
    const s = source({ a: '1' });
    const cache = new LocalCache({ ttlMs: 1000, max: 10, load: s.load, now: clock });
    await cache.load('a', undefined);
    cache.clear();
    expect(cache.get('a')).toBeUndefined();
  });

  it('is bounded: the least recently used copy goes first', async () => {
    const s = source({ a: '1', b: '2', c: '3' });
    const cache = new LocalCache({ ttlMs: 1000, max: 2, load: s.load, now: clock });
    for (const k of ['a', 'b', 'c']) await cache.load(k, undefined);
    expect(cache.size).toBe(2);
    expect(cache.get('a')).toBeUndefined();
    expect(cache.get('c')).toEqual({ v: '3' });
  });
});
