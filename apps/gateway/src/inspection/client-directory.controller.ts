import { applyDecorators, Controller, Get, Query } from '@nestjs/common';
import { TenantEventSchema } from '@cimd/contracts';
import { ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { AdminOnly, Authenticated } from '../common/auth/bearer-auth.guard';
import type { Principal } from '../common/auth/principal';
import { invalidRequest } from '../common/domain-error';
import { ApiErrors, jsonSchemaOf } from '../common/openapi';
import { CurrentPrincipal, TenantId, TenantScoped } from '../common/auth/tenant-access.guard';
import { ClientDirectoryService } from './client-directory.service';
import {
  CLIENT_EVENTS_EXAMPLE,
  CLIENT_LIST_EXAMPLE,
  CLIENT_LIST_SCHEMA,
  INSPECTION_EXAMPLE,
  INSPECTION_SCHEMA,
  LIST_QUERIES,
} from './openapi-schemas';
import { directoryQuery, optionalParam, requiredParam, wholeNumber } from './query-params';

/** The search, filter and paging parameters of a listing, in the OpenAPI document. */
const ListQueries = () => applyDecorators(...LIST_QUERIES.map((q) => ApiQuery(q)));

/** Every client the deployment knows, for the platform admin. */
@ApiTags('clients')
@Controller('v1/clients')
@Authenticated()
export class FleetClientsController {
  constructor(private readonly directory: ClientDirectoryService) {}

  @Get('list')
  @AdminOnly()
  @ApiOperation({
    summary: 'Every client the deployment knows, searched, filtered and paged (admin)',
    description:
      'The clients registry (every client the fetcher reported) and every client a tenant asked about, newest activity ' +
      'first, with health (valid, suspect, failing, invalid, gone, unfetched), last fetch, next fetch and live sessions.',
  })
  @ListQueries()
  @ApiOkResponse({ schema: CLIENT_LIST_SCHEMA, example: CLIENT_LIST_EXAMPLE })
  list(@Query() query: Record<string, unknown>) {
    return this.directory.list(undefined, directoryQuery(query));
  }
}

/** The clients one tenant has seen, and why each is allowed or refused. */
@ApiTags('clients')
@Controller('v1/tenants/:tenant/clients')
@TenantScoped()
export class TenantClientsController {
  constructor(private readonly directory: ClientDirectoryService) {}

  @Get()
  @ApiOperation({
    summary: 'The clients the tenant has asked about or has sessions of, searched, filtered and paged',
    description:
      "With the tenant's last decision for each, health, last and next fetch, and the tenant's live sessions.",
  })
  @ListQueries()
  @ApiOkResponse({ schema: CLIENT_LIST_SCHEMA, example: CLIENT_LIST_EXAMPLE })
  list(@TenantId() tenant: string, @Query() query: Record<string, unknown>) {
    return this.directory.list(tenant, directoryQuery(query));
  }

  @Get('inspect')
  @ApiOperation({
    summary:
      'Why a client is allowed or refused for this tenant: decision, rule codes explained, attempts, document, …',
    description:
      'The decision for the given redirect_uri (or the tenant’s last request) made from the cache without fetching, every ' +
      'rule code with its catalogue explanation and the document field it points at, the fetch attempt log, the document ' +
      '(validated, or the refused body), the cache timeline, the registry history, sessions, the tenant’s events about the ' +
      'client, and the consent card. Sessions of every tenant for the admin, of this tenant for its key.',
  })
  @ApiQuery({ name: 'client_id', required: true, schema: { type: 'string' } })
  @ApiQuery({ name: 'redirect_uri', required: false, schema: { type: 'string' } })
  @ApiOkResponse({ schema: INSPECTION_SCHEMA, example: INSPECTION_EXAMPLE })
  @ApiErrors(404)
  inspect(
    @TenantId() tenant: string,
    @CurrentPrincipal() principal: Principal,
    @Query('client_id') clientId: unknown,
    @Query('redirect_uri') redirectUri: unknown,
  ) {
    const redirect = optionalParam('redirect_uri', redirectUri);
    return this.directory.inspect(
      tenant,
      requiredParam('client_id', clientId),
      redirect === '' ? undefined : redirect,
      principal.kind === 'admin',
    );
  }

  @Get('events')
  @ApiOperation({ summary: "The tenant's events about one client, newest first (session.revoked, client.changed, …)" })
  @ApiQuery({ name: 'client_id', required: true, schema: { type: 'string' } })
  @ApiQuery({
    name: 'before',
    required: false,
    description: 'an event id: only older events',
    schema: { type: 'string', pattern: '^\\d{1,18}$' },
  })
  @ApiQuery({
    name: 'limit',
    required: false,
    description: '1-500 (default 50)',
    schema: { type: 'integer', minimum: 1, maximum: 500 },
  })
  @ApiOkResponse({
    schema: jsonSchemaOf(
      z.object({ tenant: z.string(), client_id: z.string(), events: z.array(TenantEventSchema) }),
      'output',
    ),
    example: { tenant: 'acme', client_id: CLIENT_EVENTS_EXAMPLE.events[0]?.client_id, ...CLIENT_EVENTS_EXAMPLE },
  })
  @ApiErrors(404)
  events(
    @TenantId() tenant: string,
    @Query('client_id') clientId: unknown,
    @Query('before') before: unknown,
    @Query('limit') limit: unknown,
  ) {
    const beforeId = optionalParam('before', before, 18);
    if (beforeId !== undefined && !/^\d{1,18}$/.test(beforeId)) throw invalidRequest('before must be an event id');
    return this.directory.events(
      tenant,
      requiredParam('client_id', clientId),
      wholeNumber('limit', limit, 1, 500, 50),
      beforeId,
    );
  }
}
