import type { grpc, TenantEvent } from '@cimd/contracts';
import type { AuthorizeRequest } from '@cimd/core';
import { AuthorizeCheckBody } from '../authorize/authorize-request';
import type { AuthorizeResponse } from '../authorize/authorize.service';
import {
  AuthenticateClientBody,
  AuthenticateClientRequest,
  ClientAuthentication,
} from '../client-auth/client-auth.service';
import type { ClientView } from '../clients/clients.service';
import { invalidRequest } from '../common/domain-error';
import { parseBody, tenantId } from '../common/parse-body';
import { RegisterSession, RegisterSessionBody } from '../sessions/sessions.service';
import { MALFORMED_REQUEST } from './grpc-server';
import { z } from 'zod';

/*
 * The gRPC transport's side of cimd.v1.Gateway: each request message parsed into the typed
 * request the services take (with the same schemas, so the same problems get the same words as
 * over HTTP), and each result written as its response message.
 */

/**
 * A request whose bytes were not its protobuf message arrives as `{ [MALFORMED_REQUEST]:
 * reason }` (see tolerateMalformedRequests): refused as a bad request, not a server fault.
 */
export function wellFormed(request: unknown): void {
  const reason = (request as Record<string, unknown> | null)?.[MALFORMED_REQUEST];
  if (typeof reason === 'string') {
    throw invalidRequest(
      `the request is not a well-formed protobuf message of this method (${reason.replace(/[^\x20-\x7e]/g, '?').slice(0, 200)})`,
    );
  }
}

/** A proto3 field without presence: the empty string is the unset value. */
function present(value: string | undefined): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** The fields the message set, without those it left unset (`""`); `optional` fields keep an explicit "". */
function fieldsOf<K extends string>(
  message: Partial<Record<K, string>>,
  required: readonly K[],
  optional: readonly K[],
): Partial<Record<K, string>> {
  const body: Partial<Record<K, string>> = {};
  for (const field of required) {
    const value = present(message[field]);
    if (value !== undefined) body[field] = value;
  }
  for (const field of optional) {
    const value = message[field];
    if (typeof value === 'string') body[field] = value;
  }
  return body;
}

/** The tenant of a request: a 400 when unset or not a tenant id, as on the HTTP path. */
export function tenantOf(request: { tenant?: string }): string {
  const tenant = present(request.tenant);
  if (tenant === undefined) throw invalidRequest('tenant is required');
  return tenantId(tenant);
}

export function authorizeRequestOf(request: grpc.CheckAuthorizationRequest__Output): AuthorizeRequest {
  return parseBody(
    AuthorizeCheckBody,
    fieldsOf(request, ['client_id', 'redirect_uri'], ['response_type', 'scope', 'code_challenge_method']),
  );
}

/** The bounds of AuthorizeCheckBody's fields, read from the schema so that the two cannot drift; undefined if one is not a plain string. */
const CHECK_FIELDS = (() => {
  const fields = [];
  for (const [name, schema] of Object.entries(AuthorizeCheckBody.shape)) {
    const optional = schema instanceof z.ZodOptional;
    const string: unknown = schema instanceof z.ZodOptional ? schema.unwrap() : schema;
    if (!(string instanceof z.ZodString)) return undefined;
    fields.push({ name, optional, min: string.minLength ?? 0, max: string.maxLength ?? Infinity });
  }
  return fields;
})();

/**
 * authorizeRequestOf for the hot path: a request whose every field is a string within the
 * schema's bounds (as every request of a working caller is) is taken as it is, without the
 * schema library's per-call cost; any other goes through authorizeRequestOf, so its problems
 * get the same words.
 */
export function checkRequestOf(request: grpc.CheckAuthorizationRequest__Output): AuthorizeRequest {
  if (!CHECK_FIELDS) return authorizeRequestOf(request);
  const message = request as Record<string, unknown>;
  const body: Record<string, string> = {};
  for (const { name, optional, min, max } of CHECK_FIELDS) {
    const value = message[name];
    if (value === undefined && optional) continue;
    // A required field left unset ("") is refused by the schema, with its words.
    if (typeof value !== 'string' || (value === '' && !optional) || value.length < min || value.length > max)
      return authorizeRequestOf(request);
    body[name] = value;
  }
  return body as unknown as AuthorizeRequest;
}

