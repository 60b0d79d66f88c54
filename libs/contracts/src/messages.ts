import { z } from 'zod';
import type { RedisKeys } from './redis-keys';

/** Published after every fetch attempt, so gateways waiting on that client stop waiting and drop their copy. */
export const FetchDoneMessageSchema = z.object({
  client_key: z.string(),
  outcome: z.string(),
  /** True when the outcome changed the cache entry (anything but transient or cooldown). */
  written: z.boolean(),
  /** The document is written and its jwks_uri is being fetched: another notice follows once the keys are. */
  keys_pending: z.boolean().optional(),
});
export type FetchDoneMessage = z.output<typeof FetchDoneMessageSchema>;

/** A tenant's policy or one of its API keys changed: every gateway drops its in-process copy. */
export const InvalidationMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('policy'), tenant: z.string() }),
  z.object({ type: z.literal('key'), key_id: z.string() }),
]);
export type InvalidationMessage = z.output<typeof InvalidationMessageSchema>;

/**
 * An event of one tenant, as the API, the live channel and webhooks carry it: `session.revoked`
 * (one per tenant and cause, with the count of sessions ended), `client.changed` (a change the
 * tenant only wants to hear about) and `client.restored`. `id` increases; resume after it.
 */
export const TenantEventSchema = z
  .object({
    id: z
      .string()
      .regex(/^\d{1,18}$/)
      .meta({ description: 'Increasing; resume a read after it (events?after=<id>)' }),
    tenant: z.string(),
    type: z.enum(['session.revoked', 'client.changed', 'client.restored']),
    time: z.string().meta({ description: 'When it happened (ISO 8601)' }),
    client_id: z.string().nullable(),
    data: z.record(z.string(), z.unknown()).meta({
      description:
        'session.revoked: sessions (how many), reason (client.gone, client.invalid, client.changed:<kinds>), cause_event_id; client.changed: changes',
    }),
  })
  .meta({ description: "One of a tenant's events, as listed, streamed (gRPC WatchEvents) and sent to its webhook" });
export type TenantEvent = z.output<typeof TenantEventSchema>;
export type TenantEventType = TenantEvent['type'];

/** A pub/sub channel: its name in a deployment and the schema its messages are parsed with. */
export interface Channel<T> {
  name(keys: RedisKeys): string;
  schema: z.ZodType<T>;
}

export const CHANNELS = {
  fetchDone: { name: (keys) => keys.fetchDone, schema: FetchDoneMessageSchema } as Channel<FetchDoneMessage>,
  invalidations: {
    name: (keys) => keys.invalidations,
    schema: InvalidationMessageSchema,
  } as Channel<InvalidationMessage>,
  tenantEvents: { name: (keys) => keys.tenantEvents, schema: TenantEventSchema } as Channel<TenantEvent>,
};
