import { TenantEventSchema } from '@cimd/contracts';
import { z } from 'zod';
import { describing } from '../common/openapi';
import type { DeliveryRow } from './webhook-deliveries.repository';

export const EventsPage = z.object({
  events: z.array(TenantEventSchema),
  next_after: z.string().meta({ description: 'The id to pass as `after` for the next page' }),
});
export type EventsPage = z.output<typeof EventsPage>;

export const DeliverySchema = describing<DeliveryRow>()(
  z.object({
    id: z.uuid().meta({ description: 'The delivery id: the webhook-id header of every attempt' }),
    tenant_event_id: z.string(),
    url: z.string(),
    status: z.enum(['pending', 'delivered', 'dead']),
    attempts: z.number().int(),
    last_status: z.number().int().nullable().meta({ description: "The receiver's last HTTP status" }),
    last_error: z.string().nullable(),
    created_at: z.iso.datetime(),
    delivered_at: z.iso.datetime().nullable(),
  }),
);

export const DeliveriesPage = z.object({ deliveries: z.array(DeliverySchema) });
export type DeliveriesPage = z.output<typeof DeliveriesPage>;

const CLIENT_ID = 'https://app.example/oauth/client.json';

/** The example event of the API documentation (the events page, a client's events): sessions revoked because their client disappeared. */
export const SESSION_REVOKED_EXAMPLE: EventsPage['events'][number] = {
  id: '42',
  tenant: 'acme',
  type: 'session.revoked',
  time: '2026-11-03T08:30:00.000Z',
  client_id: CLIENT_ID,
  data: { sessions: 2, reason: 'client.gone', cause_event_id: '7c9e6679-7425-40de-944b-e07fc1f90ae7' },
};

export const EVENTS_PAGE_EXAMPLES: Record<string, EventsPage> = {
  'sessions revoked because the client disappeared': { events: [SESSION_REVOKED_EXAMPLE], next_after: '42' },
};

export const DELIVERIES_EXAMPLES: Record<string, DeliveriesPage> = {
  'one delivered webhook': {
    deliveries: [
      {
        id: '0f8fad5b-d9cb-469f-a165-70867728950e',
        tenant_event_id: '42',
        url: 'https://as.example/hooks/cimd',
        status: 'delivered',
        attempts: 1,
        last_status: 204,
        last_error: null,
        created_at: '2026-11-03T08:30:00.000Z',
        delivered_at: '2026-11-03T08:30:00.412Z',
      },
    ],
  },
};
