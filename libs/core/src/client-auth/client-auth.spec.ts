import { validateMetadataDocument } from '../document/validate-document';
import { BASE_DOCUMENT, CLIENT_ID, variant } from '../document/validate-document.cases';
import { parseTenantPolicy, TenantPolicy } from '../policy/tenant-policy';
import { checkAssertionClaims, checkAssertionHeader, describeAssertionMember } from './assertion-rules';
import { authMethodsFor } from './auth-methods';
import { ASSERTION_CASES, ASSERTION_CONTEXT, GOOD_CLAIMS, KEY_SET_CASES } from './client-auth.cases';
import { checkJwkSet } from './jwk-set';

function without<T extends Record<string, unknown>>(
  base: T,
  change: Record<string, unknown> = {},
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base, ...change };
  for (const [k, v] of Object.entries(change)) if (v === undefined) delete out[k];
  return out;
}

describe('checkJwkSet: a key set from jwks_uri (SPEC-NOTES 11, 26)', () => {
  it.each(KEY_SET_CASES)('$rule: $name', (c) => {
    const r = checkJwkSet(c.set, 'jwks_uri');
    expect(r.errors.map((e) => e.code)).toEqual(c.errors);
    expect(r.warnings.map((w) => w.code)).toEqual(c.warnings ?? []);
    expect(r.keys).toHaveLength(c.usable);
    expect(r.valid).toBe(c.errors.length === 0);
  });
});

describe('assertion header and claims (SPEC-NOTES 26; RFC 7523 §3)', () => {
  it.each(ASSERTION_CASES)('$rule: $name', (c) => {
    const ctx = { ...ASSERTION_CONTEXT, ...c.context };
    const header = without({ alg: 'RS256' }, c.header);
    const found = checkAssertionHeader(header, ctx) ?? checkAssertionClaims(without(GOOD_CLAIMS, c.claims), ctx);
    expect(found?.code).toBe(c.refusal);
    if (found) expect(found.message.length).toBeGreaterThan(20);
  });

  it('a header member or claim is shown with invisible characters escaped, whatever its type', () => {
    expect(describeAssertionMember('fuz\u200b-1')).toBe('"fuz\\u200b-1"');
    expect(describeAssertionMember('a\u202eb')).not.toMatch(/[\u200b-\u200f\u202a-\u202e]/);
    expect(describeAssertionMember(['x\u200by'])).not.toContain('\u200b');
    expect(describeAssertionMember(undefined)).toBe('absent');
  });

  it('a payload that is not an object is malformed', () => {
    expect(checkAssertionClaims('x', ASSERTION_CONTEXT)?.code).toBe('client_auth.malformed');
    expect(checkAssertionClaims([GOOD_CLAIMS], ASSERTION_CONTEXT)?.code).toBe('client_auth.malformed');
  });
});

describe('authMethodsFor: how a client authenticates at one tenant (SPEC-NOTES 26)', () => {
  const policy = (input: unknown): TenantPolicy => {
    const p = parseTenantPolicy(input);
    if (!p.ok) throw new Error(p.errors.join('; '));
    return p.policy;
  };
  const doc = (change: Record<string, unknown>) => {
    const d = validateMetadataDocument(variant(change), { clientId: CLIENT_ID }).document;
    if (!d) throw new Error('invalid test document');
    return d;
  };
  const AS = { issuer: 'https://as.example', token_endpoint: 'https://as.example/token' };
  const PKJWT = { token_endpoint_auth_method: 'private_key_jwt', jwks_uri: 'https://app.example.com/jwks.json' };
  const BOTH = { ...PKJWT, token_endpoint_auth_methods_supported: ['none', 'private_key_jwt'] };

  it.each([
    ['a public client anywhere', {}, {}, ['none'], undefined],
    ['a private_key_jwt client at a configured tenant', PKJWT, AS, ['private_key_jwt'], undefined],
    ['a private_key_jwt client at a tenant without issuer', PKJWT, {}, [], 'client_auth.tenant_not_configured'],
    [
      'private_key_jwt only, tenant accepts only none',
      PKJWT,
      { ...AS, token_endpoint_auth_methods_supported: ['none'] },
      [],
      'client_auth.method_not_supported',
    ],
    ['none and private_key_jwt at a configured tenant: either', BOTH, AS, ['none', 'private_key_jwt'], undefined],
    ['none and private_key_jwt at a tenant without issuer: public', BOTH, {}, ['none'], undefined],
    [
      'a public client at a tenant that accepts only private_key_jwt',
      {},
      { ...AS, token_endpoint_auth_methods_supported: ['private_key_jwt'] },
      [],
      'client_auth.method_not_supported',
    ],
    [
      'tls_client_auth only',
      { token_endpoint_auth_method: 'tls_client_auth' },
      AS,
      [],
      'client_auth.method_not_supported',
    ],
  ])('%s', (_name, document, tenant, accepted, reason) => {
    const verdict = authMethodsFor(doc(document), policy(tenant));
    expect(verdict.accepted).toEqual(accepted);
    expect(verdict.refusal?.reason).toBe(reason);
  });

  it('the base document is public', () => {
    expect(BASE_DOCUMENT.token_endpoint_auth_method).toBe('none');
  });
});
