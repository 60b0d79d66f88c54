import { Body, Controller, HttpCode, Inject, Param, Post, Req, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { BearerAuthGuard } from '../auth/bearer-auth.guard';
import { assertTenantAccess, AuthenticatedRequest, principalOf } from '../auth/principal';
import { tenantParam } from '../common/parse-body';
import { GatewayMetrics } from '../observability/gateway-metrics';
import { AuthorizeCheckBody, AuthorizeResponse, AuthorizeService } from './authorize.service';

@ApiTags('authorize')
@ApiBearerAuth()
@UseGuards(BearerAuthGuard)
@Controller('v1/tenants/:tenant/authorize')
export class AuthorizeController {
  constructor(
    @Inject(AuthorizeService) private readonly authorize: AuthorizeService,
    @Inject(GatewayMetrics) private readonly metrics: GatewayMetrics,
  ) {}

  @Post('check')
  @HttpCode(200)
  @ApiOperation({
    summary: 'The decision for one authorization request: allow, deny or pending (tenant key or admin)',
    description:
      'Answered from the shared cache; on a miss the fetch is enqueued and awaited up to CIMD_AUTHORIZE_WAIT_MS, then "pending" with error temporarily_unavailable.',
  })
  @ApiBody({ schema: z.toJSONSchema(AuthorizeCheckBody) as Record<string, unknown> })
  @ApiOkResponse({ description: 'The decision object of @cimd/core, with cache status' })
  async check(
    @Req() req: AuthenticatedRequest,
    @Param('tenant') tenant: string,
    @Body() body: unknown,
  ): Promise<AuthorizeResponse> {
    assertTenantAccess(principalOf(req), tenantParam(tenant));
    const result = await this.authorize.check(tenant, body);
    (req as AuthenticatedRequest & { decision?: string }).decision = result.decision;
    this.metrics.decisions.inc({ decision: result.decision, reason: result.reason ?? '' });
    return result;
  }
}
