import { ClientCacheRepository, StoredLogo } from '@cimd/store';
import { Controller, Get, Param, Res } from '@nestjs/common';
import { ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { LogoContentType } from '@cimd/safe-fetch';
import type { FastifyReply } from 'fastify';
import { notFound, unavailable } from '../common/domain-error';
import { ApiErrors } from '../common/openapi';

/** The types fetchLogo recognises, hence the types a logo is served as (the compiler checks the list is whole). */
const LOGO_CONTENT_TYPES = [
  'image/png',
  'image/jpeg',
  'image/gif',
  'image/webp',
  'image/x-icon',
] as const satisfies readonly LogoContentType[];
const everyLogoType: [Exclude<LogoContentType, (typeof LOGO_CONTENT_TYPES)[number]>] extends [never] ? true : false =
  true;
void everyLogoType;

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
  @ApiParam({
    name: 'sha256',
    description: 'The SHA-256 of the logo bytes, lower-case hex (as in the logo_url of a decision)',
    schema: { type: 'string', pattern: '^[0-9a-f]{64}$' },
  })
  @ApiResponse({
    status: 200,
    description: 'The logo bytes, cacheable for an hour (immutable: the URL names the content)',
    // Binary bodies take no schema in OpenAPI 3.1 (§4.8.14.3).
    content: Object.fromEntries(LOGO_CONTENT_TYPES.map((type) => [type, {}])),
  })
  @ApiErrors(404, 503)
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
