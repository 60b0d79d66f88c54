import type { AuthorizeRequest, CacheEntry, TenantPolicy } from '@cimd/core';
import type { ClientCopy } from '../clients/client-resolver';
import type { PolicyVersion } from '../tenants/tenant-policies.service';
import type { AuthorizeResponse } from './authorize.service';

/** One answer, and what it was made from: it stands while these are what the process holds. */
export interface RememberedDecision {
  response: AuthorizeResponse;
  /** The response as the HTTP body sends it. */
  json: string;
  /** clientKey of the request's client_id: where its copy is found without hashing again. */
  clientKey: string;
  copy: ClientCopy;
  policy: PolicyVersion;
  /** When the answer could change with nothing else changing (the entry's refresh time, a warning's end). */
  until: number;
}

/** Answers kept at most; past that all are dropped at once (cheaper than an LRU on every check). */
const MAX_REMEMBERED = 50_000;

/**
 * The decision is a pure function of the tenant's policy, the client's cache entry, the request's
 * fields and the clock. So an answer made from this process's copy of an entry and of a policy is
 * remembered by the request's fields and given again while the same two copies are current and
 * its time has not come: a new policy, a new entry (a fetch, a revocation: the copy is dropped on
 * the fetcher's notice) or the entry's refresh time each end it at once.
 */
export class RememberedDecisions {
  private readonly answers = new Map<string, RememberedDecision>();

  /** The answer for this request if it still stands, given the copies the process holds now. */
  recall(
    tenantId: string,
    request: AuthorizeRequest,
    current: (remembered: RememberedDecision) => boolean,
    now: number,
  ): RememberedDecision | undefined {
    const key = requestKey(tenantId, request);
    const remembered = this.answers.get(key);
    if (!remembered) return undefined;
    if (now >= remembered.until) {
      this.answers.delete(key);
      return undefined;
    }
    // Not current now (the copy expired and is being read again) need not mean changed: kept
    // for `remember`, which replaces it or, when made from the same copies again, keeps it.
    return current(remembered) ? remembered : undefined;
  }

  /** Remember an answer; one made again from the very copies of an answer already held keeps that one (and its JSON). */
  remember(tenantId: string, request: AuthorizeRequest, decision: Omit<RememberedDecision, 'json'>): void {
    const key = requestKey(tenantId, request);
    const held = this.answers.get(key);
    if (held && held.copy === decision.copy && held.policy === decision.policy) {
      held.until = decision.until;
      return;
    }
    if (this.answers.size >= MAX_REMEMBERED) this.answers.clear();
    this.answers.set(key, { ...decision, json: JSON.stringify(decision.response) });
  }

  clear(): void {
    this.answers.clear();
  }

  get size(): number {
    return this.answers.size;
  }
}

/**
 * Until when a decision on `entry` under `policy` made at `now` stays the same: the entry's
 * refresh time (then a refresh is due, or a refused entry is looked at again) and, for a client
 * first seen recently, the end of the tenant's new-client warning.
 */
export function decisionUntil(entry: CacheEntry, policy: TenantPolicy, now: number): number {
  let until = entry.refresh_at;
  if (entry.first_seen_at !== undefined) {
    const warningEnds = entry.first_seen_at + policy.new_client_warning_seconds * 1000;
    if (warningEnds > now) until = Math.min(until, warningEnds);
  }
  return until;
}

/** Every field the decision reads, each with its length before it: two requests never share a key. */
function requestKey(tenantId: string, r: AuthorizeRequest): string {
  return `${tenantId}${field(r.client_id)}${field(r.redirect_uri)}${field(r.response_type)}${field(r.scope)}${field(r.code_challenge_method)}`;
}

function field(value: string | undefined): string {
  return value === undefined ? '|' : `|${value.length}:${value}`;
}
