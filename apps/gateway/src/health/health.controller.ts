import { Controller, Get, HttpCode, HttpStatus, Inject, Res } from '@nestjs/common';
import { probe } from '@cimd/runtime';
import type { FastifyReply } from 'fastify';
import type Redis from 'ioredis';
import type { Pool } from 'pg';
import { POSTGRES, REDIS } from '../infra/tokens';

@Controller()
export class HealthController {
  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(POSTGRES) private readonly pg: Pool,
  ) {}

  /** Liveness: the process answers. Deliberately checks nothing else. */
  @Get('healthz')
  @HttpCode(HttpStatus.OK)
  healthz(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /** Readiness: Redis and PostgreSQL answer; 503 with the failing dependency otherwise. */
  @Get('readyz')
  async readyz(@Res({ passthrough: true }) reply: FastifyReply) {
    const [redis, postgres] = await Promise.all([
      probe(() => this.redis.ping()),
      probe(() => this.pg.query('SELECT 1')),
    ]);
    const ready = redis.status === 'up' && postgres.status === 'up';
    reply.status(ready ? HttpStatus.OK : HttpStatus.SERVICE_UNAVAILABLE);
    return { status: ready ? 'ready' : 'not_ready', checks: { redis, postgres } };
  }
}
