import type { SessionStatus } from '@cimd/core';
import { z } from 'zod';
import { describing } from '../common/openapi';
import type { RegisterSessionBody } from './sessions.service';

export const SessionStatusSchema = describing<SessionStatus>()(
  z
    .object({
      active: z.boolean(),
      client_id: z.string(),
      created_at: z.iso.datetime(),
      expires_at: z.iso.datetime().optional(),
      revoked_at: z.iso.datetime().optional(),
      reason: z.string().optional().meta({
        description:
          'Why the session is over: api, expired, client.gone, client.invalid or client.changed:<kinds of change>',
      }),
    })
    .meta({ description: 'Whether a session is still active, and if not since when and why' }),
);

const CLIENT_ID = 'https://app.example/oauth/client.json';

export const REGISTER_SESSION_EXAMPLES: Record<string, z.input<typeof RegisterSessionBody>> = {
  'a session until the refresh token expires': {
    session_id: 'grant-8f14e45f',
    client_id: CLIENT_ID,
    subject: 'alice',
    expires_at: '2026-12-01T00:00:00Z',
  },
};

export const SESSION_STATUS_EXAMPLES: Record<string, SessionStatus> = {
  active: {
    active: true,
    client_id: CLIENT_ID,
    created_at: '2026-11-02T10:00:00.000Z',
    expires_at: '2026-12-01T00:00:00.000Z',
  },
  'revoked: the document disappeared': {
    active: false,
    client_id: CLIENT_ID,
    created_at: '2026-11-02T10:00:00.000Z',
    revoked_at: '2026-11-03T08:30:00.000Z',
    reason: 'client.gone',
  },
};

/** The path parameter every per-session route takes. */
export const SESSION_PARAM = {
  name: 'session',
  description: 'The session_id given at registration: 1-256 printable ASCII characters',
  schema: { type: 'string', pattern: '^[\\x21-\\x7e]{1,256}$' },
  example: 'grant-8f14e45f',
} as const;
