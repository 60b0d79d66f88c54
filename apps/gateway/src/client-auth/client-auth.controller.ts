import { ASSERTION_ALGS, tenantChecksAssertions } from '@cimd/core';
import { Body, Controller, Get, HttpCode, Post } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { TenantId, TenantScoped } from '../common/auth/tenant-access.guard';
import { ApiErrors, ApiJsonBody, ApiJsonResponse } from '../common/openapi';
import { ZodBody } from '../common/parse-body';
import { TenantPoliciesService } from '../tenants/tenant-policies.service';
import {
  AS_METADATA_EXAMPLES,
  AUTHENTICATE_EXAMPLES,
  AUTHENTICATION_EXAMPLES,
  AuthorizationServerMetadata,
  ClientAuthenticationSchema,
} from './client-auth.schemas';
import {
  AuthenticateClientBody,
  AuthenticateClientRequest,
  ClientAuthentication,
  ClientAuthService,
} from './client-auth.service';

@ApiTags('client authentication')
@Controller('v1/tenants/:tenant')
@TenantScoped()
export class ClientAuthController {
  constructor(
    private readonly clientAuth: ClientAuthService,
    private readonly policies: TenantPoliciesService,
  ) {}

  @Post('clients/authenticate')
  @HttpCode(200)
  @ApiOperation({
    summary: "Whether a client is who it says it is at the tenant's token endpoint (tenant key or admin)",
    description:
      'A public client without an assertion, or a private_key_jwt client with an RFC 7523 client assertion. A refusal is a 200 with authenticated false, error invalid_client and the rule code in reason.',
  })
  @ApiJsonBody(AuthenticateClientBody, AUTHENTICATE_EXAMPLES)
  @ApiJsonResponse(200, 'Who the client is, or why it is not', ClientAuthenticationSchema, AUTHENTICATION_EXAMPLES)
  @ApiErrors(404, 413, 415)
  async authenticate(
    @TenantId() tenant: string,
    @Body(new ZodBody(AuthenticateClientBody)) body: AuthenticateClientRequest,
  ): Promise<ClientAuthentication> {
    return this.clientAuth.authenticate(tenant, body);
  }

  @Get('authorization-server-metadata')
  @ApiOperation({
    summary: "RFC 8414 members the tenant's authorization server should publish for what the gateway does for it",
  })
  @ApiJsonResponse(200, 'The members to publish', AuthorizationServerMetadata, AS_METADATA_EXAMPLES)
  @ApiErrors(404)
  async metadata(@TenantId() tenant: string): Promise<AuthorizationServerMetadata> {
    const { policy } = await this.policies.require(tenant);
    const methods = policy.token_endpoint_auth_methods_supported.filter(
      (m) => m !== 'private_key_jwt' || tenantChecksAssertions(policy),
    );
    return {
      client_id_metadata_document_supported: true,
      token_endpoint_auth_methods_supported: methods,
      ...(methods.includes('private_key_jwt')
        ? { token_endpoint_auth_signing_alg_values_supported: [...ASSERTION_ALGS] }
        : {}),
      code_challenge_methods_supported: ['S256'],
    };
  }
}
