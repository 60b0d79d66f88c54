import { RedisKeys } from '@cimd/contracts';
import { Controller, Get, Inject, Param, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import type Redis from 'ioredis';
import { notFound, unavailable } from '../common/api-error';
import { REDIS, REDIS_KEYS } from '../infra/tokens';

/**
 * Prefetched client logos (SPEC-NOTES 21), served from this origin so a consent screen never
 * loads anything from the client's host. Public: browsers fetch them without credentials.
 */
@ApiTags('clients')
@Controller('v1/logos')
export class LogosController {
  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(REDIS_KEYS) private readonly keys: RedisKeys,
  ) {}

  @Get(':sha256')
  @ApiOperation({ summary: 'A prefetched logo, by the SHA-256 of its bytes (no authentication)' })
  async get(@Param('sha256') sha256: string, @Res() reply: FastifyReply): Promise<void> {
    if (!/^[0-9a-f]{64}$/.test(sha256)) throw notFound('there is no such logo');
    let stored: Buffer | null;
    try {
      stored = await this.redis.getBuffer(this.keys.logo(sha256));
    } catch {
      throw unavailable('the logo store is unreachable; try again shortly');
    }
    const newline = stored ? stored.indexOf(10) : -1;
    if (!stored || newline < 0) throw notFound('there is no such logo (it may have expired with its client)');
    await reply
      .status(200)
      .headers({
        'content-type': stored.subarray(0, newline).toString('latin1'),
        'cache-control': 'public, max-age=3600, immutable',
        'x-content-type-options': 'nosniff',
        'content-security-policy': "default-src 'none'; sandbox",
        'cross-origin-resource-policy': 'cross-origin',
      })
      .send(stored.subarray(newline + 1));
  }
}
