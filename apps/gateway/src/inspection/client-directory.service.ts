import {
  AuthorizeRequest,
  CacheEntry,
  checkClientIdUrl,
  ClientHealth,
  clientHealth,
  decideFromCache,
  FetchAttempt,
  lastFailure,
} from '@cimd/core';
import { ClientCacheRepository } from '@cimd/store';
import { Injectable } from '@nestjs/common';
import { clientView, logoUrl } from '../clients/clients.service';
import { attemptView, distinctFindings, ExplainedFinding, explain } from '../clients/explained';
import { unavailable } from '../common/domain-error';
import { refuseNonUrl } from '../common/parse-body';
import { GatewayConfig, InjectConfig } from '../gateway-config';
import { TenantPoliciesService } from '../tenants/tenant-policies.service';
import { ClientDirectoryRepository, DirectoryFilter, DirectoryRow } from './client-directory.repository';

export interface DirectoryQuery {
  q?: string;
  status?: ClientHealth;
  limit: number;
  offset: number;
}

const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());
const isoDate = (d: Date | null | undefined) => (d ? new Date(d).toISOString() : undefined);

function hostOf(clientId: string): string | undefined {
  try {
    return new URL(clientId).host;
  } catch {
    return undefined;
  }
}

/**
 * "Which clients, and why was this one refused?": the clients of the fleet or of one tenant,
 * and one client as one tenant's AS sees it, from PostgreSQL (registry, checks, sessions,
 * events) and Redis (cache entries, attempt logs, the failing and suspect indexes). Reads
 * only: nothing is fetched, and nothing waits for the fetcher.
 */
@Injectable()
export class ClientDirectoryService {
  constructor(
    private readonly directory: ClientDirectoryRepository,
    private readonly cache: ClientCacheRepository,
    private readonly policies: TenantPoliciesService,
    @InjectConfig() private readonly config: GatewayConfig,
  ) {}

  /** A page of the fleet's clients (tenant undefined) or of one tenant's. */
  async list(tenant: string | undefined, query: DirectoryQuery) {
    if (tenant !== undefined) await this.policies.require(tenant);
    const filter = await this.redis(() => this.filterFor(query));
    const { rows, total } = await this.directory.list(tenant, filter);
    const ids = rows.map((r) => r.client_id);
    const [entries, latest, standings] = await this.redis(() =>
      Promise.all([this.cache.getMany(ids), this.cache.latestAttempts(ids), this.cache.standings(ids)]),
    );
    return {
      ...(tenant !== undefined ? { tenant } : {}),
      total,
      limit: query.limit,
      offset: query.offset,
      items: rows.map((row, i) => this.listItem(row, entries[i], latest[i], standings[i])),
    };
  }

  private async filterFor(query: DirectoryQuery): Promise<DirectoryFilter> {
    const filter: DirectoryFilter = { limit: query.limit, offset: query.offset };
    if (query.q) filter.q = query.q;
    if (query.status === undefined) return filter;
    const [failing, suspect] = await Promise.all([
      this.cache.indexedClients('failing'),
      this.cache.indexedClients('suspect'),
    ]);
    // The same precedence as clientHealth: suspect, then failing, then the stored status.
    switch (query.status) {
      case 'suspect':
        return { ...filter, only: suspect };
      case 'failing': {
        const suspected = new Set(suspect);
        return { ...filter, only: failing.filter((id) => !suspected.has(id)) };
      }
      default:
        return { ...filter, registryStatus: query.status, exclude: [...failing, ...suspect] };
    }
  }

