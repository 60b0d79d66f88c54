import { Module } from '@nestjs/common';
import { FetchModule } from '../fetch/fetch.module';
import { WebhooksModule } from '../webhooks/webhooks.module';
import { HealthServer } from './health-server';

/** The health and metrics port. */
@Module({ imports: [FetchModule, WebhooksModule], providers: [HealthServer], exports: [HealthServer] })
export class HealthModule {}
