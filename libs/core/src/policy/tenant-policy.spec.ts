import { checkClientIdUrl } from '../client-id/client-id-url';
import {
  DEFAULT_TENANT_POLICY,
  evaluateClientIdPolicy,
  hostMatches,
  parseTenantPolicy,
  TenantPolicy,
} from './tenant-policy';
import { webhookSigningKey } from './webhook-secret';

function policy(input: unknown): TenantPolicy {
  const r = parseTenantPolicy(input);
  if (!r.ok) throw new Error(r.errors.join('; '));
  return r.policy;
}

describe('tenant policy', () => {
  it('defaults every field, so {} and undefined are complete policies', () => {
    expect(policy({})).toEqual(DEFAULT_TENANT_POLICY);
    expect(policy(undefined)).toEqual(DEFAULT_TENANT_POLICY);
    expect(DEFAULT_TENANT_POLICY).toMatchObject({
      allowlist_only: false,
      deny_idn_hosts: false,
      allow_loopback_redirects: true,
      require_pkce_s256_for_public_clients: true,
      require_client_name: false,
      stale_if_error_seconds: 3600,
    });
  });

  it.each([
    [{ allow_hosts: 'example.com' }, 'allow_hosts: Invalid input: expected array, received string'],
    [{ deny_hosts: ['ok.example', 'http://bad.example'] }, 'deny_hosts[1]: must be a host name'],
    [{ deny_hosts: ['*'] }, 'deny_hosts[0]: must be a host name'],
    [{ allowlist_only: 'yes' }, 'allowlist_only: Invalid input: expected boolean'],
    [{ deny_idn_hosts: 1 }, 'deny_idn_hosts: Invalid input: expected boolean'],
    [{ stale_if_error_seconds: -1 }, 'stale_if_error_seconds: Too small'],
    [{ stale_if_error_seconds: 1.5 }, 'stale_if_error_seconds: Invalid input: expected int'],
    [{ alow_hosts: [] }, 'policy: unknown field(s) alow_hosts'],
    [[], 'policy: Invalid input: expected object, received array'],
  ])('refuses %j with a message naming the field', (input, message) => {
    const r = parseTenantPolicy(input);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors.join('\n')).toContain(message);
  });

  it('lower-cases host patterns', () => {
    expect(policy({ deny_hosts: ['*.Example.COM'] }).deny_hosts).toEqual(['*.example.com']);
  });

  it.each([
    ['example.com', 'example.com', true],
    ['www.example.com', 'example.com', false],
    ['www.example.com', '*.example.com', true],
    ['a.b.example.com', '*.example.com', true],
    ['example.com', '*.example.com', false],
    ['badexample.com', '*.example.com', false],
    ['example.com.evil.net', 'example.com', false],
  ])('host %s against pattern %s: %s', (host, pattern, expected) => {
    expect(hostMatches(host, pattern)).toBe(expected);
  });

  describe('evaluateClientIdPolicy (before any fetch)', () => {
    const url = (s: string) => {
      const u = checkClientIdUrl(s).url;
      if (!u) throw new Error(`bad url ${s}`);
      return u;
    };
    it('lets everything through under the default policy', () => {
      expect(evaluateClientIdPolicy(url('https://x.example/c'), DEFAULT_TENANT_POLICY)).toBeUndefined();
    });
    it('deny wins over allow', () => {
      const p = policy({ allow_hosts: ['*.example.com'], deny_hosts: ['bad.example.com'] });
      expect(evaluateClientIdPolicy(url('https://bad.example.com/c'), p)?.reason).toBe('policy.host_denied');
      expect(evaluateClientIdPolicy(url('https://good.example.com/c'), p)).toBeUndefined();
    });
    it('matches hosts case-insensitively, because the host policy is about the host', () => {
      const p = policy({ deny_hosts: ['evil.example'] });
      expect(evaluateClientIdPolicy(url('https://EVIL.example/c'), p)?.reason).toBe('policy.host_denied');
    });
    it('refuses punycode hosts, in any label and any case, only when the tenant says so', () => {
      const p = policy({ deny_idn_hosts: true });
      for (const id of ['https://xn--pple-43d.test/c', 'https://login.XN--80ak6aa92e.com/c', 'https://shop.xn--p1ai/c'])
        expect(evaluateClientIdPolicy(url(id), p)?.reason).toBe('policy.idn_host_denied');
      expect(evaluateClientIdPolicy(url('https://apple.test/c'), p)).toBeUndefined();
      expect(evaluateClientIdPolicy(url('https://xn--pple-43d.test/c'), DEFAULT_TENANT_POLICY)).toBeUndefined();
    });
    it('compares allowlisted client_ids exactly', () => {
      const p = policy({ allowlist_only: true, allowed_client_ids: ['https://a.example/c'] });
      expect(evaluateClientIdPolicy(url('https://a.example/c'), p)).toBeUndefined();
      expect(evaluateClientIdPolicy(url('https://A.example/c'), p)?.reason).toBe('policy.not_allowlisted');
      expect(evaluateClientIdPolicy(url('https://a.example/c?x'), p)?.reason).toBe('policy.not_allowlisted');
    });
  });
});

