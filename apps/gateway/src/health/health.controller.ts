import { probe } from '@cimd/runtime';
import { InjectRedis, RedisClient } from '@cimd/store';
import { Controller, Get, HttpStatus, Res } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { DataSource } from 'typeorm';
import { GatewayMetrics } from '../observability/gateway-metrics';

@ApiExcludeController()
@Controller()
export class HealthController {
  constructor(
    @InjectRedis() private readonly redis: RedisClient,
    @InjectDataSource() private readonly db: DataSource,
    private readonly metrics: GatewayMetrics,
  ) {}

  /** Liveness: the process answers. Deliberately checks nothing else. */
  @Get('healthz')
  healthz(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /** Readiness: Redis and PostgreSQL answer; 503 naming the one that does not. */
  @Get('readyz')
  async readyz(@Res({ passthrough: true }) reply: FastifyReply) {
    const [redis, postgres] = await Promise.all([
      probe(() => this.redis.ping()),
      probe(() => this.db.query('SELECT 1')),
    ]);
    const ready = redis.status === 'up' && postgres.status === 'up';
    reply.status(ready ? HttpStatus.OK : HttpStatus.SERVICE_UNAVAILABLE);
    return { status: ready ? 'ready' : 'not_ready', checks: { redis, postgres } };
  }

  @Get('metrics')
  async metricsText(@Res() reply: FastifyReply): Promise<void> {
    await reply.header('content-type', this.metrics.registry.contentType).send(await this.metrics.registry.metrics());
  }
}
