import { z } from 'zod';
import { ClientIdUrl } from '../client-id/client-id-url';
import { idnHostForms } from '../client-id/idn-host';
import { DOCUMENT_CHANGES, DocumentChange } from '../document/document-changes';
import { quote, RuleCode } from '../findings';
import { whsecProblem } from './webhook-secret';

// `example.com` matches that host only; `*.example.com` matches every subdomain (not the apex).
const HOST_PATTERN = /^(?:\*\.)?[a-z0-9_-]+(?:\.[a-z0-9_-]+)*$/;
const hostPattern = z
  .string()
  // An overwrite, not a transform: the value stays a string, so the OpenAPI schema says so.
  .toLowerCase()
  .refine((s) => HOST_PATTERN.test(s), {
    message: 'must be a host name such as "example.com" or a wildcard such as "*.example.com"',
  })
  .meta({ description: 'A host such as "example.com", or "*.example.com" for every subdomain (not the apex)' });

/** What a tenant does with its sessions of a client whose document changed (SPEC-NOTES 23). */
export type ChangeAction = 'revoke' | 'notify';

/** Revoke when the client could now send codes elsewhere or authenticate differently; notify otherwise. */
export const DEFAULT_CHANGE_ACTIONS: Record<DocumentChange, ChangeAction> = {
  redirect_uris_removed: 'revoke',
  redirect_uris_added: 'notify',
  keys: 'revoke',
  token_endpoint_auth_method: 'revoke',
  grant_types: 'notify',
  scope: 'notify',
  client_name: 'notify',
  logo_uri: 'notify',
};

const changeAction = z.enum(['revoke', 'notify']);
const OnChange = z
  .object(
    Object.fromEntries(
      DOCUMENT_CHANGES.map((c: DocumentChange) => [c, changeAction.default(DEFAULT_CHANGE_ACTIONS[c])]),
    ) as Record<DocumentChange, z.ZodDefault<typeof changeAction>>,
  )
  .strict();

const Webhook = z
  .object({
    /** Where this tenant's events are POSTed (https; delivered by the network-isolated fetcher). */
    url: z
      .url({ protocol: /^https$/, message: 'must be an https URL' })
      .meta({ description: "Where the tenant's events are POSTed (https)" }),
    /** The signing secret: whsec_<base64> or any other string used as raw key bytes (webhook-secret.ts). */
    secret: z
      .string()
      .min(16, 'must be at least 16 characters')
      .max(256)
      .superRefine((secret, ctx) => {
        const problem = whsecProblem(secret);
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      })
      .meta({
        description:
          'The signing secret: whsec_ followed by the base64 of 24-64 random bytes (Standard Webhooks), or any other 16-256 characters used as raw key bytes',
      }),
  })
  .strict()
  .meta({ description: "Deliver the tenant's events, signed the Standard Webhooks way, to a URL" });

/**
 * An authorization server URL (RFC 8414 §2): https, no query or fragment; plain http only on a
 * loopback host, for development.
 */
