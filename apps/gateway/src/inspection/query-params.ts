import { CLIENT_HEALTHS, ClientHealth } from '@cimd/core';
import { invalidRequest } from '../common/domain-error';
import type { DirectoryQuery } from './client-directory.service';

/** A query parameter given at most once (Fastify gives an array for a repeated one). */
export function optionalParam(name: string, value: unknown, max = 8192): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw invalidRequest(`the ${name} query parameter may be given once`);
  if (value.length > max) throw invalidRequest(`${name} is longer than ${max} characters`);
  return value;
}

export function requiredParam(name: string, value: unknown): string {
  const v = optionalParam(name, value);
  if (v === undefined || v === '') throw invalidRequest(`the ${name} query parameter is required, exactly once`);
  return v;
}

export function wholeNumber(name: string, value: unknown, min: number, max: number, fallback: number): number {
  const v = optionalParam(name, value, 20);
  if (v === undefined) return fallback;
  if (!/^\d{1,9}$/.test(v) || Number(v) < min || Number(v) > max)
    throw invalidRequest(`${name} must be a whole number from ${min} to ${max}`);
  return Number(v);
}

/** `q`, `status`, `limit` (1-100, 25) and `offset` (0-100000) of a client listing. */
export function directoryQuery(query: Record<string, unknown>): DirectoryQuery {
  const q = optionalParam('q', query.q, 200)?.trim();
  const status = optionalParam('status', query.status, 20);
  if (status !== undefined && status !== '' && !(CLIENT_HEALTHS as readonly string[]).includes(status))
    throw invalidRequest(`status must be one of ${CLIENT_HEALTHS.join(', ')}`);
  return {
    ...(q ? { q } : {}),
    ...(status ? { status: status as ClientHealth } : {}),
    limit: wholeNumber('limit', query.limit, 1, 100, 25),
    offset: wholeNumber('offset', query.offset, 0, 100_000, 0),
  };
}
