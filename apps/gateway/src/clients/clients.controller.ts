import { checkClientIdUrl } from '@cimd/core';
import { Body, Controller, Get, HttpCode, Inject, Post, Query, Req, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { BearerAuthGuard } from '../auth/bearer-auth.guard';
import { assertAdmin, AuthenticatedRequest, principalOf } from '../auth/principal';
import { badRequest, unavailable } from '../common/api-error';
import { parseBody } from '../common/parse-body';
import { FetchCoordinator } from '../authorize/fetch-coordinator';
import { GATEWAY_CONFIG } from '../infra/tokens';
import { ClientRecords, clientView } from './client-records';
import type { GatewayConfig } from '../gateway-config';

const RefreshBody = z.object({ client_id: z.string().max(8192) }).strict();

/** Reads of the shared cache, and an admin's "fetch this now". */
@ApiTags('clients')
@ApiBearerAuth()
@UseGuards(BearerAuthGuard)
@Controller('v1/clients')
export class ClientsController {
  constructor(
    @Inject(ClientRecords) private readonly records: ClientRecords,
    @Inject(FetchCoordinator) private readonly fetches: FetchCoordinator,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  @Get()
  @ApiOperation({ summary: 'The cached record of a client_id and its status (tenant key or admin)' })
  @ApiQuery({ name: 'client_id', required: true })
  async get(@Query('client_id') clientId: unknown) {
    if (typeof clientId !== 'string' || clientId === '') {
      throw badRequest('the client_id query parameter is required, exactly once');
    }
    return clientView(await this.records.find(clientId), this.config.publicUrl);
  }

  @Post('refresh')
  @HttpCode(202)
  @ApiOperation({ summary: 'Enqueue a fetch of a client_id now (admin)' })
  @ApiBody({ schema: { type: 'object', required: ['client_id'], properties: { client_id: { type: 'string' } } } })
  async refresh(@Req() req: AuthenticatedRequest, @Body() body: unknown) {
    assertAdmin(principalOf(req));
    const { client_id } = parseBody(RefreshBody, body);
    const check = checkClientIdUrl(client_id);
    if (!check.valid) throw badRequest(check.errors[0]?.message ?? 'client_id is not a valid client identifier URL');
    try {
      await this.fetches.request(client_id, 'admin');
    } catch {
      throw unavailable('the fetch queue is unreachable; try again shortly');
    }
    return { client_id, enqueued: true };
  }
}