const serverUrl = z.string().refine(
  (v) => {
    try {
      const u = new URL(v);
      const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(u.hostname);
      return (u.protocol === 'https:' || (u.protocol === 'http:' && loopback)) && !u.username && !/[?#]/.test(v);
    } catch {
      return false;
    }
  },
  { message: 'must be an https URL without query or fragment (http only on a loopback host)' },
);

/**
 * What one tenant (authorization server) accepts. Every field has a default, so `{}` is a
 * complete policy; unknown fields are refused so that a typo never silently weakens it.
 */
export const TenantPolicySchema = z
  .object({
    allow_hosts: z
      .array(hostPattern)
      .default([])
      .meta({ description: 'Hosts whose client_ids may be used; empty means any host not denied' }),
    deny_hosts: z
      .array(hostPattern)
      .default([])
      .meta({ description: 'Hosts whose client_ids are refused before anything is fetched; wins over allow_hosts' }),
    deny_idn_hosts: z.boolean().default(false).meta({
      description:
        'Refuse client_ids whose host has a punycode (xn--) label, an internationalized name that may imitate another host (otherwise such clients get the client.idn_host warning)',
    }),
    allowlist_only: z
      .boolean()
      .default(false)
      .meta({ description: 'Accept only the client_ids listed in allowed_client_ids (draft §7.2)' }),
    allowed_client_ids: z.array(z.string()).default([]),
    trusted_client_ids: z
      .array(z.string())
      .default([])
      .meta({ description: 'Client_ids shown as trusted, by name and logo' }),
    show_untrusted_name_and_logo: z
      .boolean()
      .default(true)
      .meta({ description: 'Show name and logo of clients that are not trusted (otherwise only the host)' }),
    allow_loopback_redirects: z.boolean().default(true),
    allow_private_use_scheme_redirects: z.boolean().default(true),
    same_origin_https_redirects: z
      .boolean()
      .default(false)
      .meta({ description: 'Refuse https redirect URIs on another host than the client_id (draft §8.1)' }),
    require_pkce_s256_for_public_clients: z
      .boolean()
      .default(true)
      .meta({ description: 'Public clients (auth method "none") must send code_challenge_method S256' }),
    require_client_name: z
      .boolean()
      .default(false)
      .meta({ description: 'Refuse documents without client_name (MCP requires it)' }),
    new_client_warning_seconds: z
      .number()
      .int()
      .min(0)
      .default(86_400)
      .meta({ description: 'Warn on the consent screen while a client was first seen less than this long ago' }),
    stale_if_error_seconds: z
      .number()
      .int()
      .min(0)
      .max(7 * 86_400)
      .default(3_600)
      .meta({ description: 'How long an expired document may still be served while its origin fails transiently' }),
    on_change: OnChange.prefault({}).meta({
      description: "Per kind of document change: revoke the client's sessions here, or only notify",
    }),
    webhook: Webhook.optional(),
    issuer: serverUrl
      .optional()
      .meta({ description: "The AS's issuer identifier: client assertions may be addressed to it (SPEC-NOTES 26)" }),
    token_endpoint: serverUrl
      .optional()
      .meta({ description: "The AS's token endpoint: client assertions may be addressed to it too" }),
    token_endpoint_auth_methods_supported: z
      .array(z.enum(['none', 'private_key_jwt']))
      .min(1)
      .default(['none', 'private_key_jwt'])
      .meta({
        description:
          "How client authentication at the AS's token endpoint may go; private_key_jwt also needs issuer and token_endpoint",
      }),
    max_assertion_lifetime_seconds: z
      .number()
      .int()
      .min(10)
      .max(3600)
      .default(300)
      .meta({ description: 'Longest life (exp − iat) of a client assertion' }),
    require_assertion_typ: z
      .boolean()
      .default(false)
      .meta({ description: 'Refuse assertions whose typ is not "oauth-client-auth+jwt" (RFC 8725 §3.11)' }),
  })
  .strict();

export type TenantPolicy = z.output<typeof TenantPolicySchema>;
export type TenantPolicyInput = z.input<typeof TenantPolicySchema>;

export const DEFAULT_TENANT_POLICY: TenantPolicy = TenantPolicySchema.parse({});

export type PolicyParse = { ok: true; policy: TenantPolicy } | { ok: false; errors: string[] };

/**
 * Field names from input for a message: at most `max` of them, each at most 40 characters,
 * quoted (with escapes) unless plain, so that a body with thousands of odd keys still gets a
 * short, printable description.
 */
export function listFieldNames(keys: readonly string[], max = 10): string {
  const shown = keys
    .slice(0, max)
    .map((k) => (/^[A-Za-z0-9_.-]{1,40}$/.test(k) ? k : JSON.stringify(k.length > 40 ? `${k.slice(0, 40)}…` : k)));
  return keys.length > max ? `${shown.join(', ')} and ${keys.length - max} more` : shown.join(', ');
}

/** Validate a policy from an API body or a file, with one readable line per problem. */
export function parseTenantPolicy(input: unknown): PolicyParse {
  const r = TenantPolicySchema.safeParse(input ?? {});
  if (r.success) return { ok: true, policy: r.data };
  return {
    ok: false,
    errors: r.error.issues.map((issue) => {
      const path =
        issue.path.length > 0
          ? issue.path.map((k, i) => (typeof k === 'number' ? `[${k}]` : `${i > 0 ? '.' : ''}${String(k)}`)).join('')
          : 'policy';
      if (issue.code === 'unrecognized_keys') return `${path}: unknown field(s) ${listFieldNames(issue.keys)}`;
      if (issue.code === 'invalid_type' && / received undefined$/.test(issue.message)) return `${path} is required`;
      return `${path}: ${issue.message}`;
    }),
  };
}

export function hostMatches(host: string, pattern: string): boolean {
  if (pattern.startsWith('*.')) return host.endsWith(pattern.slice(1));
  return host === pattern;
}

export interface PolicyDenial {
  reason: RuleCode;
  description: string;
}

/**
 * The tenant's verdict on a client_id before its document is read: a denied client_id is
 * never fetched. Undefined means the client_id may proceed.
 */
export function evaluateClientIdPolicy(url: ClientIdUrl, policy: TenantPolicy): PolicyDenial | undefined {
  if (policy.allowlist_only && !policy.allowed_client_ids.includes(url.value)) {
    return {
      reason: 'policy.not_allowlisted',
      description: `This authorization server accepts only pre-registered clients, and ${quote(url.value)} is not one of them.`,
    };
  }
  const denied = policy.deny_hosts.find((p) => hostMatches(url.host, p));
  if (denied !== undefined) {
    return {
      reason: 'policy.host_denied',
      description: `Clients hosted on ${quote(url.host)} are not accepted by this authorization server (rule ${quote(denied)}).`,
    };
  }
  if (policy.allow_hosts.length > 0 && !policy.allow_hosts.some((p) => hostMatches(url.host, p))) {
    return {
      reason: 'policy.host_denied',
      description: `Clients hosted on ${quote(url.host)} are not accepted by this authorization server; only listed hosts are.`,
    };
  }
  const idn = policy.deny_idn_hosts ? idnHostForms(url.host) : undefined;
  if (idn) {
    return {
      reason: 'policy.idn_host_denied',
      description: `Clients hosted on internationalized names are not accepted by this authorization server: ${quote(idn.punycode)} reads as ${quote(idn.unicode)}.`,
    };
  }
  return undefined;
}
