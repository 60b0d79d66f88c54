import { clientKey } from '@cimd/contracts';
import {
  AssertionContext,
  AuthorizeDecision,
  authMethodsFor,
  CacheEntry,
  checkClientIdUrl,
  checkJwkSet,
  ClientAuthMethod,
  evaluateClientIdPolicy,
  Finding,
  JWT_BEARER_ASSERTION_TYPE,
  PublicJwk,
  quote,
  RuleCode,
} from '@cimd/core';
import { ClientCacheRepository } from '@cimd/store';
import { Injectable } from '@nestjs/common';
import { z } from 'zod';
import { ClientResolver, newerKeys } from '../clients/client-resolver';
import { FetchRequests } from '../clients/fetch-requests';
import { invalidRequest } from '../common/domain-error';
import { refuseNonUrl } from '../common/parse-body';
import { GatewayConfig, InjectConfig } from '../gateway-config';
import { GatewayMetrics } from '../observability/gateway-metrics';
import { TenantPoliciesService } from '../tenants/tenant-policies.service';
import { AssertionVerifier, Verification } from './assertion-verifier';
import { ClientAuthRepository } from './client-auth.repository';

/** A token endpoint's client authentication as either transport receives it. */
export const AuthenticateClientBody = z
  .object({
    client_id: z.string().max(8192),
    client_assertion_type: z.string().max(256).optional(),
    client_assertion: z.string().max(16_384).optional(),
  })
  .strict();
export type AuthenticateClientRequest = z.output<typeof AuthenticateClientBody>;

/** The answer: who the client is, or why it is not (an OAuth `invalid_client` with a rule code). */
export interface ClientAuthentication {
  authenticated: boolean;
  /** How it authenticated, or would have had to. */
  method?: ClientAuthMethod;
  error?: 'invalid_client' | 'temporarily_unavailable';
  error_description?: string;
  reason?: RuleCode;
  /** On `temporarily_unavailable`: why the client's last fetch failed, and when to try again. */
  fetch_error?: AuthorizeDecision['fetch_error'];
  retry_after_seconds?: number;
  client?: { client_id: string; host: string; name?: string };
}

/** At most one fetch of a client's keys for an unknown kid a minute, fleet-wide. */
const KEYS_REFRESH_WINDOW_MS = 60_000;

/**
 * Client authentication at a tenant's token endpoint (SPEC-NOTES 26): a public client without
 * an assertion, or a `private_key_jwt` client with an RFC 7523 assertion signed by a key from
 * its document (`jwks`) or its `jwks_uri`, checked against the tenant's issuer and token
 * endpoint, used once. An assertion naming a key the held set lacks makes the keys be fetched
 * again (once a minute per client, fleet-wide), then it is tried once more: a client rotates
 * its keys without anyone touching the gateway.
 */
@Injectable()
export class ClientAuthService {
  /** Key fetches for an unknown kid under way in this process, per client: concurrent checks share one. */
  private readonly keyRefreshes = new Map<string, Promise<CacheEntry | undefined>>();

  constructor(
    private readonly clients: ClientResolver,
    private readonly cache: ClientCacheRepository,
    private readonly fetches: FetchRequests,
    private readonly policies: TenantPoliciesService,
    private readonly verifier: AssertionVerifier,
    private readonly state: ClientAuthRepository,
    private readonly metrics: GatewayMetrics,
    @InjectConfig() private readonly config: GatewayConfig,
  ) {}

  async authenticate(tenantId: string, request: AuthenticateClientRequest): Promise<ClientAuthentication> {
    const result = await this.decide(tenantId, request);
    this.metrics.authenticated(
      result.authenticated ? 'authenticated' : result.error === 'temporarily_unavailable' ? 'pending' : 'refused',
      result.reason ?? '',
    );
    return result;
  }

