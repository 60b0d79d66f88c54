import { CLIENT_HEALTHS, NEXT_ATTEMPT_KINDS } from '@cimd/core';

/** OpenAPI schemas of the client views, for @nestjs/swagger's decorators. */
type Schema = Record<string, unknown>;

const iso = { type: 'string', format: 'date-time' };

export const NEXT_ATTEMPT_SCHEMA: Schema = {
  type: 'object',
  description:
    'When the next fetch is due: a retry with backoff, the end of the failure cooldown, a confirmation, or the refresh',
  properties: { kind: { type: 'string', enum: [...NEXT_ATTEMPT_KINDS] }, at: iso },
};

export const ATTEMPT_SCHEMA: Schema = {
  type: 'object',
  required: ['at', 'reason', 'attempt', 'outcome', 'duration_ms'],
  properties: {
    at: iso,
    reason: { type: 'string', description: 'why the fetch ran: miss, refresh, scheduled, admin, confirm' },
    attempt: { type: 'integer', description: '1 for a fetch job’s first try, 2 for its first retry, …' },
    outcome: {
      type: 'string',
      description: 'ok, not_modified, invalid, gone, transient, blocked, too_large, bad_content_type, redirect',
    },
    code: { type: 'string', description: 'the rule code of a failure (fetch.dns_failed, fetch.timeout, …)' },
    rule: { type: 'string', description: "the rule catalogue's explanation of the code" },
    message: { type: 'string' },
    http_status: { type: 'integer' },
    duration_ms: { type: 'integer' },
    next: NEXT_ATTEMPT_SCHEMA,
  },
};

export const HEALTH_SCHEMA: Schema = {
  type: 'string',
  enum: [...CLIENT_HEALTHS],
  description:
    'valid/invalid/gone (the cache), suspect (a valid document vanished or broke once; a confirmation fetch is due), failing (the last fetch failed transiently), unfetched',
};

export const ATTEMPTS_SCHEMA: Schema = {
  type: 'object',
  required: ['client_id', 'cached', 'health', 'attempts'],
  properties: {
    client_id: { type: 'string' },
    cached: { type: 'boolean', description: 'whether the cache holds an entry (valid, invalid or gone)' },
    status: { type: 'string', enum: ['valid', 'invalid', 'gone'] },
    health: HEALTH_SCHEMA,
    attempts: { type: 'array', items: ATTEMPT_SCHEMA, description: 'newest first, at most 10' },
    next_attempt: NEXT_ATTEMPT_SCHEMA,
  },
};
