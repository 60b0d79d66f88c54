import type { SessionStatus } from '@cimd/core';
import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiNoContentResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { TenantId, TenantScoped } from '../common/auth/tenant-access.guard';
import { invalidRequest } from '../common/domain-error';
import { ApiErrors, ApiJsonBody, ApiJsonResponse } from '../common/openapi';
import { ZodBody } from '../common/parse-body';
import { TenantPoliciesService } from '../tenants/tenant-policies.service';
import {
  REGISTER_SESSION_EXAMPLES,
  SESSION_PARAM,
  SESSION_STATUS_EXAMPLES,
  SessionStatusSchema,
} from './sessions.schemas';
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
  @ApiJsonBody(RegisterSessionBody, REGISTER_SESSION_EXAMPLES)
  @ApiJsonResponse(201, 'The session (registered now, or already)', SessionStatusSchema, SESSION_STATUS_EXAMPLES)
  @ApiErrors(404, 409, 413, 415)
  async register(
    @TenantId() tenant: string,
    @Body(new ZodBody(RegisterSessionBody)) body: RegisterSession,
  ): Promise<SessionStatus> {
    await this.policies.require(tenant);
    return this.sessions.register(tenant, body);
  }

  @Get(':session')
  @ApiOperation({ summary: 'Whether a session is still active, and if not since when and why' })
  @ApiParam(SESSION_PARAM)
  @ApiJsonResponse(200, 'The state of the session', SessionStatusSchema, SESSION_STATUS_EXAMPLES)
  @ApiErrors(404)
  async check(@TenantId() tenant: string, @Param('session') session: string): Promise<SessionStatus> {
    return this.sessions.check(tenant, sessionParam(session));
  }

  @Delete(':session')
  @HttpCode(204)
  @ApiOperation({ summary: 'Revoke one session' })
  @ApiParam(SESSION_PARAM)
  @ApiNoContentResponse({ description: 'Revoked (or it already was)' })
  @ApiErrors(404)
  async revoke(@TenantId() tenant: string, @Param('session') session: string): Promise<void> {
    await this.sessions.revoke(tenant, sessionParam(session));
  }
}
