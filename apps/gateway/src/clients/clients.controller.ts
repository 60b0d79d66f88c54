import { checkClientIdUrl } from '@cimd/core';
import { Body, Controller, Get, HttpCode, Post, Query } from '@nestjs/common';
import { ApiBody, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { AdminOnly, Authenticated } from '../common/auth/bearer-auth.guard';
import { invalidRequest, unavailable } from '../common/domain-error';
import { ZodBody } from '../common/parse-body';
import { ClientsService } from './clients.service';
import { FetchRequests } from './fetch-requests';
import { ATTEMPTS_SCHEMA } from './openapi-schemas';

const RefreshBody = z.object({ client_id: z.string().max(8192) }).strict();

/** Reads of the shared cache, and an admin's "fetch this now". */
@ApiTags('clients')
@Controller('v1/clients')
@Authenticated()
export class ClientsController {
  constructor(
    private readonly clients: ClientsService,
    private readonly fetches: FetchRequests,
  ) {}

  @Get()
  @ApiOperation({ summary: 'The cached record of a client_id and its status (tenant key or admin)' })
  @ApiQuery({ name: 'client_id', required: true })
  async get(@Query('client_id') clientId: unknown) {
    return this.clients.find(requiredClientId(clientId));
  }

  @Get('attempts')
  @ApiOperation({
    summary: "A client's last fetch attempts and when the next is due (tenant key or admin)",
    description:
      'Kept for 24 h after the last attempt, also for a client that has no cached document (a host that does not resolve, ' +
      'a timeout, a TLS failure): outcome, rule code (docs/RULES.md), HTTP status, duration and the next attempt (retry ' +
      'with backoff, cooldown, confirmation or refresh). Never a document (SPEC-NOTES 15).',
  })
  @ApiQuery({ name: 'client_id', required: true })
  @ApiOkResponse({ schema: ATTEMPTS_SCHEMA })
  @ApiNotFoundResponse({ description: 'neither a cached entry nor a recorded attempt' })
  async attempts(@Query('client_id') clientId: unknown) {
    return this.clients.attempts(requiredClientId(clientId));
  }

  @Post('refresh')
  @HttpCode(202)
  @AdminOnly()
  @ApiOperation({ summary: 'Enqueue a fetch of a client_id now (admin)' })
  @ApiBody({ schema: { type: 'object', required: ['client_id'], properties: { client_id: { type: 'string' } } } })
  async refresh(@Body(new ZodBody(RefreshBody)) { client_id }: z.output<typeof RefreshBody>) {
    const check = checkClientIdUrl(client_id);
    if (!check.valid)
      throw invalidRequest(check.errors[0]?.message ?? 'client_id is not a valid client identifier URL');
    try {
      await this.fetches.request(client_id, 'admin');
    } catch {
      throw unavailable('the fetch queue is unreachable; try again shortly');
    }
    return { client_id, enqueued: true };
  }
}

function requiredClientId(clientId: unknown): string {
  if (typeof clientId !== 'string' || clientId === '')
    throw invalidRequest('the client_id query parameter is required, exactly once');
  return clientId;
}
