import { TenantEventSchema } from '@cimd/contracts';
import type { SessionStatus } from '@cimd/core';
import { z } from 'zod';
import { GatewayError } from './errors';
import type {
  AuthorizationServerMetadataMembers,
  AuthorizeCheck,
  ClientAuthentication,
  ClientRecord,
  TenantEvent,
} from './types';

/*
 * The gateway's answers as this client reads them: the fields it acts on checked, anything else
 * kept as sent (a newer gateway may add fields), so that an answer that is not the API's is a
 * clear `bad_response` rather than an undefined deep inside the caller.
 */

const decision = z.looseObject({
  decision: z.enum(['allow', 'deny', 'pending']),
  error: z.string().optional(),
  error_description: z.string().optional(),
  reason: z.string().optional(),
  redirect: z.boolean().optional(),
  client: z.looseObject({ client_id: z.string(), host: z.string() }).optional(),
  trust: z.looseObject({ level: z.string(), warnings: z.array(z.string()) }).optional(),
});

const authentication = z.looseObject({
  authenticated: z.boolean(),
  method: z.string().optional(),
  error: z.string().optional(),
  error_description: z.string().optional(),
  reason: z.string().optional(),
});

const clientRecord = z.looseObject({
  client_id: z.string(),
  status: z.enum(['valid', 'invalid', 'gone']),
  document: z.looseObject({ client_id: z.string(), redirect_uris: z.array(z.string()) }).optional(),
  warnings: z.array(z.string()).default([]),
  errors: z.array(z.looseObject({ code: z.string(), message: z.string() })).default([]),
});

const sessionStatus = z.looseObject({ active: z.boolean(), client_id: z.string(), created_at: z.string() });

/** A newer gateway may send event types this version does not know: passed on, not refused. */
const tenantEvent = TenantEventSchema.extend({ type: z.string().min(1) });

const eventsPage = z.object({ events: z.array(z.unknown()), next_after: z.string().optional() }).loose();

const metadata = z.looseObject({ client_id_metadata_document_supported: z.boolean() });

/** An answer as the gateway sent it, before this client counted its attempts. */
export type Decision = Omit<AuthorizeCheck, 'attempts'>;
export type Authentication = Omit<ClientAuthentication, 'attempts'>;

function read<S extends z.ZodType>(schema: S, answer: unknown, what: string): z.output<S> {
  const parsed = schema.safeParse(answer);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new GatewayError(
    'bad_response',
    `the gateway's answer is not ${what} (${issue ? `${issue.path.join('.') || 'body'}: ${issue.message}` : 'unreadable'})`,
  );
}

export function readDecision(answer: unknown): Decision {
  return read(decision, answer, 'an authorize decision') as Decision;
}

export function readAuthentication(answer: unknown): Authentication {
  return read(authentication, answer, 'a client authentication') as Authentication;
}

export function readClientRecord(answer: unknown): ClientRecord {
  return read(clientRecord, answer, 'a client record') as unknown as ClientRecord;
}

export function readSessionStatus(answer: unknown): SessionStatus {
  return read(sessionStatus, answer, 'a session status');
}

export function readTenantEvent(answer: unknown): TenantEvent {
  return read(tenantEvent, answer, 'a tenant event');
}

export function readEventsPage(answer: unknown): TenantEvent[] {
  return read(eventsPage, answer, 'a page of events').events.map(readTenantEvent);
}

export function readMetadata(answer: unknown): AuthorizationServerMetadataMembers {
  return read(metadata, answer, 'authorization server metadata');
}