describe('what a tenant does when a client document changes (SPEC-NOTES 23)', () => {
  it('revokes on removed redirect URIs and changed keys or auth method by default, notifies otherwise', () => {
    expect(DEFAULT_TENANT_POLICY.on_change).toEqual({
      redirect_uris_removed: 'revoke',
      redirect_uris_added: 'notify',
      keys: 'revoke',
      token_endpoint_auth_method: 'revoke',
      grant_types: 'notify',
      scope: 'notify',
      client_name: 'notify',
      logo_uri: 'notify',
    });
  });

  it('lets a tenant override one kind and keeps the defaults for the rest', () => {
    const p = policy({ on_change: { redirect_uris_removed: 'notify', scope: 'revoke' } });
    expect(p.on_change).toMatchObject({ redirect_uris_removed: 'notify', scope: 'revoke', keys: 'revoke' });
  });

  it.each([
    [{ on_change: { redirect_uris_removed: 'delete' } }, 'on_change.redirect_uris_removed'],
    [{ on_change: { colour: 'revoke' } }, 'unknown field(s) colour'],
    [{ webhook: { url: 'http://hooks.example/x', secret: 'x'.repeat(32) } }, 'webhook.url: must be an https URL'],
    [
      { webhook: { url: 'https://hooks.example/x', secret: 'short' } },
      'webhook.secret: must be at least 16 characters',
    ],
    [{ webhook: { url: 'https://hooks.example/x' } }, 'webhook.secret'],
    [
      { webhook: { url: 'https://hooks.example/x', secret: 'whsec_not base64 at all!' } },
      'webhook.secret: a whsec_ secret must be whsec_ followed by padded standard base64',
    ],
    [
      { webhook: { url: 'https://hooks.example/x', secret: `whsec_${Buffer.alloc(16, 7).toString('base64')}` } },
      'webhook.secret: a whsec_ secret must encode 24-64 random bytes (this one has 16)',
    ],
  ])('refuses %j', (input, message) => {
    const r = parseTenantPolicy(input);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors.join('\n')).toContain(message);
  });

  it('accepts a Standard Webhooks secret (whsec_ and the base64 of 24-64 bytes)', () => {
    for (const bytes of [24, 32, 64]) {
      const secret = `whsec_${Buffer.alloc(bytes, 9).toString('base64')}`;
      expect(policy({ webhook: { url: 'https://hooks.example/cimd', secret } }).webhook?.secret).toBe(secret);
      expect(webhookSigningKey(secret)).toEqual(Buffer.alloc(bytes, 9));
    }
    // Any other string is its own key, as the deprecated X-CIMD-Signature always used it.
    expect(webhookSigningKey('webhook-secret-é-0123456789')).toEqual(
      Buffer.from('webhook-secret-é-0123456789', 'utf8'),
    );
  });

  it('accepts a webhook with an https URL and a secret', () => {
    expect(policy({ webhook: { url: 'https://hooks.example/cimd', secret: 's'.repeat(32) } }).webhook).toEqual({
      url: 'https://hooks.example/cimd',
      secret: 's'.repeat(32),
    });
  });
});
