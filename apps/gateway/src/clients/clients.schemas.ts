import { CacheEntrySchema, FindingSchema, StoredRuleCodeSchema } from '@cimd/core';
import { z } from 'zod';
import { describing } from '../common/openapi';
import type { ClientView } from './clients.service';

const CLIENT_ID = 'https://app.example/oauth/client.json';

export const RefreshBody = z
  .object({ client_id: z.string().max(8192).meta({ description: 'The client_id to fetch now' }) })
  .strict();

export const RefreshAccepted = z.object({ client_id: z.string(), enqueued: z.literal(true) });
export type RefreshAccepted = z.output<typeof RefreshAccepted>;

/** A cache entry as the API shows it (clientView): times as ISO strings, the logo as the gateway's URL. */
export const ClientViewSchema = describing<ClientView>()(
  CacheEntrySchema.omit({
    v: true,
    ttl_seconds: true,
    keys: true,
    logo: true,
    fetched_at: true,
    refresh_at: true,
    expires_at: true,
    first_seen_at: true,
    last_error: true,
  })
    .extend({
      keys: z
        .object({
          jwks_uri: z.string(),
          status: z.enum(['valid', 'invalid', 'unavailable']),
          fetched_at: z.iso.datetime(),
          key_ids: z.array(z.string()).meta({ description: 'The kid of each key ("" for a key without one)' }),
          errors: z.array(FindingSchema),
        })
        .optional()
        .meta({ description: "The keys at the document's jwks_uri, when it has one" }),
      freshness: z.enum(['fresh', 'refresh_due', 'expired']),
      fetched_at: z.iso.datetime(),
      refresh_at: z.iso.datetime().meta({ description: 'From then on the copy is served and fetched again' }),
      expires_at: z.iso.datetime().meta({ description: 'After this only the stale-if-error window serves it' }),
      first_seen_at: z.iso.datetime().optional(),
      logo_url: z.string().optional().meta({ description: "The gateway's own copy of the client's logo" }),
      last_error: z
        .object({ at: z.iso.datetime(), code: StoredRuleCodeSchema, message: z.string() })
        .optional()
        .meta({ description: 'The latest transient failure (never a reason to stop serving)' }),
    })
    .meta({ description: 'The cached record of one client_id' }),
);

export const CLIENT_VIEW_EXAMPLES: Record<string, z.output<typeof ClientViewSchema>> = {
  'a valid client': {
    client_id: CLIENT_ID,
    status: 'valid',
    document: {
      client_id: CLIENT_ID,
      client_name: 'Example App',
      redirect_uris: ['https://app.example/callback'],
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code'],
      response_types: ['code'],
      application_type: 'web',
    },
    warnings: [],
    raw_hash: 'b5bb9d8014a0f9b1d61e21e796d78dccdf1352f23cd32812f4850b878ae4944c',
    freshness: 'fresh',
    fetched_at: '2026-11-02T10:00:00.000Z',
    refresh_at: '2026-11-02T10:50:00.000Z',
    expires_at: '2026-11-02T11:00:00.000Z',
    first_seen_at: '2026-10-01T08:00:00.000Z',
  },
  'a client whose document disappeared': {
    client_id: CLIENT_ID,
    status: 'gone',
    errors: [{ code: 'fetch.gone', message: 'the document URL answered 404 twice' }],
    freshness: 'fresh',
    fetched_at: '2026-11-02T10:00:00.000Z',
    refresh_at: '2026-11-02T10:05:00.000Z',
    expires_at: '2026-11-02T11:00:00.000Z',
  },
};

export const REFRESH_EXAMPLES: Record<string, z.input<typeof RefreshBody>> = {
  'fetch a client now': { client_id: CLIENT_ID },
};

export const REFRESH_ACCEPTED_EXAMPLES: Record<string, RefreshAccepted> = {
  enqueued: { client_id: CLIENT_ID, enqueued: true },
};
