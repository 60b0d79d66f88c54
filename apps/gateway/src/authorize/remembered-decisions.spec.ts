import { CacheEntry, parseTenantPolicy, TenantPolicy } from '@cimd/core';
import type { ClientCopy } from '../clients/client-resolver';
import type { PolicyVersion } from '../tenants/tenant-policies.service';
import { decisionUntil, RememberedDecision, RememberedDecisions } from './remembered-decisions';

const policy = (input: Record<string, unknown> = {}): TenantPolicy => {
  const parsed = parseTenantPolicy(input);
  if (!parsed.ok) throw new Error(parsed.errors.join('; '));
  return parsed.policy;
};

const entry = (fields: Partial<CacheEntry> = {}): CacheEntry =>
  ({ status: 'valid', fetched_at: 0, refresh_at: 60_000, expires_at: 120_000, ...fields }) as CacheEntry;

const request = { client_id: 'https://app.example/client.json', redirect_uri: 'https://app.example/cb' };

function made(until = 60_000): Omit<RememberedDecision, 'json'> {
  const copy = { entry: entry() } as ClientCopy;
  const version: PolicyVersion = { tenantId: 'acme', version: 1, policy: policy() };
  return { response: { decision: 'allow' }, clientKey: 'k', copy, policy: version, until };
}

describe('RememberedDecisions', () => {
  const always = () => true;

  it('gives the answer again, with its body, while it stands', () => {
    const remembered = new RememberedDecisions();
    remembered.remember('acme', request, made());
    const again = remembered.recall('acme', { ...request }, always, 1_000);
    expect(again?.json).toBe('{"decision":"allow"}');
  });

  it('ends an answer when its time comes or what it was made from is no longer current', () => {
    const remembered = new RememberedDecisions();
    remembered.remember('acme', request, made(5_000));
    expect(remembered.recall('acme', request, always, 5_000)).toBeUndefined();
    expect(remembered.size).toBe(0);
    remembered.remember('acme', request, made(5_000));
    expect(remembered.recall('acme', request, () => false, 1_000)).toBeUndefined();
    expect(remembered.recall('acme', request, always, 1_000)).toBeDefined();
  });

  it('keeps the answer it holds when the same copies make it again, and replaces it when they changed', () => {
    const remembered = new RememberedDecisions();
    const first = made(5_000);
    remembered.remember('acme', request, first);
    const held = remembered.recall('acme', request, always, 0);
    remembered.remember('acme', request, { ...first, response: { decision: 'allow' }, until: 9_000 });
    const again = remembered.recall('acme', request, always, 6_000);
    expect(again).toBe(held);
    remembered.remember('acme', request, { ...made(9_000), response: { decision: 'deny' } });
    expect(remembered.recall('acme', request, always, 6_000)?.json).toBe('{"decision":"deny"}');
  });

  it('keeps apart requests that differ in any field, tenant included, however the fields are cut', () => {
    const remembered = new RememberedDecisions();
    remembered.remember('acme', { ...request, redirect_uri: 'x\ny', response_type: 'code' }, made());
    const others = [
      { ...request, redirect_uri: 'x', response_type: 'y\ncode' },
      { ...request, redirect_uri: 'x\ny', response_type: 'code', scope: '' },
      { ...request, redirect_uri: 'x\ny' },
      { ...request, redirect_uri: 'x|1:y', response_type: 'code' },
    ];
    for (const other of others) expect(remembered.recall('acme', other, always, 0)).toBeUndefined();
    expect(remembered.recall('other', { ...request, redirect_uri: 'x\ny', response_type: 'code' }, always, 0)).toBe(
      undefined,
    );
    expect(
      remembered.recall('acme', { ...request, redirect_uri: 'x\ny', response_type: 'code' }, always, 0),
    ).toBeDefined();
  });
});

describe('decisionUntil', () => {
  it("is the entry's refresh time", () => {
    expect(decisionUntil(entry({ refresh_at: 9_000 }), policy(), 1_000)).toBe(9_000);
  });

  it("is the end of the new-client warning when that comes first (the answer's warnings change then)", () => {
    const p = policy({ new_client_warning_seconds: 2 });
    expect(decisionUntil(entry({ first_seen_at: 500, refresh_at: 9_000 }), p, 1_000)).toBe(2_500);
    // Long past: the refresh time again.
    expect(decisionUntil(entry({ first_seen_at: 500, refresh_at: 9_000 }), p, 5_000)).toBe(9_000);
  });
});
