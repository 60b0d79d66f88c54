import type { TenantEvent, TenantEventType } from '@cimd/contracts';
import { ClientEvent, concernedTenants, planClientEvent } from '@cimd/core';
import { InjectLogger } from '@cimd/runtime';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { DataSource, EntityManager } from 'typeorm';
import { SessionsRepository } from '../sessions/sessions.repository';
import { TenantPoliciesService } from '../tenants/tenant-policies.service';
import { RegisteredClientsRepository } from './registered-clients.repository';
import { TenantEventsRepository } from './tenant-events.repository';
import { PendingDelivery, WebhookDeliveriesRepository } from './webhook-deliveries.repository';

/** What one client event did, to be published once its transaction has committed. */
export interface EventEffects {
  tenantEvents: TenantEvent[];
  deliveries: PendingDelivery[];
}

/**
 * Applies one client event, in one transaction: the clients registry, then each concerned
 * tenant's action (planClientEvent: revoke its sessions of the client, or tell it), with the
 * tenant events and webhook deliveries that follow. At least once in, once in effect: the
 * transaction first claims the event's id, so an event delivered again changes nothing.
 */
@Injectable()
export class ClientEventHandler {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly clients: RegisteredClientsRepository,
    private readonly sessions: SessionsRepository,
    private readonly tenantEvents: TenantEventsRepository,
    private readonly deliveries: WebhookDeliveriesRepository,
    private readonly policies: TenantPoliciesService,
    @InjectLogger() private readonly logger: Logger,
  ) {}

  async apply(event: ClientEvent): Promise<EventEffects> {
    const effects: EventEffects = { tenantEvents: [], deliveries: [] };
    await this.db.transaction(async (tx) => {
      if (!(await this.clients.claim(tx, event.id))) {
        // Done before. A gateway that died between the commit and the acknowledgement may not
        // have enqueued the webhooks: enqueue what is still pending (idempotent: the job id is
        // the delivery id) rather than wait for the sweep.
        effects.deliveries = await this.deliveries.pendingFor(tx, event.id);
        return;
      }
      await this.clients.record(tx, event);
      const scope = concernedTenants(event.type);
      if (scope === 'none') return;
      const ids =
        scope === 'active_sessions'
          ? await this.sessions.tenantsWithActiveSessions(event.client_id, tx)
          : await this.sessions.tenantsWithSessions(event.client_id, tx);
      const tenants = await Promise.all(
        ids.map(async (tenant) => ({ tenant, policy: (await this.policies.current(tenant))?.policy })),
      );
      const [{ now }] = await tx.query<[{ now: Date }]>('SELECT now() AS now');
      // Tenants revoking for the same reason are revoked together: one statement, whatever the count.
      const revocations = new Map<string, { reason: string; data: Record<string, unknown>; tenants: string[] }>();
      for (const action of planClientEvent(event, tenants)) {
        if (action.kind === 'notify') {
          await this.tenantEvent(tx, action.tenant, action.type, event.client_id, action.data, effects);
          continue;
        }
        const key = `${action.reason} ${JSON.stringify(action.data)}`;
        const group = revocations.get(key) ?? { reason: action.reason, data: action.data, tenants: [] };
        group.tenants.push(action.tenant);
        revocations.set(key, group);
      }
      for (const { reason, data, tenants: revoking } of revocations.values())
        await this.revoke(tx, event, revoking, reason, now, data, effects);
    });
    return effects;
  }

  /**
   * End the tenants' active sessions of the client. The Redis marks that session checks read
   * first are set inside the transaction, so a failure rolls back to "retry" rather than
   * "revoked in the database, active in Redis".
   */
  private async revoke(
    tx: EntityManager,
    event: ClientEvent,
    tenants: string[],
    reason: string,
    now: Date,
    data: Record<string, unknown>,
    effects: EventEffects,
  ): Promise<void> {
    await this.sessions.markClientRevoked(tenants, event.client_id, { at: now.getTime(), reason });
    const counts = await this.sessions.revokeClient(event.client_id, tenants, now, reason, tx);
    for (const { tenant_id, sessions } of counts) {
      await this.tenantEvents.recordRevocation(tx, {
        tenant: tenant_id,
        clientId: event.client_id,
        reason,
        causeEventId: event.id,
        sessions,
      });
      await this.tenantEvent(
        tx,
        tenant_id,
        'session.revoked',
        event.client_id,
        { sessions, reason, cause_event_id: event.id, ...data },
        effects,
      );
    }
    this.logger.info({ client_id: event.client_id, reason, tenants: counts }, 'revoked the sessions of a client');
  }

  private async tenantEvent(
    tx: EntityManager,
    tenant: string,
    type: TenantEventType,
    clientId: string,
    data: Record<string, unknown>,
    effects: EventEffects,
  ): Promise<void> {
    const event = await this.tenantEvents.append(tx, { tenant, type, clientId, data });
    effects.tenantEvents.push(event);
    const webhook = (await this.policies.current(tenant))?.policy.webhook;
    if (webhook) {
      const id = randomUUID();
      await this.deliveries.create(tx, { id, tenant, eventId: event.id, url: webhook.url });
      effects.deliveries.push({ id, url: webhook.url, createdAt: new Date(), event });
    }
  }
}
