import { listFieldNames, quote } from '@cimd/core';
import { z } from 'zod';
import { badRequest } from './api-error';

/** Validate a request body against a schema; every problem is named in one 400. */
export function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  if (body === undefined || body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw badRequest('the request body must be a JSON object');
  }
  const r = schema.safeParse(body);
  if (r.success) return r.data;
  const problems = r.error.issues.map((i) => {
    const path = i.path.length > 0 ? i.path.map(String).join('.') : 'body';
    if (i.code === 'unrecognized_keys') return `unknown field(s) ${listFieldNames(i.keys)}`;
    if (i.code === 'invalid_type' && i.path.length === 1 && !(String(i.path[0]) in body)) return `${path} is required`;
    return `${path}: ${i.message}`;
  });
  throw badRequest(joinProblems(problems));
}

/** Problems for one description: the first `max`, then how many more (a description stays short). */
export function joinProblems(problems: readonly string[], max = 10): string {
  const shown = problems.slice(0, max).join('; ');
  return problems.length > max ? `${shown}; and ${problems.length - max} more problem(s)` : shown;
}

/** Tenant identifiers: lower-case letters, digits and hyphens, 1-63 characters. */
export const TENANT_ID = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** A tenant path parameter, refused with a 400 when it cannot be a tenant id. */
export function tenantParam(tenant: string): string {
  if (!TENANT_ID.test(tenant)) throw badRequest(`${quote(tenant, 80)} is not a tenant id`);
  return tenant;
}
