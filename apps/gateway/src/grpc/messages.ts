import type { ClientDisplay } from '@cimd/core';
import type { CacheEntry } from '@cimd/contracts';
import { badRequest } from '../common/api-error';
import { MALFORMED_REQUEST } from './grpc-server';
import { parseBody } from '../common/parse-body';
import type { AuthorizeResponse } from '../authorize/authorize.service';
import { clientView } from '../clients/client-records';
import type { TenantEvent as StoredTenantEvent } from '../events/tenant-events';
import type { SessionStatus } from '../sessions/session-state';
import { RegisterSessionBody } from '../sessions/sessions.service';

/*
 * The messages of proto/cimd/v1/gateway.proto as the gateway sees them: loaded with
 * PROTO_LOADER_OPTIONS (field names as in the file, unset fields absent, repeated fields always
 * arrays). Every request field is optional here because a caller may leave any of them unset.
 */

export interface CheckAuthorizationRequest {
  tenant?: string;
  client_id?: string;
  redirect_uri?: string;
  response_type?: string;
  scope?: string;
  code_challenge_method?: string;
}

export interface CheckAuthorizationResponse {
  decision: string;
  error?: string;
  error_description?: string;
  reason?: string;
  client?: ClientDisplay;
  trust?: { level: string; warnings: string[] };
  cache?: { status: string; fetched_at: string; expires_at: string };
}

export interface GetClientRequest {
  client_id?: string;
}

export interface ClientRecord {
  client_id: string;
  status: string;
  freshness: string;
  document_json?: string;
  warnings: string[];
  errors: { code: string; message: string; field?: string }[];
  raw_hash?: string;
  fetched_at: string;
  refresh_at: string;
  expires_at: string;
  first_seen_at?: string;
  etag?: string;
  last_modified?: string;
  logo_url?: string;
  last_error?: { at: string; code: string; message: string };
}

export interface GetClientResponse {
  client: ClientRecord;
}

export interface RegisterSessionRequest {
  tenant?: string;
  session_id?: string;
  client_id?: string;
  subject?: string;
  expires_at?: string;
}

/** CheckSessionRequest and RevokeSessionRequest. */
export interface SessionRequest {
  tenant?: string;
  session_id?: string;
}

/** The SessionStatus message is the HTTP body field for field. */
export type { SessionStatus };

export type RevokeSessionResponse = Record<string, never>;

export interface WatchEventsRequest {
  tenant?: string;
  after_id?: string;
}

export interface TenantEventMessage {
  id: string;
  tenant: string;
  type: string;
  time: string;
  client_id?: string;
  data_json: string;
}

/**
 * A request whose bytes were not its protobuf message arrives as `{ [MALFORMED_REQUEST]:
 * reason }` (see tolerateMalformedRequests): refused as a bad request, not a server fault.
 */
export function wellFormed(request: unknown): void {
  const reason = (request as Record<string, unknown> | null)?.[MALFORMED_REQUEST];
  if (typeof reason === 'string') {
    throw badRequest(
      `the request is not a well-formed protobuf message of this method (${reason.replace(/[^\x20-\x7e]/g, '?').slice(0, 200)})`,
    );
  }
}

