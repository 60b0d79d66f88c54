import { Module } from '@nestjs/common';
import { SessionsModule } from '../sessions/sessions.module';
import { TenantsModule } from '../tenants/tenants.module';
import { ClientEventHandler } from './client-event.handler';
import { ClientEventsConsumer } from './client-events.consumer';
import { LiveTenantEvents } from './event-watch';
import { EventStreamController } from './event-stream.controller';
import { EventsController } from './events.controller';
import { RegisteredClientsRepository } from './registered-clients.repository';
import { TenantEventPublisher } from './tenant-event.publisher';
import { TenantEventsRepository } from './tenant-events.repository';
import { WebhookDeliveriesRepository } from './webhook-deliveries.repository';
import { WebhookDeliveryLog } from './webhook-delivery-log';

/**
 * The fetcher's client events and what they do: the clients registry, revocations, each
 * tenant's event log and its live feed, and the webhooks that carry the events out.
 */
@Module({
  imports: [TenantsModule, SessionsModule],
  controllers: [EventsController, EventStreamController],
  providers: [
    ClientEventsConsumer,
    ClientEventHandler,
    RegisteredClientsRepository,
    TenantEventsRepository,
    WebhookDeliveriesRepository,
    TenantEventPublisher,
    WebhookDeliveryLog,
    LiveTenantEvents,
  ],
  exports: [TenantEventsRepository, LiveTenantEvents],
})
export class EventsModule {}
