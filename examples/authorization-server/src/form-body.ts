import type { Context } from 'koa';
import { parse } from 'node:querystring';

/** oidc-provider's own limit for a request body. */
const LIMIT = 56 * 1024;

export type Form = Record<string, string | string[] | undefined>;

/**
 * The urlencoded body of a POST that oidc-provider reads too: read here once and left on
 * `req.body`, where oidc-provider takes an already read body from (warning once that it does).
 * Undefined when the request has no such body (oidc-provider refuses it then).
 */
export async function readForm(ctx: Context): Promise<Form | undefined> {
  if (ctx.method !== 'POST' || !ctx.is('application/x-www-form-urlencoded')) return undefined;
  const req = ctx.req as typeof ctx.req & { body?: Form };
  if (req.body) return req.body;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > LIMIT) ctx.throw(413, 'the request body is too large');
    chunks.push(chunk);
  }
  req.body = parse(Buffer.concat(chunks).toString('utf8'));
  return req.body;
}

/** A request that sends a parameter twice: OAuth refuses it (RFC 6749 §3.1). */
export class RepeatedParameter extends Error {}

/** A parameter of a query or form, sent at most once. */
export function param(params: Form, name: string): string | undefined {
  const value = params[name];
  if (Array.isArray(value)) throw new RepeatedParameter(`${name} must not be sent more than once`);
  return value;
}
