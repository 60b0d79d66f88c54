import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { TenantId, TenantScoped } from '../common/auth/tenant-access.guard';
import { invalidRequest } from '../common/domain-error';
import { ZodBody } from '../common/parse-body';
import { TenantPoliciesService } from '../tenants/tenant-policies.service';
import { RegisterSession, RegisterSessionBody, SessionsService } from './sessions.service';

function sessionParam(sessionId: string): string {
  if (!/^[\x21-\x7e]{1,256}$/.test(sessionId))
    throw invalidRequest('session_id must be 1-256 printable ASCII characters');
  return sessionId;
}

/** Sessions the tenant granted to CIMD clients, so they end when the client's document vanishes. */
@ApiTags('sessions')
@Controller('v1/tenants/:tenant/sessions')
@TenantScoped()
export class SessionsController {
  constructor(
    private readonly sessions: SessionsService,
    private readonly policies: TenantPoliciesService,
  ) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({ summary: 'Register a session of a client (idempotent on session_id; tenant key or admin)' })
  @ApiBody({ schema: z.toJSONSchema(RegisterSessionBody) as Record<string, unknown> })
  async register(@TenantId() tenant: string, @Body(new ZodBody(RegisterSessionBody)) body: RegisterSession) {
    await this.policies.require(tenant);
    return this.sessions.register(tenant, body);
  }

  @Get(':session')
  @ApiOperation({ summary: 'Whether a session is still active, and if not since when and why' })
  async check(@TenantId() tenant: string, @Param('session') session: string) {
    return this.sessions.check(tenant, sessionParam(session));
  }

  @Delete(':session')
  @HttpCode(204)
  @ApiOperation({ summary: 'Revoke one session' })
  async revoke(@TenantId() tenant: string, @Param('session') session: string): Promise<void> {
    await this.sessions.revoke(tenant, sessionParam(session));
  }
}