/** A proto3 field without presence: the empty string is the unset value. */
function presentOrUndefined(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** The tenant of a request, or a 400 when it is unset. Its syntax is checked as on the HTTP path. */
export function requiredTenant(request: { tenant?: string }): string {
  const tenant = presentOrUndefined(request.tenant);
  if (tenant === undefined) throw badRequest('tenant is required');
  return tenant;
}

/**
 * The body POST /v1/tenants/{tenant}/authorize/check would receive: unset fields left out, so
 * AuthorizeService validates it and names what is missing exactly as for HTTP. The `optional`
 * fields keep an explicit "" (for code_challenge_method it means "none was sent").
 */
export function authorizeCheckBody(request: CheckAuthorizationRequest): Record<string, string> {
  const body: Record<string, string> = {};
  const clientId = presentOrUndefined(request.client_id);
  const redirectUri = presentOrUndefined(request.redirect_uri);
  if (clientId !== undefined) body.client_id = clientId;
  if (redirectUri !== undefined) body.redirect_uri = redirectUri;
  for (const field of ['response_type', 'scope', 'code_challenge_method'] as const) {
    const value = request[field];
    if (typeof value === 'string') body[field] = value;
  }
  return body;
}

/**
 * The body POST /v1/tenants/{tenant}/sessions would receive: unset fields left out, so
 * SessionsService validates it and names what is missing exactly as for HTTP. The `optional`
 * fields keep an explicit "" (refused, as an empty string in the HTTP body is).
 */
export function registerSessionBody(request: RegisterSessionRequest): Record<string, string> {
  const body: Record<string, string> = {};
  const sessionId = presentOrUndefined(request.session_id);
  const clientId = presentOrUndefined(request.client_id);
  if (sessionId !== undefined) body.session_id = sessionId;
  if (clientId !== undefined) body.client_id = clientId;
  for (const field of ['subject', 'expires_at'] as const) {
    const value = request[field];
    if (typeof value === 'string') body[field] = value;
  }
  return body;
}

/** The session_id of CheckSession and RevokeSession, held to the rule RegisterSession applies. */
export function requiredSessionId(request: SessionRequest): string {
  const sessionId = presentOrUndefined(request.session_id);
  if (sessionId === undefined) throw badRequest('session_id is required');
  return parseBody(RegisterSessionBody.pick({ session_id: true }), { session_id: sessionId }).session_id;
}

/** The id to resume after: absent means from the start ("0"), as `after` of GET …/events. */
export function watchAfterId(request: WatchEventsRequest): string {
  const after = request.after_id;
  if (after === undefined) return '0';
  if (!/^\d{1,18}$/.test(after)) throw badRequest('after_id must be an event id (a whole number)');
  return BigInt(after).toString();
}

/**
 * A stored or live tenant event as a TenantEvent message: its data as JSON text with the keys
 * sorted, so that one event reads the same whether it was sent live (keys as the consumer wrote
 * them) or from the log (keys in PostgreSQL's jsonb order).
 */
export function tenantEventMessage(event: StoredTenantEvent): TenantEventMessage {
  return {
    id: event.id,
    tenant: event.tenant,
    type: event.type,
    time: event.time,
    client_id: event.client_id ?? undefined,
    data_json: JSON.stringify(event.data ?? {}, sortedKeys),
  };
}

function sortedKeys(_key: string, value: unknown): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return Object.fromEntries(entries);
}

export function requiredClientId(request: GetClientRequest): string {
  const clientId = presentOrUndefined(request.client_id);
  if (clientId === undefined) throw badRequest('client_id is required');
  return clientId;
}

/** The decision as a CheckAuthorizationResponse: the HTTP body, field for field. */
export function checkAuthorizationResponse(result: AuthorizeResponse): CheckAuthorizationResponse {
  const { client, trust, cache } = result;
  return {
    decision: result.decision,
    error: result.error,
    error_description: result.error_description,
    reason: result.reason,
    client: client && {
      client_id: client.client_id,
      host: client.host,
      name: client.name,
      client_uri: client.client_uri,
      logo_url: client.logo_url,
      tos_uri: client.tos_uri,
      policy_uri: client.policy_uri,
      redirect_host: client.redirect_host,
    },
    trust: trust && { level: trust.level, warnings: [...trust.warnings] },
    cache: cache && { status: cache.status, fetched_at: cache.fetched_at, expires_at: cache.expires_at },
  };
}

/** A cache entry as a ClientRecord: GET /v1/clients's view, with the document as JSON text. */
export function clientRecord(entry: CacheEntry, publicUrl: string, now = Date.now()): ClientRecord {
  const view = clientView(entry, publicUrl, now);
  return {
    client_id: view.client_id,
    status: view.status,
    freshness: view.freshness,
    document_json: view.document === undefined ? undefined : JSON.stringify(view.document),
    warnings: [...(view.warnings ?? [])],
    errors: (view.errors ?? []).map((f) => ({ code: f.code, message: f.message, field: f.field })),
    raw_hash: view.raw_hash,
    fetched_at: view.fetched_at,
    refresh_at: view.refresh_at,
    expires_at: view.expires_at,
    first_seen_at: view.first_seen_at,
    etag: view.etag,
    last_modified: view.last_modified,
    logo_url: view.logo_url,
    last_error: view.last_error && {
      at: view.last_error.at,
      code: view.last_error.code,
      message: view.last_error.message,
    },
  };
}
