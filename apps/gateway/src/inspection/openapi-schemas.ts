import { CLIENT_HEALTHS } from '@cimd/core';
import { ATTEMPT_SCHEMA, HEALTH_SCHEMA } from '../clients/openapi-schemas';
import { SESSION_REVOKED_EXAMPLE } from '../events/events.schemas';

/** OpenAPI schemas of the operator's views, for @nestjs/swagger's decorators. */
type Schema = Record<string, unknown>;

const iso = { type: 'string', format: 'date-time' };
const str = { type: 'string' };

export const LIST_QUERIES = [
  {
    name: 'q',
    required: false,
    description: 'part of the client_id or its host (case-insensitive)',
    schema: { type: 'string', maxLength: 200 },
  },
  { name: 'status', required: false, enum: [...CLIENT_HEALTHS] },
  {
    name: 'limit',
    required: false,
    description: '1-100 (default 25)',
    schema: { type: 'integer', minimum: 1, maximum: 100 },
  },
  {
    name: 'offset',
    required: false,
    description: '0-100000 (default 0)',
    schema: { type: 'integer', minimum: 0, maximum: 100000 },
  },
];

export const CLIENT_LIST_SCHEMA: Schema = {
  type: 'object',
  required: ['total', 'limit', 'offset', 'items'],
  properties: {
    tenant: str,
    total: { type: 'integer', description: 'clients matching the search and filter' },
    limit: { type: 'integer' },
    offset: { type: 'integer' },
    items: {
      type: 'array',
      items: {
        type: 'object',
        required: ['client_id', 'health', 'live_sessions'],
        properties: {
          client_id: str,
          host: str,
          health: HEALTH_SCHEMA,
          name: { type: 'string', description: 'client_name of the cached document' },
          status: { type: 'string', enum: ['valid', 'invalid', 'gone'], description: 'of the cache entry' },
          registry_status: str,
          last_fetch: {
            type: 'object',
            properties: { at: iso, outcome: str, code: str },
          },
          next_fetch_at: iso,
          expires_at: iso,
          first_seen_at: iso,
          last_checked_at: iso,
          checks: { type: 'integer' },
          last_decision: {
            type: 'string',
            enum: ['allow', 'deny', 'pending'],
            description: "the tenant's (tenant listing)",
          },
          last_reason: str,
          live_sessions: { type: 'integer' },
        },
      },
    },
  },
};

const FINDING_SCHEMA: Schema = {
  type: 'object',
  required: ['code', 'source', 'severity'],
  properties: {
    code: str,
    source: { type: 'string', enum: ['client_id', 'document', 'fetch', 'suspect', 'decision', 'trust'] },
    severity: { type: 'string', enum: ['error', 'warning', 'decision', 'unknown'] },
    spec: { type: 'string', description: 'SPEC-NOTES item or RFC section' },
    summary: { type: 'string', description: "the rule catalogue's explanation (docs/RULES.md)" },
    message: str,
    field: { type: 'string', description: 'JSON path in the document, e.g. redirect_uris[1]' },
  },
};

export const INSPECTION_SCHEMA: Schema = {
  type: 'object',
  properties: {
    tenant: str,
    policy_version: { type: 'integer' },
    client_id: str,
    host: str,
    health: HEALTH_SCHEMA,
    request: {
      type: 'object',
      description: 'the request decided on; `from`: given, last_check (the tenant’s last one) or document',
    },
    decision: {
      type: 'object',
      description: 'the decision as POST …/authorize/check would give it now, from the cache',
    },
    cache: { type: 'string', enum: ['hit', 'refreshing', 'stale', 'expired', 'refused', 'miss', 'not_fetched'] },
    findings: { type: 'array', items: FINDING_SCHEMA },
    attempts: { type: 'array', items: ATTEMPT_SCHEMA },
    entry: { type: 'object', description: 'the cache entry as GET /v1/clients shows it' },
    document: {
      type: 'object',
      description:
        'validated: the normalized document (json); refused: the text of the last refused body, never served as a document',
      properties: { kind: { type: 'string', enum: ['validated', 'refused'] }, json: { type: 'object' }, text: str },
    },
    timeline: {
      type: 'array',
      items: { type: 'object', properties: { at: iso, what: str, future: { type: 'boolean' } } },
    },
    registry: { type: 'object', description: "the clients registry's row: first seen, last event, last change" },
    checks: { type: 'object', description: "the tenant's recorded checks of the client" },
    sessions: {
      type: 'array',
      items: { type: 'object', properties: { tenant: str, live: { type: 'integer' }, total: { type: 'integer' } } },
    },
    events: { type: 'array', items: { type: 'object' }, description: "the tenant's latest events about the client" },
    consent: {
      type: 'object',
      description: 'the consent card: name, logo_url (the gateway’s copy), host, redirect_host, trust_level, warnings',
    },
  },
};

