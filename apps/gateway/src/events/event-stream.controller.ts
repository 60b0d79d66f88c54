import type { TenantEvent } from '@cimd/contracts';
import { InjectLogger } from '@cimd/runtime';
import { Controller, Get, Query, Res } from '@nestjs/common';
import { ApiOperation, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import type { Logger } from 'pino';
import { TenantId, TenantScoped } from '../common/auth/tenant-access.guard';
import { DomainError, invalidRequest } from '../common/domain-error';
import { ApiErrors } from '../common/openapi';
import { TenantPoliciesService } from '../tenants/tenant-policies.service';
import { LiveTenantEvents, watchTenantEvents } from './event-watch';
import { TenantEventsRepository } from './tenant-events.repository';

/** A comment line this often keeps proxies from closing a quiet stream. */
export const SSE_HEARTBEAT_MS = 15_000;

/** One event in the text/event-stream format: its id (to resume with), its type, its JSON. */
export function sseFrame(event: TenantEvent): string {
  return `id: ${event.id}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
}

/**
 * The tenant's events as server-sent events: every stored one after `after` (or the
 * Last-Event-ID a reconnecting reader sends), then the live ones, as gRPC WatchEvents gives
 * them (watchTenantEvents: no gap, no duplicate, bounded memory for a slow reader). The bearer
 * token goes in the Authorization header, so readers use fetch() rather than EventSource.
 */
@ApiTags('events')
@Controller('v1/tenants/:tenant/events')
@TenantScoped()
export class EventStreamController {
  constructor(
    private readonly stored: TenantEventsRepository,
    private readonly live: LiveTenantEvents,
    private readonly policies: TenantPoliciesService,
    @InjectLogger() private readonly logger: Logger,
  ) {}

  @Get('stream')
  @ApiOperation({
    summary: "The tenant's events as server-sent events: the stored ones after `after`, then live",
    description:
      'text/event-stream; each event has `id` (resume with ?after= or Last-Event-ID), `event` (its type) and `data` ' +
      '(the event as GET …/events lists it). A comment line every 15 s keeps the connection open. The stream ends with ' +
      'an `error` event (error, error_description) when the gateway shuts down or the reader is too slow.',
  })
  @ApiQuery({
    name: 'after',
    required: false,
    description: 'event id to resume after (default: only new events)',
    schema: { type: 'string', pattern: '^\\d{1,18}$' },
  })
  @ApiResponse({
    status: 200,
    description: 'Server-sent events, one per tenant event (its data is the event as JSON)',
    content: {
      'text/event-stream': {
        schema: { type: 'string' },
        example:
          'id: 42\nevent: session.revoked\ndata: {"id":"42","tenant":"acme","type":"session.revoked","time":"2026-11-03T08:30:00.000Z","client_id":"https://app.example/oauth/client.json","data":{"sessions":2,"reason":"client.gone"}}\n\n',
      },
    },
  })
  @ApiErrors(404)
  async stream(@TenantId() tenant: string, @Query('after') after: unknown, @Res() reply: FastifyReply): Promise<void> {
    const resume = after ?? reply.request.headers['last-event-id'];
    if (resume !== undefined && (typeof resume !== 'string' || !/^\d{1,18}$/.test(resume)))
      throw invalidRequest('after (or Last-Event-ID) must be an event id (a whole number)');
    await this.policies.require(tenant);
    // Without a position, only what happens from now on: start after the newest stored event.
    const afterId = typeof resume === 'string' ? resume : await this.stored.latestId(tenant);

    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      // Proxies such as nginx would otherwise buffer the stream.
      'x-accel-buffering': 'no',
    });
    res.write(`: events of ${tenant} after ${afterId}\n\n`);
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), SSE_HEARTBEAT_MS);
    const subscription = watchTenantEvents(this.stored, this.live, res, tenant, afterId).subscribe({
      next: (event) => res.write(sseFrame(event)),
      error: (e: unknown) => {
        const body =
          e instanceof DomainError
            ? { error: e.error, error_description: e.description }
            : { error: 'temporarily_unavailable', error_description: 'the event stream failed; reconnect' };
        if (!(e instanceof DomainError)) this.logger.warn({ tenant, err: (e as Error).message }, 'event stream failed');
        res.end(`event: error\ndata: ${JSON.stringify(body)}\n\n`);
      },
    });
    res.on('close', () => {
      clearInterval(heartbeat);
      subscription.unsubscribe();
    });
  }
}
