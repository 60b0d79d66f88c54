import { quote } from './findings';
import { listFieldNames, parseTenantPolicy } from './policy/tenant-policy';

describe('quote', () => {
  it.each([
    ['control characters', 'a\u0000b\u0001\n', '"a\\u0000b\\u0001\\n"'],
    ['DEL and C1 controls', 'a\u007fb\u0085', '"a\\u007fb\\u0085"'],
    ['a right-to-left override', 'https://x.test/\u202egnp.json', '"https://x.test/\\u202egnp.json"'],
    ['zero-width and BOM', 'a\u200bb\ufeff', '"a\\u200bb\\ufeff"'],
    ['line separators', 'a\u2028b', '"a\\u2028b"'],
    ['an unpaired surrogate', 'a\ud800', '"a\\ud800"'],
  ])('escapes %s', (_case, value, quoted) => {
    expect(quote(value)).toBe(quoted);
  });

  it('keeps readable text, letters of any script and surrogate pairs as they are', () => {
    expect(quote('https://\u0435xample.test/caf\u00e9 \u{1F600}')).toBe(
      '"https://\u0435xample.test/caf\u00e9 \u{1F600}"',
    );
  });

  it('shortens long values', () => {
    expect(quote('a'.repeat(200), 10)).toBe(`"${'a'.repeat(10)}…"`);
  });
});

describe('listFieldNames', () => {
  it('names plain fields as they are and quotes odd ones', () => {
    expect(listFieldNames(['typo', 'a b', '\u0000'])).toBe('typo, "a b", "\\u0000"');
  });

  it('names at most ten, each at most 40 characters', () => {
    const keys = Array.from({ length: 5000 }, (_, i) => `k${i}`);
    expect(listFieldNames(keys)).toBe('k0, k1, k2, k3, k4, k5, k6, k7, k8, k9 and 4990 more');
    expect(listFieldNames(['x'.repeat(100)])).toBe(`"${'x'.repeat(40)}…"`);
  });

  it('keeps the description of a policy with thousands of unknown fields short', () => {
    const policy = Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`k${i}`, 1]));
    const r = parseTenantPolicy(policy);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors.join('; ').length).toBeLessThan(200);
  });

  it('says a missing nested field is required', () => {
    const r = parseTenantPolicy({ webhook: { url: 'https://hooks.example/x' } });
    expect(r.ok ? [] : r.errors).toEqual(['webhook.secret is required']);
  });
});