  private async decide(tenantId: string, request: AuthenticateClientRequest): Promise<ClientAuthentication> {
    if (request.client_assertion_type !== undefined && request.client_assertion === undefined)
      throw invalidRequest('client_assertion_type was sent without client_assertion');
    const key = clientKey(request.client_id);
    const copy = this.clients.copy(key);
    const url = copy?.url ?? checkClientIdUrl(request.client_id);
    refuseNonUrl(url);
    const first = url.errors[0];
    const { policy } = this.policies.cached(tenantId) ?? (await this.policies.require(tenantId));
    if (!url.url)
      return refuse(
        first?.code ?? 'client_id.not_string',
        first?.message ?? 'client_id is not a valid client identifier URL.',
      );
    const base = { client_id: url.url.value, host: url.url.host };
    const denial = evaluateClientIdPolicy(url.url, policy);
    if (denial) return refuse(denial.reason, denial.description, base);

    const resolved = await this.clients.resolve(request.client_id, key, url, policy, copy, { keys: true });
    if (resolved.kind === 'pending') {
      const pending = await this.clients.pending(request.client_id, resolved.situation);
      return {
        authenticated: false,
        error: 'temporarily_unavailable',
        error_description: pending.error_description ?? 'The client could not be had in time; try again shortly.',
        reason: 'client.pending',
        ...(pending.fetch_error ? { fetch_error: pending.fetch_error } : {}),
        ...(pending.retry_after_seconds !== undefined ? { retry_after_seconds: pending.retry_after_seconds } : {}),
        client: base,
      };
    }
    let entry = resolved.entry;
    const document = entry.status === 'valid' ? entry.document : undefined;
    if (!document) {
      const gone = entry.status === 'gone';
      return refuse(
        gone ? 'document.gone' : 'document.invalid',
        gone
          ? "The client's metadata document has disappeared: the client no longer exists."
          : `The client's metadata document is invalid: ${entry.errors?.[0]?.message ?? 'it could not be validated.'}`,
        base,
      );
    }
    // Built whole rather than spread: a spread object is slower to make and to serialize, on every authentication.
    const client: ClientAuthentication['client'] =
      document.client_name === undefined
        ? base
        : { client_id: base.client_id, host: base.host, name: document.client_name };
    const methods = authMethodsFor(document, policy);
    if (methods.refusal) return refuse(methods.refusal.reason, methods.refusal.description, client);

    if (request.client_assertion === undefined) {
      if (methods.accepted.includes('none')) return { authenticated: true, method: 'none', client };
      return refuse(
        'client_auth.assertion_required',
        'This client authenticates with private_key_jwt: send client_assertion_type and a client_assertion signed with a key from its metadata document.',
        client,
        'private_key_jwt',
      );
    }
    if (!methods.accepted.includes('private_key_jwt'))
      return refuse(
        'client_auth.assertion_not_allowed',
        'This client is public here (token_endpoint_auth_method "none"): it has no keys to sign a client assertion with, and one is refused.',
        client,
        'none',
      );
    if (request.client_assertion_type !== JWT_BEARER_ASSERTION_TYPE)
      return refuse(
        'client_auth.assertion_type_unsupported',
        `client_assertion_type is ${request.client_assertion_type === undefined ? 'absent' : quote(request.client_assertion_type)}; it must be ${quote(JWT_BEARER_ASSERTION_TYPE)}.`,
        client,
        'private_key_jwt',
      );

    const ctx: AssertionContext = {
      clientId: request.client_id,
      audiences: [policy.issuer, policy.token_endpoint].filter((a): a is string => a !== undefined),
      now: Date.now(),
      maxLifetimeSeconds: policy.max_assertion_lifetime_seconds,
      requireTyp: policy.require_assertion_typ,
      documentAlg: document.token_endpoint_auth_signing_alg || undefined,
    };
    let verification = await this.verifyWith(entry, request.client_assertion, ctx);
    // A key the held set lacks: the client may have rotated its keys. Fetch them again and try once more.
    if (!verification.ok && verification.unknownKey && document.jwks_uri !== undefined) {
      const refreshed = await this.refreshKeys(request.client_id, entry);
      if (refreshed?.status === 'valid' && refreshed.document) {
        entry = refreshed;
        verification = await this.verifyWith(entry, request.client_assertion, { ...ctx, now: Date.now() });
      }
    }
    if (!verification.ok)
      return refuse(verification.refusal.code, verification.refusal.message, client, 'private_key_jwt');
    const { jti, exp } = verification.claims as { jti: string; exp: number };
    if (!(await this.state.claim(tenantId, key, jti, exp, Date.now())))
      return refuse(
        'client_auth.replayed',
        'This client assertion was used before (its jti is spent until it expires); sign a new one for each request.',
        client,
        'private_key_jwt',
      );
    return { authenticated: true, method: 'private_key_jwt', client };
  }

