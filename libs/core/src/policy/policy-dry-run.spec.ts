import type { CacheEntry } from '../cache/cache-entry';
import { dryRunPolicy } from './policy-dry-run';
import { DEFAULT_TENANT_POLICY, TenantPolicySchema } from './tenant-policy';

const T = 1_800_000_000_000;
function entry(clientId: string, redirectUris: string[]): CacheEntry {
  return {
    v: 1,
    client_id: clientId,
    status: 'valid',
    document: {
      client_id: clientId,
      redirect_uris: redirectUris,
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code'],
      response_types: ['code'],
      application_type: 'web',
    },
    fetched_at: T - 1000,
    first_seen_at: T - 30 * 86_400_000,
    refresh_at: T + 60_000,
    expires_at: T + 120_000,
  };
}

const web = 'https://web.example/c.json';
const cli = 'https://cli.example/c.json';
const partner = 'https://partner.example/c.json';
const clients = [
  { client_id: web, entry: entry(web, ['https://web.example/cb']), attempts: [] },
  {
    client_id: cli,
    entry: entry(cli, ['http://127.0.0.1/cb']),
    attempts: [],
    lastRequest: { client_id: cli, redirect_uri: 'http://127.0.0.1:5555/cb', code_challenge_method: 'S256' },
  },
  { client_id: partner, entry: entry(partner, ['https://partner.example/cb']), attempts: [] },
];

describe('dryRunPolicy: which clients a proposed policy would refuse, and why', () => {
  it('the same policy changes nothing', () => {
    const result = dryRunPolicy(clients, DEFAULT_TENANT_POLICY, DEFAULT_TENANT_POLICY, T);
    expect(result.counts).toMatchObject({ evaluated: 3, none: 3, denied: 0, denied_after: 0 });
  });

  it('denying a host and loopback redirects: those clients newly refused, first, each with its rule', () => {
    const proposed = TenantPolicySchema.parse({ deny_hosts: ['partner.example'], allow_loopback_redirects: false });
    const result = dryRunPolicy(clients, DEFAULT_TENANT_POLICY, proposed, T);
    expect(result.counts).toMatchObject({ denied: 2, none: 1, denied_after: 2 });
    expect(result.rows.map((r) => [r.client_id, r.change, r.proposed.reason])).toEqual([
      [cli, 'denied', 'redirect_uri.loopback_not_allowed'],
      [partner, 'denied', 'policy.host_denied'],
      [web, 'none', undefined],
    ]);
    // The tenant's own last request is the one judged; otherwise the document's first redirect URI.
    expect(result.rows.find((r) => r.client_id === cli)).toMatchObject({
      redirect_uri: 'http://127.0.0.1:5555/cb',
      request_from: 'last_check',
    });
    expect(result.rows.find((r) => r.client_id === web)?.request_from).toBe('document');
  });

  it('lifting a denial: newly allowed; trusting a client: shown differently', () => {
    const current = TenantPolicySchema.parse({ deny_hosts: ['partner.example'] });
    const proposed = TenantPolicySchema.parse({ trusted_client_ids: [web] });
    const result = dryRunPolicy(clients, current, proposed, T);
    const change = Object.fromEntries(result.rows.map((r) => [r.client_id, r.change]));
    expect(change).toEqual({ [partner]: 'allowed', [web]: 'trust', [cli]: 'none' });
  });
});