const SUMMARY_SCHEMA: Schema = {
  type: 'object',
  properties: {
    decision: { type: 'string', enum: ['allow', 'deny', 'pending'] },
    reason: str,
    error_description: str,
    trust_level: str,
    warnings: { type: 'array', items: str },
  },
};

export const DRY_RUN_SCHEMA: Schema = {
  type: 'object',
  properties: {
    tenant: str,
    current_version: { type: 'integer' },
    seen: { type: 'integer', description: 'clients the tenant has asked about or has sessions of' },
    evaluated: { type: 'integer', description: 'the most recently seen, at most 1000' },
    truncated: { type: 'boolean' },
    counts: {
      type: 'object',
      description: 'rows per change (denied, allowed, reason, trust, none), evaluated, and denied_after',
    },
    rows: {
      type: 'array',
      description: 'changed rows first, newly denied before the rest',
      items: {
        type: 'object',
        properties: {
          client_id: str,
          redirect_uri: str,
          request_from: { type: 'string', enum: ['last_check', 'document'] },
          current: SUMMARY_SCHEMA,
          proposed: SUMMARY_SCHEMA,
          change: { type: 'string', enum: ['denied', 'allowed', 'reason', 'trust', 'none'] },
        },
      },
    },
    policy: { type: 'object', description: 'the proposed policy with its defaults' },
  },
};

export const VALIDATION_SCHEMA: Schema = {
  type: 'object',
  required: ['valid', 'errors'],
  properties: {
    valid: { type: 'boolean' },
    errors: { type: 'array', items: str, description: 'one line per problem, starting with the field path' },
    policy: { type: 'object', description: 'the effective policy (defaults filled in) when valid' },
  },
};

/** Examples of the views above, for the OpenAPI document (a few fields each). */
const CLIENT_ID = 'https://app.example/oauth/client.json';
export const CLIENT_LIST_EXAMPLE = {
  tenant: 'acme',
  total: 1,
  limit: 25,
  offset: 0,
  items: [
    {
      client_id: CLIENT_ID,
      host: 'app.example',
      health: 'valid',
      name: 'Example App',
      status: 'valid',
      last_fetch: { at: '2026-11-02T10:00:00.000Z', outcome: 'ok' },
      next_fetch_at: '2026-11-02T10:50:00.000Z',
      expires_at: '2026-11-02T11:00:00.000Z',
      last_decision: 'allow',
      live_sessions: 2,
    },
  ],
};
export const INSPECTION_EXAMPLE = {
  tenant: 'acme',
  policy_version: 1,
  request: { client_id: CLIENT_ID, redirect_uri: 'https://app.example/callback' },
  decision: { decision: 'allow', warnings: [] },
  cache: 'hit',
  findings: [],
  attempts: [],
};
export const CLIENT_EVENTS_EXAMPLE = { events: [SESSION_REVOKED_EXAMPLE] };
export const DRY_RUN_EXAMPLE = {
  tenant: 'acme',
  current_version: 3,
  seen: 1,
  evaluated: 1,
  truncated: false,
  counts: { denied: 1, allowed: 0, reason: 0, trust: 0, none: 0 },
  rows: [
    {
      client_id: CLIENT_ID,
      redirect_uri: 'https://app.example/callback',
      request_from: 'last_check',
      current: { decision: 'allow' },
      proposed: { decision: 'deny', reason: 'policy.host_denied' },
      change: 'denied',
    },
  ],
};
export const VALIDATION_EXAMPLE = {
  valid: false,
  errors: ['deny_hosts[0]: must be a host name such as "example.com" or a wildcard such as "*.example.com"'],
};
