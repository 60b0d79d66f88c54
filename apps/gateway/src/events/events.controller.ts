import { Controller, Get, Query } from '@nestjs/common';
import { ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { TenantId, TenantScoped } from '../common/auth/tenant-access.guard';
import { invalidRequest } from '../common/domain-error';
import { ApiErrors, ApiJsonResponse } from '../common/openapi';
import { TenantPoliciesService } from '../tenants/tenant-policies.service';
import { DELIVERIES_EXAMPLES, DeliveriesPage, EVENTS_PAGE_EXAMPLES, EventsPage } from './events.schemas';
import { TenantEventsRepository } from './tenant-events.repository';
import { WebhookDeliveryLog } from './webhook-delivery-log';

/** A tenant's own events (resumable) and its webhook delivery log. */
@ApiTags('events')
@Controller('v1/tenants/:tenant')
@TenantScoped()
export class EventsController {
  constructor(
    private readonly events: TenantEventsRepository,
    private readonly deliveries: WebhookDeliveryLog,
    private readonly policies: TenantPoliciesService,
  ) {}

  @Get('events')
  @ApiOperation({
    summary: "The tenant's events after an event id, oldest first (session.revoked, client.changed, client.restored)",
  })
  @ApiQuery({
    name: 'after',
    required: false,
    description: 'The event id to resume after (default 0: from the start)',
    schema: { type: 'string', pattern: '^\\d{1,18}$' },
  })
  @ApiQuery({
    name: 'limit',
    required: false,
    description: 'How many events at most, 1-1000 (default 100; larger values are taken as 1000)',
    schema: { type: 'integer', minimum: 0, maximum: 9999 },
  })
  @ApiJsonResponse(200, 'A page of events, oldest first', EventsPage, EVENTS_PAGE_EXAMPLES)
  async list(
    @TenantId() tenant: string,
    @Query('after') after?: string,
    @Query('limit') limit?: string,
  ): Promise<EventsPage> {
    if (after !== undefined && !/^\d{1,18}$/.test(after))
      throw invalidRequest('after must be an event id (a whole number)');
    if (limit !== undefined && !/^\d{1,4}$/.test(limit))
      throw invalidRequest('limit must be a whole number from 1 to 1000');
    const n = limit === undefined ? 100 : Math.min(Math.max(Number(limit), 1), 1000);
    // An unknown tenant is a 404 as on every other tenant route, not an empty list.
    await this.policies.require(tenant);
    const events = await this.events.list(tenant, after ?? '0', n);
    return { events, next_after: events.at(-1)?.id ?? after ?? '0' };
  }

  @Get('webhooks/deliveries')
  @ApiOperation({ summary: 'The latest webhook deliveries and their state (pending, delivered, dead)' })
  @ApiJsonResponse(200, 'The latest 100 deliveries, newest first', DeliveriesPage, DELIVERIES_EXAMPLES)
  @ApiErrors(404)
  async webhookDeliveries(@TenantId() tenant: string): Promise<DeliveriesPage> {
    await this.policies.require(tenant);
    return { deliveries: await this.deliveries.list(tenant) };
  }
}
