import type { TenantEvent as ContractTenantEvent, TenantEventType } from '@cimd/contracts';
import type {
  AuthorizeDecision,
  AuthorizeRequest,
  ClientDisplay,
  ClientStatus,
  Finding,
  MetadataDocument,
  RuleCode,
  SessionStatus,
} from '@cimd/core';

export type { AuthorizeRequest, ClientDisplay, MetadataDocument, SessionStatus };

/**
 * An event of the tenant (@cimd/contracts' TenantEvent). A type this version does not know yet
 * is passed on verbatim rather than refused, as the gRPC API's string vocabularies intend.
 */
export type TenantEvent = Omit<ContractTenantEvent, 'type'> & { type: TenantEventType | (string & {}) };

/** How the gateway answered from its cache (present when the decision was made on a valid document). */
export interface CacheState {
  status: 'hit' | 'refreshing' | 'fetched' | 'stale';
  fetched_at: string;
  expires_at: string;
}

/**
 * The gateway's decision on one authorization request. `pending` comes back only when the
 * client's document could not be had within the retries: tell the user to try again, and never
 * redirect (the redirect_uri is not verified).
 */
export interface AuthorizeCheck extends AuthorizeDecision {
  /**
   * On `deny`: whether the AS may send the error to the redirect_uri (RFC 6749 §4.1.2.1). Absent
   * or false: show an error page and never redirect. Use {@link mayRedirectError}.
   */
  redirect?: boolean;
  cache?: CacheState;
  /** How many times the gateway was asked: more than one after `pending` answers. */
  attempts: number;
}

/** A client's authentication at the AS's token endpoint (RFC 7523 client assertion or none). */
export interface ClientAuthenticationRequest {
  client_id: string;
  client_assertion_type?: string;
  client_assertion?: string;
}

export interface ClientAuthentication {
  authenticated: boolean;
  /** How the client authenticated, or would have had to (absent when the gateway could not tell). */
  method?: 'none' | 'private_key_jwt';
  /** `temporarily_unavailable`: the document could not be had in time, even after the retries. */
  error?: 'invalid_client' | 'temporarily_unavailable';
  error_description?: string;
  /** The rule that refused the client (docs/RULES.md). */
  reason?: RuleCode;
  /** On `temporarily_unavailable`: why the client's last fetch failed, and when the next is due. */
  fetch_error?: AuthorizeDecision['fetch_error'];
  retry_after_seconds?: number;
  client?: ClientDisplay;
  attempts: number;
}

/** A client as the gateway's shared cache holds it (GET /v1/clients). */
export interface ClientRecord {
  client_id: string;
  status: ClientStatus;
  freshness: 'fresh' | 'refresh_due' | 'expired';
  /** The validated, normalized document; only when `status` is `valid`. */
  document?: MetadataDocument;
  warnings: RuleCode[];
  /** Why the client is invalid or gone. */
  errors: Finding[];
  raw_hash?: string;
  fetched_at: string;
  refresh_at: string;
  expires_at: string;
  first_seen_at?: string;
  etag?: string;
  last_modified?: string;
  /** The gateway's own copy of the logo (never the client's host). */
  logo_url?: string;
  last_error?: { at: string; code: string; message: string };
}

/** A grant the AS gave a client, registered so that it ends when the client's document vanishes. */
export interface SessionRegistration {
  /** The AS's own id for the grant: 1-256 printable ASCII characters without spaces. */
  session_id: string;
  client_id: string;
  /** The user, for the AS's records (1-256 characters). */
  subject?: string;
  /** When the grant ends by itself. */
  expires_at?: Date | string;
}

/** RFC 8414 members the tenant's AS publishes for what the gateway does for it. */
export interface AuthorizationServerMetadataMembers {
  client_id_metadata_document_supported: boolean;
  token_endpoint_auth_methods_supported?: string[];
  token_endpoint_auth_signing_alg_values_supported?: string[];
  code_challenge_methods_supported?: string[];
  [member: string]: unknown;
}

export interface CallOptions {
  /** Give up on the call (and its retries) when this aborts. */
  signal?: AbortSignal;
}

export interface WatchOptions extends CallOptions {
  /** The id of the last event already handled: the stream starts after it (default "0": every stored event). */
  after?: string;
}

/**
 * What an authorization server (or any internal service) asks cimd-gateway, over HTTP
 * ({@link HttpGatewayClient}) or gRPC ({@link GrpcGatewayClient}), with the same types and
 * errors either way. Calls for the tenant go to the tenant the client was made for.
 */
export interface CimdGateway {
  readonly tenant: string;
  /** The decision for one authorization request; `pending` answers are retried within the retry policy. */
  checkAuthorization(request: AuthorizeRequest, options?: CallOptions): Promise<AuthorizeCheck>;
  /** Is this really that client? For the token endpoint; `pending` answers are retried as above. */
  authenticateClient(request: ClientAuthenticationRequest, options?: CallOptions): Promise<ClientAuthentication>;
  /** The cached record of a client_id; undefined when the gateway has not fetched it yet. */
  getClient(clientId: string, options?: CallOptions): Promise<ClientRecord | undefined>;
  /** Idempotent on session_id. A gone or invalid client is a `conflict` GatewayError. */
  registerSession(session: SessionRegistration, options?: CallOptions): Promise<SessionStatus>;
  checkSession(sessionId: string, options?: CallOptions): Promise<SessionStatus>;
  revokeSession(sessionId: string, options?: CallOptions): Promise<void>;
  /**
   * The tenant's events after `options.after`, then the new ones as they come, for as long as
   * the caller iterates: a broken connection is resumed after the last event delivered, so none
   * is lost or repeated. Ends when `options.signal` aborts; throws on errors a retry cannot fix
   * (a bad token, an unknown tenant).
   */
  events(options?: WatchOptions): AsyncIterable<TenantEvent>;
  close(): void;
}

/** Whether a denial may be sent back to the redirect_uri; otherwise the AS shows an error page. */
export function mayRedirectError(decision: Pick<AuthorizeCheck, 'decision' | 'redirect'>): boolean {
  return decision.decision === 'deny' && decision.redirect === true;
}
