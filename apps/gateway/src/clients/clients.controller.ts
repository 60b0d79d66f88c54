import { CacheEntry, parseCacheEntry, RedisKeys } from '@cimd/contracts';
import { checkClientIdUrl } from '@cimd/core';
import { Body, Controller, Get, HttpCode, Inject, Post, Query, Req, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import type Redis from 'ioredis';
import { z } from 'zod';
import { BearerAuthGuard } from '../auth/bearer-auth.guard';
import { assertAdmin, AuthenticatedRequest, principalOf } from '../auth/principal';
import { badRequest, notFound, unavailable } from '../common/api-error';
import { parseBody } from '../common/parse-body';
import { FetchCoordinator } from '../authorize/fetch-coordinator';
import { GATEWAY_CONFIG, REDIS, REDIS_KEYS } from '../infra/tokens';
import type { GatewayConfig } from '../gateway-config';

const RefreshBody = z.object({ client_id: z.string().max(8192) }).strict();

/** A cache entry as the API shows it: times as ISO strings, the logo as the gateway's own URL. */
export function clientView(entry: CacheEntry, publicUrl: string, now = Date.now()) {
  const { v: _v, logo, fetched_at, refresh_at, expires_at, first_seen_at, last_error, ...rest } = entry;
  return {
    ...rest,
    freshness: now < refresh_at ? 'fresh' : now < expires_at ? 'refresh_due' : 'expired',
    fetched_at: new Date(fetched_at).toISOString(),
    refresh_at: new Date(refresh_at).toISOString(),
    expires_at: new Date(expires_at).toISOString(),
    ...(first_seen_at !== undefined ? { first_seen_at: new Date(first_seen_at).toISOString() } : {}),
    ...(logo ? { logo_url: `${publicUrl}/v1/logos/${logo.sha256}` } : {}),
    ...(last_error ? { last_error: { ...last_error, at: new Date(last_error.at).toISOString() } } : {}),
  };
}

/** Reads of the shared cache, and an admin's "fetch this now". */
@ApiTags('clients')
@ApiBearerAuth()
@UseGuards(BearerAuthGuard)
@Controller('v1/clients')
export class ClientsController {
  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(REDIS_KEYS) private readonly keys: RedisKeys,
    @Inject(FetchCoordinator) private readonly fetches: FetchCoordinator,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  @Get()
  @ApiOperation({ summary: 'The cached record of a client_id and its status (tenant key or admin)' })
  @ApiQuery({ name: 'client_id', required: true })
  async get(@Query('client_id') clientId: unknown) {
    if (typeof clientId !== 'string' || clientId === '') throw badRequest('the client_id query parameter is required');
    // A client_id that breaks the URL rules is never fetched, so never cached: say why instead of 404.
    const check = checkClientIdUrl(clientId);
    if (!check.valid) throw badRequest(check.errors[0]?.message ?? 'client_id is not a valid client identifier URL');
    let entry: CacheEntry | undefined;
    try {
      entry = parseCacheEntry(await this.redis.get(this.keys.clientEntry(clientId)));
    } catch {
      throw unavailable('the client cache is unreachable; try again shortly');
    }
    if (!entry) throw notFound('this client_id is not in the cache; an authorize check or a refresh fetches it');
    return clientView(entry, this.config.publicUrl);
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
