import { Controller, Get, Inject, Param, Query, Req, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { BearerAuthGuard } from '../auth/bearer-auth.guard';
import { assertTenantAccess, AuthenticatedRequest, principalOf } from '../auth/principal';
import { badRequest } from '../common/api-error';
import { tenantParam } from '../common/parse-body';
import { TenantEventPublisher } from './tenant-events';
import { WebhookDeliveryLog } from './webhook-deliveries';

/** A tenant's own events (resumable) and its webhook delivery log. */
@ApiTags('events')
@ApiBearerAuth()
@UseGuards(BearerAuthGuard)
@Controller('v1/tenants/:tenant')
export class EventsController {
  constructor(
    @Inject(TenantEventPublisher) private readonly events: TenantEventPublisher,
    @Inject(WebhookDeliveryLog) private readonly deliveries: WebhookDeliveryLog,
  ) {}

  @Get('events')
  @ApiOperation({
    summary: "The tenant's events after an event id, oldest first (session.revoked, client.changed, client.restored)",
  })
  @ApiQuery({ name: 'after', required: false, description: 'event id to resume after (default 0)' })
  @ApiQuery({ name: 'limit', required: false, description: '1-1000 (default 100)' })
  async list(
    @Req() req: AuthenticatedRequest,
    @Param('tenant') tenant: string,
    @Query('after') after?: string,
    @Query('limit') limit?: string,
  ) {
    assertTenantAccess(principalOf(req), tenantParam(tenant));
    if (after !== undefined && !/^\d{1,18}$/.test(after))
      throw badRequest('after must be an event id (a whole number)');
    if (limit !== undefined && !/^\d{1,4}$/.test(limit))
      throw badRequest('limit must be a whole number from 1 to 1000');
    const n = limit === undefined ? 100 : Math.min(Math.max(Number(limit), 1), 1000);
    const events = await this.events.list(tenant, after ?? '0', n);
    return { events, next_after: events.length > 0 ? events[events.length - 1]?.id : (after ?? '0') };
  }

  @Get('webhooks/deliveries')
  @ApiOperation({ summary: 'The latest webhook deliveries and their state (pending, delivered, dead)' })
  async webhookDeliveries(@Req() req: AuthenticatedRequest, @Param('tenant') tenant: string) {
    assertTenantAccess(principalOf(req), tenantParam(tenant));
    return { deliveries: await this.deliveries.list(tenant) };
  }
}