  private listItem(
    row: DirectoryRow,
    entry: CacheEntry | undefined,
    latest: FetchAttempt | undefined,
    standing: { failing: boolean; suspect: boolean } | undefined,
  ) {
    const health = clientHealth({
      failing: standing?.failing ?? false,
      suspect: standing?.suspect ?? false,
      ...(entry ? { entryStatus: entry.status } : {}),
      registryStatus: row.registry_status,
    });
    const lastFetchAt = Math.max(entry?.fetched_at ?? 0, latest?.at ?? 0);
    return {
      client_id: row.client_id,
      host: hostOf(row.client_id),
      health,
      ...(entry?.document?.client_name !== undefined ? { name: entry.document.client_name } : {}),
      ...(entry ? { status: entry.status } : {}),
      ...(row.registry_status ? { registry_status: row.registry_status } : {}),
      ...(lastFetchAt > 0
        ? {
            last_fetch: {
              at: iso(lastFetchAt),
              outcome: latest && latest.at >= (entry?.fetched_at ?? 0) ? latest.outcome : (entry?.status ?? 'unknown'),
              ...(latest?.code !== undefined && latest.at >= (entry?.fetched_at ?? 0) ? { code: latest.code } : {}),
            },
          }
        : {}),
      ...(nextFetchAt(entry, latest) !== undefined ? { next_fetch_at: iso(nextFetchAt(entry, latest)) } : {}),
      ...(entry ? { expires_at: iso(entry.expires_at) } : {}),
      ...(row.first_seen_at ? { first_seen_at: isoDate(row.first_seen_at) } : {}),
      ...(row.last_checked_at ? { last_checked_at: isoDate(row.last_checked_at) } : {}),
      ...(row.checks !== null ? { checks: row.checks } : {}),
      ...(row.last_decision ? { last_decision: row.last_decision } : {}),
      ...(row.last_reason ? { last_reason: row.last_reason } : {}),
      live_sessions: row.live_sessions,
    };
  }

  /**
   * One client as one tenant's AS sees it now: the decision (made from the cache, fetching
   * nothing) for the given redirect_uri or the tenant's last request, every rule code explained,
   * the attempt log, the document with its problems, the cache timeline, the registry's history,
   * sessions, the tenant's events about it, and the consent card.
   */
  async inspect(tenant: string, clientId: string, redirectUri: string | undefined, allTenants: boolean) {
    const urlCheck = checkClientIdUrl(clientId);
    // A client_id that is not a URL at all is a 400, as on the authorize check.
    refuseNonUrl(urlCheck);
    const { policy, version } = await this.policies.require(tenant);
    const [entry, attempts, refusedBody, [standing]] = await this.redis(() =>
      Promise.all([
        this.cache.get(clientId),
        this.cache.attempts(clientId),
        this.cache.refusedBody(clientId),
        this.cache.standings([clientId]),
      ]),
    );
    const [sighting, registered, sessions, events] = await Promise.all([
      this.directory.sighting(tenant, clientId),
      this.directory.registered(clientId),
      this.directory.sessionsByTenant(clientId, allTenants ? undefined : tenant),
      this.directory.clientEvents(tenant, clientId, 20),
    ]);

    const { request, from } = requestFor(clientId, redirectUri, sighting?.last_request, entry);
    const now = Date.now();
    const logo = entry?.logo ? logoUrl(this.config.publicUrl, entry.logo.sha256) : undefined;
    const { decision, cache } = decideFromCache({
      request,
      entry,
      attempts,
      policy,
      now,
      urlCheck,
      ...(logo !== undefined ? { logoUrl: logo } : {}),
    });

    const findings: ExplainedFinding[] = [
      ...urlCheck.errors.map((f) => explain(f.code, 'client_id', f)),
      ...urlCheck.warnings.map((f) => explain(f.code, 'client_id', f)),
      ...(entry?.errors ?? []).map((f) => explain(f.code, f.code.startsWith('fetch.') ? 'fetch' : 'document', f)),
      ...(entry?.warnings ?? []).map((code) => explain(code, 'document')),
      ...(entry?.suspect?.errors ?? []).map((f) => explain(f.code, 'suspect', f)),
      ...(decision.reason !== undefined
        ? [explain(decision.reason, 'decision', { message: decision.error_description ?? '' })]
        : []),
      ...(decision.trust?.warnings ?? []).map((code) => explain(code, 'trust')),
    ];
    const failure = lastFailure(attempts);
    // The last failure, unless the entry reports that very rule already.
    if (failure && !findings.some((f) => f.code === failure.code))
      findings.push(explain(failure.code, 'fetch', { message: failure.message ?? '' }));

    const stored = entry?.status === 'valid' ? entry.document : undefined;
    return {
      tenant,
      policy_version: version,
      client_id: clientId,
      host: urlCheck.url?.host,
      health: clientHealth({
        failing: standing?.failing ?? false,
        suspect: standing?.suspect ?? false,
        ...(entry ? { entryStatus: entry.status } : {}),
        registryStatus: registered?.registry_status ?? null,
      }),
      request: { ...request, from },
      decision,
      cache,
      findings: distinctFindings(findings),
      attempts: attempts.map(attemptView),
      ...(entry ? { entry: clientView(entry, this.config.publicUrl, now) } : {}),
      document: stored
        ? { kind: 'validated' as const, json: stored }
        : refusedBody !== undefined
          ? { kind: 'refused' as const, text: refusedBody }
          : undefined,
      timeline: timeline(entry, attempts, policy.stale_if_error_seconds, now),
      registry: registered && {
        status: registered.registry_status,
        first_seen_at: isoDate(registered.first_seen_at),
        last_event: registered.last_event,
        last_event_at: isoDate(registered.last_event_at),
        ...(registered.last_changed_at
          ? { last_changed_at: isoDate(registered.last_changed_at), last_changes: registered.last_changes }
          : {}),
      },
      checks: sighting && {
        first_at: isoDate(sighting.first_seen_at),
        last_at: isoDate(sighting.last_seen_at),
        count: sighting.checks,
        last_decision: sighting.last_decision,
        ...(sighting.last_reason ? { last_reason: sighting.last_reason } : {}),
      },
      sessions,
      events,
      consent: {
        shown: decision.decision === 'allow',
        ...(decision.client ?? { client_id: clientId, host: urlCheck.url?.host ?? '' }),
        ...(decision.trust ? { trust_level: decision.trust.level, warnings: decision.trust.warnings } : {}),
      },
    };
  }

