import { Injectable } from '@nestjs/common';
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteHandlerMethod, RouteOptions } from 'fastify';
import { BEARER } from '../common/auth/principal';
import { TENANT_ID } from '../common/parse-body';
import { ApiKeysService } from '../tenants/api-keys.service';
import { AuthorizeCheckBody } from './authorize-request';
import type { DecidedRequest } from './authorize.controller';
import { AuthorizeService } from './authorize.service';

/** The route AuthorizeController declares (and the OpenAPI document describes). */
export const AUTHORIZE_CHECK_ROUTE = '/v1/tenants/:tenant/authorize/check';

const JSON_TYPE = 'application/json; charset=utf-8';
const FRAMEWORK = Symbol('framework');

type CheckRequest = FastifyRequest<{ Params: { tenant?: string } }> & DecidedRequest;

/**
 * The authorize check without the framework's per-request machinery: for a caller this process
 * can authenticate without I/O (the admin token, or a tenant key it holds), the route's own
 * tenant and a body the route's schema accepts, the answer is given here, from a remembered
 * decision when one stands, else from AuthorizeService as the controller would. Everything else
 * (no or unknown token, another tenant's key, a body the schema refuses) goes to
 * AuthorizeController's handler, which refuses or loads as every route does: the same
 * authentication, schema and error bodies, in one Fastify route, described once.
 */
@Injectable()
export class AuthorizeFastPath {
  constructor(
    private readonly authorize: AuthorizeService,
    private readonly apiKeys: ApiKeysService,
  ) {}

  /** Before the application's routes are registered (app.init): wraps the controller's handler. */
  serveOn(fastify: FastifyInstance): void {
    fastify.addHook('onRoute', (route: RouteOptions) => {
      if (route.url !== AUTHORIZE_CHECK_ROUTE || route.method !== 'POST') return;
      route.handler = this.handler(route.handler);
    });
  }

  private handler(framework: RouteHandlerMethod): RouteHandlerMethod {
    const answer = (request: FastifyRequest, reply: FastifyReply) => this.answer(request as CheckRequest, reply);
    return function (this: FastifyInstance, request: FastifyRequest, reply: FastifyReply) {
      const answered = answer(request, reply);
      // Sent (or being sent) here: nothing for Fastify to send (a returned reply would be sent twice).
      return answered === FRAMEWORK ? framework.call(this, request, reply) : answered;
    };
  }

  /** Sends the answer (undefined, or a promise of it being sent), or FRAMEWORK: the framework's handler must take the request. */
  private answer(request: CheckRequest, reply: FastifyReply): Promise<void> | undefined | typeof FRAMEWORK {
    const header = request.headers.authorization;
    const token = header === undefined ? undefined : BEARER.exec(header)?.[1];
    const principal = token === undefined ? undefined : this.apiKeys.verifyCached(token);
    const tenant = request.params.tenant;
    if (!principal || tenant === undefined || !TENANT_ID.test(tenant)) return FRAMEWORK;
    if (principal.kind === 'tenant' && principal.tenantId !== tenant) return FRAMEWORK;
    const body = request.body;
    if (body === null || typeof body !== 'object' || Array.isArray(body)) return FRAMEWORK;
    const parsed = AuthorizeCheckBody.safeParse(body);
    if (!parsed.success) return FRAMEWORK;

    const remembered = this.authorize.recall(tenant, parsed.data);
    if (remembered) {
      request.decision = remembered.response.decision;
      reply.code(200).header('content-type', JSON_TYPE).send(remembered.json);
      return undefined;
    }
    return this.authorize.check(tenant, parsed.data).then((result) => {
      request.decision = result.decision;
      reply.code(200).header('content-type', JSON_TYPE).send(JSON.stringify(result));
    });
  }
}
