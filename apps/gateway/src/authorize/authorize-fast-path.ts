import { Injectable } from '@nestjs/common';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { FRAMEWORK, LeanAnswer, leanTenantRequest, sendJson, serveLean } from '../common/lean-route';
import { ApiKeysService } from '../tenants/api-keys.service';
import { AuthorizeCheckBody } from './authorize-request';
import type { DecidedRequest } from './authorize.controller';
import { AuthorizeService } from './authorize.service';

/** The route AuthorizeController declares (and the OpenAPI document describes). */
export const AUTHORIZE_CHECK_ROUTE = '/v1/tenants/:tenant/authorize/check';

/**
 * The authorize check on a lean route (serveLean): for a caller this process can authenticate
 * without I/O, the route's own tenant and a body the route's schema accepts, the answer is given
 * here, from a remembered decision when one stands, else from AuthorizeService as the controller
 * would. Everything else goes to AuthorizeController's handler.
 */
@Injectable()
export class AuthorizeFastPath {
  constructor(
    private readonly authorize: AuthorizeService,
    private readonly apiKeys: ApiKeysService,
  ) {}

  serveOn(fastify: FastifyInstance): void {
    serveLean(fastify, 'POST', AUTHORIZE_CHECK_ROUTE, (request, reply) => this.answer(request, reply));
  }

  private answer(request: FastifyRequest & DecidedRequest, reply: FastifyReply): LeanAnswer {
    const lean = leanTenantRequest(request, this.apiKeys, AuthorizeCheckBody);
    if (!lean) return FRAMEWORK;
    const remembered = this.authorize.recall(lean.tenant, lean.body);
    if (remembered) {
      request.decision = remembered.response.decision;
      sendJson(reply, remembered.json);
      return undefined;
    }
    return this.authorize.check(lean.tenant, lean.body).then((result) => {
      request.decision = result.decision;
      sendJson(reply, JSON.stringify(result));
    });
  }
}