  /** The tenant's events about one client, newest first. */
  async events(tenant: string, clientId: string, limit: number, before?: string) {
    await this.policies.require(tenant);
    const events = await this.directory.clientEvents(tenant, clientId, limit, before);
    return { tenant, client_id: clientId, events };
  }

  private async redis<T>(read: () => Promise<T>): Promise<T> {
    try {
      return await read();
    } catch {
      throw unavailable('the client cache is unreachable; try again shortly');
    }
  }
}

/** When the client is fetched next: the attempt log's word when it is the latest news, else the entry's refresh time. */
function nextFetchAt(entry: CacheEntry | undefined, latest: FetchAttempt | undefined): number | undefined {
  if (latest?.next && latest.at >= (entry?.fetched_at ?? 0)) return latest.next.at;
  return entry?.refresh_at;
}

/**
 * The request to decide on: the given redirect_uri (with the rest of the tenant's last check),
 * the tenant's last check, or a well-formed one to the document's first redirect URI.
 */
function requestFor(
  clientId: string,
  redirectUri: string | undefined,
  last: Record<string, string> | undefined,
  entry: CacheEntry | undefined,
): { request: AuthorizeRequest; from: 'given' | 'last_check' | 'document' } {
  const parameters = last ?? { code_challenge_method: 'S256' };
  if (redirectUri !== undefined)
    return { request: { ...parameters, client_id: clientId, redirect_uri: redirectUri }, from: 'given' };
  if (last?.redirect_uri !== undefined)
    return { request: { ...last, client_id: clientId, redirect_uri: last.redirect_uri }, from: 'last_check' };
  return {
    request: {
      client_id: clientId,
      redirect_uri: entry?.document?.redirect_uris[0] ?? '',
      code_challenge_method: 'S256',
    },
    from: 'document',
  };
}

/** The cache's life of the entry and the attempts around it, in time order. */
function timeline(
  entry: CacheEntry | undefined,
  attempts: readonly FetchAttempt[],
  staleIfErrorSeconds: number,
  now: number,
) {
  const points: { at: number; what: string }[] = [{ at: now, what: 'now' }];
  if (entry) {
    if (entry.first_seen_at !== undefined) points.push({ at: entry.first_seen_at, what: 'first_seen' });
    points.push({ at: entry.fetched_at, what: 'fetched' });
    if (entry.status === 'valid') {
      points.push({ at: entry.refresh_at, what: 'refresh_due' });
      points.push({ at: entry.expires_at, what: 'expires' });
      points.push({ at: entry.expires_at + staleIfErrorSeconds * 1000, what: 'stale_window_ends' });
    } else points.push({ at: entry.refresh_at, what: 'refetch_due' });
    if (entry.suspect) points.push({ at: entry.suspect.since, what: 'suspect_since' });
    if (entry.last_error) points.push({ at: entry.last_error.at, what: 'last_error' });
  }
  const latest = attempts[0];
  for (const a of attempts) points.push({ at: a.at, what: `attempt:${a.outcome}` });
  if (latest?.next) points.push({ at: latest.next.at, what: `next:${latest.next.kind}` });
  return points
    .sort((a, b) => a.at - b.at)
    .map((p) => ({ at: new Date(p.at).toISOString(), what: p.what, ...(p.at > now ? { future: true } : {}) }));
}
