import { checkClientIdUrl } from '../client-id/client-id-url';
import { validateMetadataDocument } from '../document/validate-document';
import { BASE_DOCUMENT, CLIENT_ID, variant } from '../document/validate-document.cases';
import { parseTenantPolicy, TenantPolicy } from '../policy/tenant-policy';
import { AuthorizeInput, AuthorizeRequest, decideAuthorization } from './authorize-decision';
import { DECISION_CASES, IDN_CLIENT_ID } from './authorize-decision.cases';

const NOW = Date.UTC(2026, 10, 26);
const REQUEST: AuthorizeRequest = {
  client_id: CLIENT_ID,
  redirect_uri: 'https://app.example.com/callback',
  response_type: 'code',
  code_challenge_method: 'S256',
};

function policyOf(input: unknown): TenantPolicy {
  const parsed = parseTenantPolicy(input);
  if (!parsed.ok) throw new Error(parsed.errors.join('; '));
  return parsed.policy;
}

function input(
  request: Record<string, unknown> = {},
  document: Record<string, unknown> = {},
  policy: unknown = {},
): AuthorizeInput {
  const req = { ...REQUEST, ...request } as AuthorizeRequest & Record<string, unknown>;
  for (const [k, v] of Object.entries(request)) if (v === undefined) delete req[k];
  return {
    request: req,
    document: validateMetadataDocument(variant(document), { clientId: req.client_id }),
    policy: policyOf(policy),
    now: NOW,
    logoUrl: (uri) => `https://gateway.example/v1/logos/${encodeURIComponent(uri)}`,
  };
}

