import { Module } from '@nestjs/common';
import { HealthController } from './health.controller';

/** Liveness, readiness and the Prometheus metrics. */
@Module({ controllers: [HealthController] })
export class HealthModule {}
