import { checkClientIdUrl } from '@cimd/core';
import { Body, Controller, Get, HttpCode, Post, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { AdminOnly, Authenticated } from '../common/auth/bearer-auth.guard';
import { invalidRequest, unavailable } from '../common/domain-error';
import { ApiErrors, ApiJsonBody, ApiJsonResponse } from '../common/openapi';
import { ZodBody } from '../common/parse-body';
import {
  CLIENT_VIEW_EXAMPLES,
  ClientViewSchema,
  REFRESH_ACCEPTED_EXAMPLES,
  REFRESH_EXAMPLES,
  RefreshAccepted,
  RefreshBody,
} from './clients.schemas';
import { ClientsService, ClientView } from './clients.service';
import { FetchRequests } from './fetch-requests';
import { ATTEMPTS_SCHEMA } from './openapi-schemas';

const CLIENT_ID_QUERY = {
  name: 'client_id',
  required: true,
  description: 'The exact client_id string',
  schema: { type: 'string' },
  example: 'https://app.example/oauth/client.json',
} as const;

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
  @ApiQuery(CLIENT_ID_QUERY)
  @ApiJsonResponse(200, 'The cached record', ClientViewSchema, CLIENT_VIEW_EXAMPLES)
  @ApiErrors(400, 404)
  async get(@Query('client_id') clientId: unknown): Promise<ClientView> {
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
  @ApiQuery(CLIENT_ID_QUERY)
  @ApiOkResponse({
    schema: ATTEMPTS_SCHEMA,
    example: {
      client_id: 'https://app.example/oauth/client.json',
      cached: false,
      health: 'failing',
      attempts: [
        {
          at: '2026-11-02T10:00:00.000Z',
          reason: 'miss',
          attempt: 1,
          outcome: 'transient',
          code: 'fetch.timeout',
          message: 'the origin did not answer within 5000 ms',
          duration_ms: 5001,
          next: { kind: 'retry', at: '2026-11-02T10:00:02.000Z' },
        },
      ],
      next_attempt: { kind: 'retry', at: '2026-11-02T10:00:02.000Z' },
    },
  })
  @ApiErrors(400, 404)
  async attempts(@Query('client_id') clientId: unknown) {
    return this.clients.attempts(requiredClientId(clientId));
  }

  @Post('refresh')
  @HttpCode(202)
  @AdminOnly()
  @ApiOperation({ summary: 'Enqueue a fetch of a client_id now (admin)' })
  @ApiJsonBody(RefreshBody, REFRESH_EXAMPLES)
  @ApiJsonResponse(202, 'The fetch is enqueued', RefreshAccepted, REFRESH_ACCEPTED_EXAMPLES)
  @ApiErrors(400, 413, 415)
  async refresh(@Body(new ZodBody(RefreshBody)) { client_id }: z.output<typeof RefreshBody>): Promise<RefreshAccepted> {
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
