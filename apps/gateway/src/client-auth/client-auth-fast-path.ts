import { Injectable } from '@nestjs/common';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { FRAMEWORK, LeanAnswer, leanTenantRequest, sendJson, serveLean } from '../common/lean-route';
import { ApiKeysService } from '../tenants/api-keys.service';
import { AuthenticateClientBody, ClientAuthService } from './client-auth.service';

/** The route ClientAuthController declares (and the OpenAPI document describes). */
export const AUTHENTICATE_CLIENT_ROUTE = '/v1/tenants/:tenant/clients/authenticate';

/**
 * Client authentication on a lean route (serveLean): a caller this process can authenticate
 * without I/O, its own tenant and a body the route's schema accepts are answered here by
 * ClientAuthService, as the controller would; everything else goes to ClientAuthController.
 */
@Injectable()
export class ClientAuthFastPath {
  constructor(
    private readonly clientAuth: ClientAuthService,
    private readonly apiKeys: ApiKeysService,
  ) {}

  serveOn(fastify: FastifyInstance): void {
    serveLean(fastify, 'POST', AUTHENTICATE_CLIENT_ROUTE, (request, reply) => this.answer(request, reply));
  }

  private answer(request: FastifyRequest, reply: FastifyReply): LeanAnswer {
    const lean = leanTenantRequest(request, this.apiKeys, AuthenticateClientBody);
    if (!lean) return FRAMEWORK;
    return this.clientAuth
      .authenticate(lean.tenant, lean.body)
      .then((result) => sendJson(reply, JSON.stringify(result)));
  }
}
