import { ClientIdUrlCheck, listFieldNames, notAUrl, quote } from '@cimd/core';
import { PipeTransform } from '@nestjs/common';
import { z } from 'zod';
import { invalidRequest } from './domain-error';

/** Validate a request body against a schema; every problem is named in one 400. */
export function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  if (body === undefined || body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw invalidRequest('the request body must be a JSON object');
  }
  const r = schema.safeParse(body);
  if (r.success) return r.data;
  const problems = r.error.issues.map((i) => {
    const path = i.path.length > 0 ? i.path.map(String).join('.') : 'body';
    if (i.code === 'unrecognized_keys') return `unknown field(s) ${listFieldNames(i.keys)}`;
    if (i.code === 'invalid_type' && i.path.length === 1 && !(String(i.path[0]) in body)) return `${path} is required`;
    return `${path}: ${i.message}`;
  });
  throw invalidRequest(joinProblems(problems));
}

/** `@Body(new ZodBody(Schema))`: the handler receives the typed, validated body. */
export class ZodBody<S extends z.ZodType> implements PipeTransform<unknown, z.output<S>> {
  constructor(private readonly schema: S) {}

  transform(body: unknown): z.output<S> {
    return parseBody(this.schema, body);
  }
}

/** Problems for one description: the first `max`, then how many more (a description stays short). */
export function joinProblems(problems: readonly string[], max = 10): string {
  const shown = problems.slice(0, max).join('; ');
  return problems.length > max ? `${shown}; and ${problems.length - max} more problem(s)` : shown;
}

/** Tenant identifiers: lower-case letters, digits and hyphens, 1-63 characters. */
export const TENANT_ID = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** A tenant named by a caller, refused with a 400 when it cannot be a tenant id. */
export function tenantId(tenant: string): string {
  if (!TENANT_ID.test(tenant)) throw invalidRequest(`${quote(tenant, 80)} is not a tenant id`);
  return tenant;
}

/** A client_id that is not a URL at all is refused with a 400 (its problem as the description), not decided on. */
export function refuseNonUrl(check: ClientIdUrlCheck): void {
  const problem = notAUrl(check);
  if (problem) throw invalidRequest(problem.message);
}
