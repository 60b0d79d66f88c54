import { ClientCacheRepository, StoredLogo } from '@cimd/store';
import { Controller, Get, Param, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { notFound, unavailable } from '../common/domain-error';

/**
 * Prefetched client logos (SPEC-NOTES 21), served from this origin so a consent screen never
 * loads anything from the client's host. Public: browsers fetch them without credentials.
 */
@ApiTags('clients')
@Controller('v1/logos')
export class LogosController {
  constructor(private readonly cache: ClientCacheRepository) {}

  @Get(':sha256')
  @ApiOperation({ summary: 'A prefetched logo, by the SHA-256 of its bytes (no authentication)' })
  async get(@Param('sha256') sha256: string, @Res() reply: FastifyReply): Promise<void> {
    if (!/^[0-9a-f]{64}$/.test(sha256)) throw notFound('there is no such logo');
    let logo: StoredLogo | undefined;
    try {
      logo = await this.cache.logo(sha256);
    } catch {
      throw unavailable('the logo store is unreachable; try again shortly');
    }
    if (!logo) throw notFound('there is no such logo (it may have expired with its client)');
    await reply
      .status(200)
      .headers({
        'content-type': logo.contentType,
        'cache-control': 'public, max-age=3600, immutable',
        'x-content-type-options': 'nosniff',
        'content-security-policy': "default-src 'none'; sandbox",
        'cross-origin-resource-policy': 'cross-origin',
      })
      .send(logo.body);
  }
}
