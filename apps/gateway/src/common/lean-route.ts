import type { FastifyInstance, FastifyReply, FastifyRequest, RouteHandlerMethod, RouteOptions } from 'fastify';
import type { z } from 'zod';
import type { ApiKeysService } from '../tenants/api-keys.service';
import { BEARER } from './auth/principal';
import { TENANT_ID } from './parse-body';

/** What a lean answer returns when the controller's handler must take the request instead. */
export const FRAMEWORK = Symbol('framework');

/** Sent (or a promise of it being sent: a rejection goes to the application's error filter), or FRAMEWORK. */
export type LeanAnswer = Promise<void> | undefined | typeof FRAMEWORK;

const JSON_TYPE = 'application/json; charset=utf-8';

/**
 * A controller route answered without the framework's per-request machinery (guards, pipes,
 * interceptors, serializer) where that machinery has nothing to do: `answer` takes the request
 * or hands it back (FRAMEWORK) to the controller's handler, which refuses or loads as every
 * route does. One Fastify route, one OpenAPI entry, the same authentication and error bodies.
 * Call before the application's routes are registered (app.init).
 */
export function serveLean(
  fastify: FastifyInstance,
  method: string,
  url: string,
  answer: (request: FastifyRequest, reply: FastifyReply) => LeanAnswer,
): void {
  fastify.addHook('onRoute', (route: RouteOptions) => {
    if (route.url !== url || route.method !== method) return;
    const framework: RouteHandlerMethod = route.handler;
    route.handler = function (this: FastifyInstance, request: FastifyRequest, reply: FastifyReply) {
      const answered = answer(request, reply);
      // Sent (or being sent) here: nothing for Fastify to send (a returned reply would be sent twice).
      return answered === FRAMEWORK ? framework.call(this, request, reply) : answered;
    };
  });
}

/**
 * The tenant of a tenant-scoped route and its body, when the caller is one this process can
 * authenticate without I/O (the admin token, or a key of that tenant it holds) and the body is
 * one `schema` accepts; undefined for everything the controller must refuse or load.
 */
export function leanTenantRequest<T extends z.ZodType>(
  request: FastifyRequest,
  apiKeys: ApiKeysService,
  schema: T,
): { tenant: string; body: z.output<T> } | undefined {
  const header = request.headers.authorization;
  const token = header === undefined ? undefined : BEARER.exec(header)?.[1];
  const principal = token === undefined ? undefined : apiKeys.verifyCached(token);
  const tenant = (request.params as { tenant?: string }).tenant;
  if (!principal || tenant === undefined || !TENANT_ID.test(tenant)) return undefined;
  if (principal.kind === 'tenant' && principal.tenantId !== tenant) return undefined;
  const body = request.body;
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return undefined;
  const parsed = schema.safeParse(body);
  return parsed.success ? { tenant, body: parsed.data } : undefined;
}

/** A 200 with a body already serialized. */
export function sendJson(reply: FastifyReply, json: string): void {
  reply.code(200).header('content-type', JSON_TYPE).send(json);
}