  /** Verify against the client's usable keys: its document's `jwks`, or what its `jwks_uri` served. */
  private async verifyWith(entry: CacheEntry, assertion: string, ctx: AssertionContext): Promise<Verification> {
    const keys = usableKeys(entry);
    if ('refusal' in keys)
      return { ok: false, refusal: keys.refusal, unknownKey: keys.refusal.code === 'client_auth.keys_unavailable' };
    return this.verifier.verify(assertion, keys, ctx);
  }

  /**
   * Fetch the client (document and keys) again for an unknown kid, waiting at most
   * CIMD_AUTHORIZE_WAIT_MS: concurrent checks in this process share one fetch, and the whole
   * fleet makes at most one a minute per client (those that find it taken wait for its end).
   */
  private refreshKeys(clientId: string, entry: CacheEntry): Promise<CacheEntry | undefined> {
    const key = clientKey(clientId);
    let shared = this.keyRefreshes.get(key);
    if (!shared) {
      shared = (async () => {
        const now = Date.now();
        const gate = await this.state.gateKeysRefresh(clientId, KEYS_REFRESH_WINDOW_MS, now);
        if (gate.acquired) return this.clients.fetchNow(clientId, 'keys', newerKeys(entry));
        // Another gateway is fetching them now: wait for its fetch to end. Done earlier: read what it wrote.
        const remaining = gate.since + this.config.authorizeWaitMs - now;
        if (remaining > 0) await this.fetches.waitFor(clientId, remaining, undefined, true);
        return this.cache.get(clientId);
      })().finally(() => this.keyRefreshes.delete(key));
      this.keyRefreshes.set(key, shared);
    }
    return shared;
  }
}

/** The keys a client's assertions are verified with, identified by their content. */
function usableKeys(entry: CacheEntry): { id: string; keys: PublicJwk[] } | { refusal: Finding } {
  const document = entry.document;
  if (document?.jwks) {
    const check = checkJwkSet(document.jwks, 'jwks');
    if (!check.valid)
      return { refusal: keysUnavailable(`its jwks cannot be used (${check.errors[0]?.message ?? 'invalid'})`) };
    return { id: `inline:${entry.raw_hash ?? entry.client_id}`, keys: check.keys };
  }
  const held = entry.keys;
  if (held?.status === 'valid' && held.jwks)
    return { id: `uri:${held.raw_hash ?? held.fetched_at}`, keys: held.jwks.keys };
  const why = held?.errors?.[0]?.message;
  return {
    refusal: keysUnavailable(
      held?.status === 'invalid'
        ? `what its jwks_uri serves cannot be used${why ? ` (${why})` : ''}`
        : `its jwks_uri could not be fetched yet${why ? ` (${why})` : ''}`,
    ),
  };
}

function keysUnavailable(why: string): Finding {
  return { code: 'client_auth.keys_unavailable', message: `The client's keys are unavailable: ${why}.` };
}

function refuse(
  reason: RuleCode,
  description: string,
  client?: ClientAuthentication['client'],
  method?: ClientAuthMethod,
): ClientAuthentication {
  return {
    authenticated: false,
    ...(method ? { method } : {}),
    error: 'invalid_client',
    error_description: description,
    reason,
    ...(client ? { client } : {}),
  };
}
