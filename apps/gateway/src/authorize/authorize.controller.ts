import { Body, Controller, HttpCode, Post, Req } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { TenantId, TenantScoped } from '../common/auth/tenant-access.guard';
import { ApiErrors, ApiJsonBody, ApiJsonResponse } from '../common/openapi';
import { ZodBody } from '../common/parse-body';
import { AuthorizeCheckBody } from './authorize-request';
import { AUTHORIZE_CHECK_EXAMPLES, AUTHORIZE_DECISION_EXAMPLES, AuthorizeResponseSchema } from './authorize.schemas';
import { AuthorizeResponse, AuthorizeService } from './authorize.service';

/** The request's decision, for the request metrics' `decision` label (see main.ts). */
export type DecidedRequest = FastifyRequest & { decision?: string };

@ApiTags('authorize')
@Controller('v1/tenants/:tenant/authorize')
@TenantScoped()
export class AuthorizeController {
  constructor(private readonly authorize: AuthorizeService) {}

  @Post('check')
  @HttpCode(200)
  @ApiOperation({
    summary: 'The decision for one authorization request: allow, deny or pending (tenant key or admin)',
    description:
      'Answered from the shared cache; on a miss the fetch is enqueued and awaited up to CIMD_AUTHORIZE_WAIT_MS, then "pending" with error temporarily_unavailable.',
  })
  @ApiJsonBody(AuthorizeCheckBody, AUTHORIZE_CHECK_EXAMPLES)
  @ApiJsonResponse(
    200,
    'The decision: allow (with what the consent screen shows), deny (with the OAuth error to answer) or pending',
    AuthorizeResponseSchema,
    AUTHORIZE_DECISION_EXAMPLES,
  )
  @ApiErrors(404, 413, 415)
  async check(
    @Req() req: DecidedRequest,
    @TenantId() tenant: string,
    @Body(new ZodBody(AuthorizeCheckBody)) body: z.output<typeof AuthorizeCheckBody>,
  ): Promise<AuthorizeResponse> {
    const result = await this.authorize.check(tenant, body);
    req.decision = result.decision;
    return result;
  }
}