export function authenticateClientOf(request: grpc.AuthenticateClientRequest__Output): AuthenticateClientRequest {
  return parseBody(
    AuthenticateClientBody,
    fieldsOf(request, ['client_id'], ['client_assertion_type', 'client_assertion']),
  );
}

/** The authentication as an AuthenticateClientResponse: the HTTP body, field for field. */
export function authenticateClientResponse(result: ClientAuthentication): grpc.AuthenticateClientResponse {
  return {
    authenticated: result.authenticated,
    method: result.method,
    error: result.error,
    error_description: result.error_description,
    reason: result.reason,
    client: result.client && { client_id: result.client.client_id, host: result.client.host, name: result.client.name },
    fetch_error: result.fetch_error && { ...result.fetch_error },
    retry_after_seconds: result.retry_after_seconds,
  };
}

export function registerSessionOf(request: grpc.RegisterSessionRequest__Output): RegisterSession {
  return parseBody(RegisterSessionBody, fieldsOf(request, ['session_id', 'client_id'], ['subject', 'expires_at']));
}

/** The session_id of CheckSession and RevokeSession, held to the rule RegisterSession applies. */
export function sessionIdOf(request: { session_id?: string }): string {
  const sessionId = present(request.session_id);
  if (sessionId === undefined) throw invalidRequest('session_id is required');
  return parseBody(RegisterSessionBody.pick({ session_id: true }), { session_id: sessionId }).session_id;
}

export function clientIdOf(request: grpc.GetClientRequest__Output): string {
  const clientId = present(request.client_id);
  if (clientId === undefined) throw invalidRequest('client_id is required');
  return clientId;
}

/** The id to resume after: absent means from the start ("0"), as `after` of GET …/events. */
export function afterIdOf(request: grpc.WatchEventsRequest__Output): string {
  const after = request.after_id;
  if (after === undefined) return '0';
  if (!/^\d{1,18}$/.test(after)) throw invalidRequest('after_id must be an event id (a whole number)');
  return BigInt(after).toString();
}

/** The decision as a CheckAuthorizationResponse: the HTTP body, field for field. */
export function checkAuthorizationResponse(result: AuthorizeResponse): grpc.CheckAuthorizationResponse {
  const { client, trust, cache } = result;
  return {
    decision: result.decision,
    error: result.error,
    error_description: result.error_description,
    reason: result.reason,
    redirect: result.redirect,
    client: client && {
      client_id: client.client_id,
      host: client.host,
      name: client.name,
      client_uri: client.client_uri,
      logo_url: client.logo_url,
      tos_uri: client.tos_uri,
      policy_uri: client.policy_uri,
      redirect_host: client.redirect_host,
      host_unicode: client.host_unicode,
      host_punycode: client.host_punycode,
    },
    trust: trust && { level: trust.level, warnings: [...trust.warnings] },
    cache: cache && { status: cache.status, fetched_at: cache.fetched_at, expires_at: cache.expires_at },
    fetch_error: result.fetch_error && { ...result.fetch_error },
    retry_after_seconds: result.retry_after_seconds,
  };
}

/** GET /v1/clients's view as a ClientRecord, with the document as JSON text. */
export function clientRecord(view: ClientView): grpc.ClientRecord {
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
    keys: view.keys && {
      ...view.keys,
      errors: view.keys.errors.map((f) => ({ code: f.code, message: f.message, field: f.field })),
    },
  };
}

/**
 * A stored or live tenant event as a TenantEvent message: its data as JSON text with the keys
 * sorted, so that one event reads the same whether it was sent live (keys as the consumer wrote
 * them) or from the log (keys in PostgreSQL's jsonb order).
 */
export function tenantEventMessage(event: TenantEvent): grpc.TenantEvent {
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