describe('decideAuthorization', () => {
  it.each(DECISION_CASES)('$rule: $name', (c) => {
    const i = input(c.request, c.document, c.policy);
    if (c.firstSeenSecondsAgo !== undefined) i.firstSeenAt = NOW - c.firstSeenSecondsAgo * 1000;
    if (c.gone)
      i.document = {
        valid: false,
        errors: [{ code: 'fetch.gone', message: 'the document URL answered 404' }],
        warnings: [],
      };
    const d = decideAuthorization(i);
    expect(d.decision).toBe(c.decision);
    if (c.decision === 'deny') {
      expect(d).toMatchObject({ error: c.error, reason: c.reason });
      if (c.redirect !== undefined) expect(d.redirect).toBe(c.redirect);
      expect(typeof d.redirect).toBe('boolean');
      expect(d.error_description?.length).toBeGreaterThan(20);
      expect(d.trust).toBeUndefined();
    } else {
      expect(d.error).toBeUndefined();
      expect(d.trust?.level).toBe(c.trust);
      expect(d.trust?.warnings).toEqual(c.warnings);
    }
  });

  it("uses the caller's checkClientIdUrl result instead of checking the URL again", () => {
    const given = input();
    expect(decideAuthorization({ ...given, urlCheck: checkClientIdUrl(CLIENT_ID) }).decision).toBe('allow');
    // The check of another string stands for this one: the decision follows what it was given.
    const other = checkClientIdUrl('https://app.example.com/../client.json');
    expect(decideAuthorization({ ...given, urlCheck: other })).toMatchObject({
      decision: 'deny',
      reason: 'client_id.dot_segment',
    });
  });

  it('carries what a consent screen needs, with the logo from the gateway, never the client host (SPEC-NOTES 19, 21)', () => {
    const d = decideAuthorization(
      input({}, { tos_uri: 'https://app.example.com/tos', policy_uri: 'https://app.example.com/privacy' }),
    );
    expect(d.client).toEqual({
      client_id: CLIENT_ID,
      host: 'app.example.com',
      name: 'Example App',
      client_uri: 'https://app.example.com/',
      logo_url: `https://gateway.example/v1/logos/${encodeURIComponent(BASE_DOCUMENT.logo_uri)}`,
      tos_uri: 'https://app.example.com/tos',
      policy_uri: 'https://app.example.com/privacy',
      redirect_host: 'app.example.com',
    });
  });

  it('shows a punycode host in both forms, so that a consent screen can show the one a look-alike cannot fake (SPEC-NOTES 19)', () => {
    const idn = (policy: unknown = {}) =>
      decideAuthorization(
        input(
          { client_id: IDN_CLIENT_ID, redirect_uri: 'https://xn--pple-43d.test/callback' },
          { client_id: IDN_CLIENT_ID, client_uri: undefined, redirect_uris: ['https://xn--pple-43d.test/callback'] },
          policy,
        ),
      );
    const allowed = idn();
    expect(allowed.client).toMatchObject({
      client_id: IDN_CLIENT_ID,
      host: 'xn--pple-43d.test',
      host_unicode: '\u0430pple.test',
      host_punycode: 'xn--pple-43d.test',
    });
    expect(allowed.trust?.warnings).toContain('client.idn_host');
    // A denial still says who the client is, in both forms, and why.
    const denied = idn({ deny_idn_hosts: true });
    expect(denied.client).toEqual({
      client_id: IDN_CLIENT_ID,
      host: 'xn--pple-43d.test',
      host_unicode: '\u0430pple.test',
      host_punycode: 'xn--pple-43d.test',
    });
    expect(denied.error_description).toBe(
      'Clients hosted on internationalized names are not accepted by this authorization server: "xn--pple-43d.test" reads as "\u0430pple.test".',
    );
    // An ASCII host has neither form.
    expect(Object.keys(decideAuthorization(input()).client ?? {})).not.toContain('host_unicode');
  });

  it('gives no logo when the caller has no copy of it', () => {
    const i = input();
    delete i.logoUrl;
    expect(decideAuthorization(i).client?.logo_url).toBeUndefined();
  });

  it('shows only the host of untrusted clients when the policy says so, and name and logo of trusted ones', () => {
    const hidden = decideAuthorization(input({}, {}, { show_untrusted_name_and_logo: false }));
    expect(hidden.client?.name).toBeUndefined();
    expect(hidden.client?.logo_url).toBeUndefined();
    expect(hidden.client?.host).toBe('app.example.com');
    const trusted = decideAuthorization(
      input({}, {}, { show_untrusted_name_and_logo: false, trusted_client_ids: [CLIENT_ID] }),
    );
    expect(trusted.client?.name).toBe('Example App');
    expect(trusted.client?.logo_url).toBeDefined();
  });

  it('a document whose only redirect grant is implicit is refused the code grant (a table row cannot build one)', () => {
    const i = input();
    const check = validateMetadataDocument(variant({}), { clientId: CLIENT_ID });
    i.document = { ...check, document: { ...check.document!, grant_types: ['implicit'] } };
    expect(decideAuthorization(i)).toMatchObject({
      decision: 'deny',
      error: 'unauthorized_client',
      reason: 'grant_type.not_registered',
      redirect: true,
    });
  });

  it('names the scheme as the redirect host of a private-use redirect (SPEC-NOTES 19)', () => {
    const d = decideAuthorization(
      input({ redirect_uri: 'com.example.app:/cb' }, { redirect_uris: ['com.example.app:/cb'] }),
    );
    expect(d.client?.redirect_host).toBe('com.example.app');
  });

  it('still shows the client_id host on a denial', () => {
    const d = decideAuthorization(input({ redirect_uri: 'https://evil.example/cb' }));
    expect(d.client).toEqual({ client_id: CLIENT_ID, host: 'app.example.com' });
  });

  it('summarizes an invalid document with the first problem and the count of the rest', () => {
    const d = decideAuthorization(input({}, { client_secret: 'x', token_endpoint_auth_method: 'client_secret_post' }));
    expect(d.error_description).toMatch(/client_secret.*\(and 1 more problem\)$/);
  });

  it('uses the default policy when none is given', () => {
    const i = input({ code_challenge_method: undefined });
    delete i.policy;
    expect(decideAuthorization(i).reason).toBe('pkce.required');
  });

  it('denies a document validated for another client_id', () => {
    const i = input();
    i.request = { ...i.request, client_id: 'https://app.example.com/other.json' };
    expect(decideAuthorization(i)).toMatchObject({ decision: 'deny', reason: 'document.client_id_mismatch' });
  });

  it('denies rather than throws on a request of the wrong types', () => {
    const i = input();
    i.request = { client_id: 5, redirect_uri: null } as unknown as AuthorizeRequest;
    expect(decideAuthorization(i)).toMatchObject({ decision: 'deny', error: 'invalid_client' });
    for (const bad of [
      { redirect_uri: null },
      { scope: 3 },
      { response_type: ['code'] },
      { code_challenge_method: {} },
    ]) {
      i.request = { ...REQUEST, ...bad } as unknown as AuthorizeRequest;
      expect(decideAuthorization(i)).toMatchObject({
        decision: 'deny',
        error: 'invalid_request',
        reason: 'request.invalid',
      });
    }
  });
});
