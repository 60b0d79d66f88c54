import type { AuthorizeDecision, AuthorizeRequest, TrustLevel } from '../authorize/authorize-decision';
import { decideFromCache } from '../authorize/cached-decision';
import type { CacheEntry } from '../cache/cache-entry';
import type { FetchAttempt } from '../fetch/fetch-attempt';
import type { RuleCode } from '../findings';
import type { TenantPolicy } from './tenant-policy';

/** One client a tenant has seen, with the request to judge it by. */
export interface DryRunClient {
  client_id: string;
  /** The tenant's last authorize check of the client, when one was recorded. */
  lastRequest?: AuthorizeRequest;
  entry: CacheEntry | undefined;
  attempts: readonly FetchAttempt[];
  logoUrl?: string;
}

export interface DecisionSummary {
  decision: AuthorizeDecision['decision'];
  reason?: RuleCode;
  error_description?: string;
  trust_level?: TrustLevel;
  warnings?: RuleCode[];
}

/**
 * What changes for one client: `denied` (allowed or pending now, refused with the new policy),
 * `allowed` (the reverse), `reason` (refused either way, for another rule), `trust` (allowed
 * either way, shown differently: trust level or consent warnings), `none`.
 */
export type DryRunChange = 'denied' | 'allowed' | 'reason' | 'trust' | 'none';

export interface DryRunRow {
  client_id: string;
  redirect_uri: string;
  /** Where the request came from: the tenant's last check, or the document's first redirect URI. */
  request_from: 'last_check' | 'document';
  current: DecisionSummary;
  proposed: DecisionSummary;
  change: DryRunChange;
}

export interface DryRunResult {
  rows: DryRunRow[];
  counts: Record<DryRunChange, number> & { evaluated: number; denied_after: number };
}

function summary(d: AuthorizeDecision): DecisionSummary {
  const s: DecisionSummary = { decision: d.decision };
  if (d.reason !== undefined) s.reason = d.reason;
  if (d.error_description !== undefined) s.error_description = d.error_description;
  if (d.trust) {
    s.trust_level = d.trust.level;
    s.warnings = [...d.trust.warnings].sort();
  }
  return s;
}

function changeOf(current: DecisionSummary, proposed: DecisionSummary): DryRunChange {
  const deniedNow = current.decision === 'deny';
  const deniedAfter = proposed.decision === 'deny';
  if (!deniedNow && deniedAfter) return 'denied';
  if (deniedNow && !deniedAfter) return 'allowed';
  if (deniedNow && current.reason !== proposed.reason) return 'reason';
  if (
    current.decision === 'allow' &&
    (current.trust_level !== proposed.trust_level ||
      JSON.stringify(current.warnings) !== JSON.stringify(proposed.warnings))
  )
    return 'trust';
  return 'none';
}

/** The request a client is judged by: the tenant's last one, or a well-formed one to its first redirect URI. */
function requestFor(client: DryRunClient): { request: AuthorizeRequest; from: DryRunRow['request_from'] } {
  if (client.lastRequest) return { request: client.lastRequest, from: 'last_check' };
  return {
    request: {
      client_id: client.client_id,
      redirect_uri: client.entry?.document?.redirect_uris[0] ?? '',
      code_challenge_method: 'S256',
    },
    from: 'document',
  };
}

/**
 * "With this policy, which of the clients this tenant has seen would now be refused, and why":
 * each client decided from the cache (no fetch) under the policy in force and the proposed one.
 * Rows that change come first, newly denied before the rest.
 */
export function dryRunPolicy(
  clients: readonly DryRunClient[],
  current: TenantPolicy,
  proposed: TenantPolicy,
  now: number,
): DryRunResult {
  const order: Record<DryRunChange, number> = { denied: 0, allowed: 1, reason: 2, trust: 3, none: 4 };
  const counts = { denied: 0, allowed: 0, reason: 0, trust: 0, none: 0, evaluated: 0, denied_after: 0 };
  const rows = clients.map((client): DryRunRow => {
    const { request, from } = requestFor(client);
    const judge = (policy: TenantPolicy) =>
      summary(
        decideFromCache({
          request,
          entry: client.entry,
          attempts: client.attempts,
          policy,
          now,
          ...(client.logoUrl !== undefined ? { logoUrl: client.logoUrl } : {}),
        }).decision,
      );
    const before = judge(current);
    const after = judge(proposed);
    const change = changeOf(before, after);
    counts[change] += 1;
    counts.evaluated += 1;
    if (after.decision === 'deny') counts.denied_after += 1;
    return {
      client_id: client.client_id,
      redirect_uri: request.redirect_uri,
      request_from: from,
      current: before,
      proposed: after,
      change,
    };
  });
  rows.sort((a, b) => order[a.change] - order[b.change] || a.client_id.localeCompare(b.client_id));
  return { rows, counts };
}
