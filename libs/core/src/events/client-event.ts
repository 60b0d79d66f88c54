import { z } from 'zod';
import { FindingSchema } from '../cache/cache-entry';
import { DOCUMENT_CHANGES } from '../document/document-changes';

export const CLIENT_EVENT_VERSION = 1;

const base = {
  /** Unique per event; consumers are idempotent on it (the stream delivers at least once). */
  id: z.uuid(),
  time: z.number(),
  client_id: z.string(),
  version: z.number().int(),
};

/**
 * What the fetcher tells the gateways about a client, on the client event stream: fetched
 * (or revalidated), changed (which kinds of fields), invalid, gone, restored.
 */
export const ClientEventSchema = z.discriminatedUnion('type', [
  z.object({
    ...base,
    type: z.literal('client.fetched'),
    data: z.object({ revalidated: z.boolean(), raw_hash: z.string().optional(), expires_at: z.number() }),
  }),
  z.object({
    ...base,
    type: z.literal('client.changed'),
    data: z.object({ changes: z.array(z.enum(DOCUMENT_CHANGES)), raw_hash: z.string() }),
  }),
  z.object({
    ...base,
    type: z.literal('client.invalid'),
    data: z.object({ errors: z.array(FindingSchema), outcome: z.string() }),
  }),
  z.object({ ...base, type: z.literal('client.gone'), data: z.object({ status: z.number().int() }) }),
  z.object({
    ...base,
    type: z.literal('client.restored'),
    data: z.object({ previous_status: z.enum(['invalid', 'gone']) }),
  }),
]);

export type ClientEvent = z.output<typeof ClientEventSchema>;
export type ClientEventType = ClientEvent['type'];
export type ClientEventOf<T extends ClientEventType> = Extract<ClientEvent, { type: T }>;
export type ClientEventData<T extends ClientEventType> = ClientEventOf<T>['data'];

export function clientEvent<T extends ClientEventType>(
  type: T,
  clientId: string,
  data: ClientEventData<T>,
  at: { id: string; now: number },
): ClientEventOf<T> {
  return {
    id: at.id,
    type,
    time: at.now,
    client_id: clientId,
    version: CLIENT_EVENT_VERSION,
    data,
  } as ClientEventOf<T>;
}
