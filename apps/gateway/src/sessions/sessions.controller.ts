import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Req, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { BearerAuthGuard } from '../auth/bearer-auth.guard';
import { assertTenantAccess, AuthenticatedRequest, principalOf } from '../auth/principal';
import { badRequest } from '../common/api-error';
import { tenantParam } from '../common/parse-body';
import { TenantPoliciesService } from '../tenants/tenant-policies.service';
import { RegisterSessionBody, SessionsService } from './sessions.service';

function sessionParam(sessionId: string): string {
  if (!/^[\x21-\x7e]{1,256}$/.test(sessionId)) throw badRequest('session_id must be 1-256 printable ASCII characters');
  return sessionId;
}

/** Sessions the tenant granted to CIMD clients, so they end when the client's document vanishes. */
@ApiTags('sessions')
@ApiBearerAuth()
@UseGuards(BearerAuthGuard)
@Controller('v1/tenants/:tenant/sessions')
export class SessionsController {
  constructor(
    @Inject(SessionsService) private readonly sessions: SessionsService,
    @Inject(TenantPoliciesService) private readonly policies: TenantPoliciesService,
  ) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({ summary: 'Register a session of a client (idempotent on session_id; tenant key or admin)' })
  @ApiBody({ schema: z.toJSONSchema(RegisterSessionBody) as Record<string, unknown> })
  async register(@Req() req: AuthenticatedRequest, @Param('tenant') tenant: string, @Body() body: unknown) {
    assertTenantAccess(principalOf(req), tenantParam(tenant));
    await this.policies.require(tenant);
    return this.sessions.register(tenant, body);
  }

  @Get(':session')
  @ApiOperation({ summary: 'Whether a session is still active, and if not since when and why' })
  async check(@Req() req: AuthenticatedRequest, @Param('tenant') tenant: string, @Param('session') session: string) {
    assertTenantAccess(principalOf(req), tenantParam(tenant));
    return this.sessions.check(tenant, sessionParam(session));
  }

  @Delete(':session')
  @HttpCode(204)
  @ApiOperation({ summary: 'Revoke one session' })
  async revoke(
    @Req() req: AuthenticatedRequest,
    @Param('tenant') tenant: string,
    @Param('session') session: string,
  ): Promise<void> {
    assertTenantAccess(principalOf(req), tenantParam(tenant));
    await this.sessions.revoke(tenant, sessionParam(session));
  }
}
