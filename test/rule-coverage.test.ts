import { renderRulesMarkdown, RULES, RuleCode } from '@cimd/core';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DECISION_CASES } from '../libs/core/src/authorize/authorize-decision.cases';
import { ASSERTION_CASES, KEY_SET_CASES } from '../libs/core/src/client-auth/client-auth.cases';
import { CLIENT_ID_URL_CASES } from '../libs/core/src/client-id/client-id-url.cases';
import { DOCUMENT_CASES } from '../libs/core/src/document/validate-document.cases';
import { WEBHOOK_URL_CASES } from '../libs/core/src/policy/webhook-url.cases';
import { REGISTERED_REDIRECT_CASES } from '../libs/core/src/redirect-uri/redirect-uri.cases';
import { FETCH_BEHAVIOUR_CASES } from './fetch/fetch-behaviour.cases';

/**
 * Every rule in the catalogue has at least one row in a rule table, so a rule cannot be
 * added without a test that exercises it. The few exercised outside a table say where.
 */
const TESTED_ELSEWHERE: Partial<Record<RuleCode, string>> = {
  'document.exceeds_fetch_limit':
    'validate-document.spec.ts "warns when a document is larger than the fetcher accepts"',
  // Need timing, another certificate or no server at all: tests beside the fetch table.
  'fetch.dns_failed': 'test/fetch/fetch-behaviour.test.ts "a name that does not resolve"',
  'fetch.tls_failed': 'test/fetch/fetch-behaviour.test.ts "TLS: …"',
  'fetch.port_not_allowed': 'test/fetch/ssrf.test.ts',
  'fetch.blocked_address': 'test/fetch/ssrf.test.ts',
  // Reported by the fetcher worker when a logo_uri cannot be prefetched (SPEC-NOTES 21).
  'logo.unavailable': 'test/fetcher-worker.test.ts logo cases',
  // Decided by the gateway from the cache and the fetch wait, not by the pure engine.
  'client.pending': 'test/gateway/authorize.test.ts "pending" cases',
  'client.stale': 'test/gateway/authorize.test.ts "serves the last good copy as stale"',
  // Decided by the gateway with keys, signatures and Redis, not by the pure rules.
  'client_auth.assertion_required': 'test/gateway/client-auth.test.ts "requires an assertion"',
  'client_auth.assertion_not_allowed': 'test/gateway/client-auth.test.ts "public clients"',
  'client_auth.assertion_type_unsupported': 'test/gateway/client-auth.test.ts "a wrong client_assertion_type"',
  'client_auth.keys_unavailable': 'test/gateway/client-auth.test.ts "keys at jwks_uri"',
  'client_auth.unknown_key': 'test/gateway/client-auth.test.ts "an unknown kid fetches the keys once"',
  'client_auth.bad_signature': 'test/gateway/client-auth.test.ts "another key under the same kid"',
  'client_auth.replayed': 'test/gateway/client-auth.test.ts "a replayed jti"',
  // Unreachable with a validated document (the grant/response mismatch is a document error first).
  'grant_type.not_registered': 'authorize-decision.spec.ts "a document whose only redirect grant is implicit"',
};

describe('rule coverage', () => {
  it('every catalogued rule code has a test row', () => {
    const covered = new Set<string>([
      ...CLIENT_ID_URL_CASES.flatMap((c) => [...c.errors, ...(c.warnings ?? [])]),
      ...REGISTERED_REDIRECT_CASES.flatMap((c) => [...c.errors, ...(c.warnings ?? [])]),
      ...DOCUMENT_CASES.flatMap((c) => [...c.errors, ...(c.warnings ?? [])]),
      ...DECISION_CASES.flatMap((c) => [...(c.reason ? [c.reason] : []), ...(c.warnings ?? [])]),
      ...FETCH_BEHAVIOUR_CASES.flatMap((c) => [...c.errors, ...(c.warnings ?? [])]),
      ...KEY_SET_CASES.flatMap((c) => [...c.errors, ...(c.warnings ?? [])]),
      ...ASSERTION_CASES.flatMap((c) => (c.refusal ? [c.refusal] : [])),
      ...WEBHOOK_URL_CASES.flatMap((c) => c.errors),
      ...Object.keys(TESTED_ELSEWHERE),
    ]);
    const untested = Object.keys(RULES).filter((code) => !covered.has(code));
    expect(untested).toEqual([]);
  });

  it('docs/RULES.md is the rendered catalogue (regenerate with npm run docs)', () => {
    expect(readFileSync(join(__dirname, '..', 'docs', 'RULES.md'), 'utf8')).toBe(renderRulesMarkdown());
  });

  it('every row names a SPEC-NOTES rule or an RFC section', () => {
    for (const c of [
      ...CLIENT_ID_URL_CASES,
      ...REGISTERED_REDIRECT_CASES,
      ...DOCUMENT_CASES,
      ...DECISION_CASES,
      ...KEY_SET_CASES,
      ...ASSERTION_CASES,
      ...WEBHOOK_URL_CASES,
    ]) {
      expect(c.rule).toMatch(/^(\d+(-\d+)?|RFC \d+.*|draft §.*)$/);
    }
  });
});
