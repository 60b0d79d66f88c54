import { Module } from '@nestjs/common';
import { WebhookWorker } from './webhook-worker';

/** Delivery of the gateway's signed webhooks, through the SSRF-hardened client. */
@Module({ providers: [WebhookWorker], exports: [WebhookWorker] })
export class WebhooksModule {}
