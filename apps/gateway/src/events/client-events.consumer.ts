import { settleWithin } from '@cimd/runtime';
import { ClientEvent, parseEventFields, RedisKeys } from '@cimd/contracts';
import { DocumentChange } from '@cimd/core';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import Redis from 'ioredis';
import type { Logger } from 'pino';
import { DataSource, EntityManager } from 'typeorm';
import { REVOCATION_TTL_MS } from '../sessions/sessions.service';
import type { ClientRevocation } from '../sessions/session-state';
import type { TenantPoliciesService } from '../tenants/tenant-policies.service';
import type { TenantEventPublisher, TenantEvent } from './tenant-events';

export const EVENTS_GROUP = 'gateway';
const STOP_WAIT_MS = 1000;
const STATUS_OF: Record<string, 'valid' | 'invalid' | 'gone'> = {
  'client.fetched': 'valid',
  'client.changed': 'valid',
  'client.restored': 'valid',
  'client.invalid': 'invalid',
  'client.gone': 'gone',
};

/** What one event did, to be published once its transaction has committed. */
interface Effects {
  tenantEvents: TenantEvent[];
  deliveries: { id: string; event: TenantEvent; url: string; secret: string }[];
}

/**
 * The gateway's consumer of the fetcher's events (Redis Stream, consumer group): keeps the
 * clients registry, revokes sessions of vanished and changed clients, records tenant events
 * and their webhook deliveries. At least once in, once in effect: every event runs in one
 * transaction that first claims its id in `processed_events`, and is acknowledged only after
 * the commit; entries left pending by a dead gateway are claimed again.
 */
export class ClientEventsConsumer {
  private readonly redis: Redis;
  private readonly consumer = `${hostname()}-${process.pid}`;
  private running = false;
  private loop?: Promise<void>;

  constructor(
    redisUrl: string,
    private readonly commands: Redis,
    private readonly keys: RedisKeys,
    private readonly db: DataSource,
    private readonly policies: TenantPoliciesService,
    private readonly publisher: TenantEventPublisher,
    private readonly logger: Logger,
    private readonly options: { blockMs: number; claimIdleMs: number } = { blockMs: 2000, claimIdleMs: 60_000 },
  ) {
    // Its own connection: XREADGROUP BLOCK holds it.
    this.redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: null, disconnectTimeout: 200 });
    this.redis.on('error', () => undefined);
  }

  start(): void {
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.redis.disconnect();
    // A command queued while Redis is down never settles: do not wait for it forever.
    await settleWithin(this.loop, STOP_WAIT_MS);
  }

  private async run(): Promise<void> {
    await this.redis.connect().catch(() => undefined);
    let lastClaim = 0;
    // Our own entries read but not acknowledged (a failed attempt, or a restart with the same name) come first.
    let ownPending = true;
    while (this.running) {
      try {
        await this.ensureGroup();
        if (Date.now() - lastClaim > this.options.claimIdleMs / 2) {
          await this.claimAbandoned();
          await this.forgetDeadConsumers();
          lastClaim = Date.now();
        }
        const reply = (await this.redis.xreadgroup(
          'GROUP',
          EVENTS_GROUP,
          this.consumer,
          'COUNT',
          100,
          'BLOCK',
          this.options.blockMs,
          'STREAMS',
          this.keys.events,
          ownPending ? '0' : '>',
        )) as [string, [string, string[] | null][]][] | null;
        const entries = reply?.[0]?.[1] ?? [];
        if (ownPending && entries.length === 0) ownPending = false;
        await this.handle(entries);
      } catch (e) {
        if (!this.running) return;
        ownPending = true;
        this.logger.warn({ err: (e as Error).message }, 'event consumer: retrying in 1 s');
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  }

  private async ensureGroup(): Promise<void> {
    try {
      await this.redis.xgroup('CREATE', this.keys.events, EVENTS_GROUP, '0', 'MKSTREAM');
    } catch (e) {
      if (!(e as Error).message.includes('BUSYGROUP')) throw e;
    }
  }

  /** Entries delivered to a consumer that died before acknowledging them. */
  private async claimAbandoned(): Promise<void> {
    let cursor = '0-0';
    do {
      const [next, entries] = (await this.redis.xautoclaim(
        this.keys.events,
        EVENTS_GROUP,
        this.consumer,
        this.options.claimIdleMs,
        cursor,
        'COUNT',
        100,
      )) as [string, [string, string[] | null][], string[]?];
      await this.handle(entries);
      cursor = next;
    } while (cursor !== '0-0' && this.running);
  }

  /**
   * Consumers are named host-pid, so every gateway that ever ran leaves one in the group. One
   * idle three times past the claim threshold plus a blocking read is long dead (a live one
   * reads every blockMs); once nothing is pending on it (claimed above) it is deleted.
   */
  private async forgetDeadConsumers(): Promise<void> {
    const consumers = (await this.redis.xinfo('CONSUMERS', this.keys.events, EVENTS_GROUP)) as unknown[][];
    const deadAfterMs = 3 * (this.options.claimIdleMs + this.options.blockMs);
    for (const fields of consumers) {
      const info = new Map<unknown, unknown>();
      for (let i = 0; i + 1 < fields.length; i += 2) info.set(fields[i], fields[i + 1]);
      const name = info.get('name');
      if (typeof name !== 'string' || name === this.consumer) continue;
      if (Number(info.get('pending')) === 0 && Number(info.get('idle')) > deadAfterMs)
        await this.redis.xgroup('DELCONSUMER', this.keys.events, EVENTS_GROUP, name);
    }
  }

  private async handle(entries: [string, string[] | null][]): Promise<void> {
    for (const [streamId, fields] of entries) {
      // Null fields: the entry was trimmed from the stream before we could read it.
      const event = fields ? parseEventFields(fields) : undefined;
      if (event && STATUS_OF[event.type]) {
        const effects = await this.apply(event);
        // After the commit: live subscribers and webhooks. A crash here loses no record: the
        // tenant events are in PostgreSQL, and the unacknowledged entry comes back (claimed by
        // another gateway or this one restarted), which enqueues the pending deliveries again.
        await this.publisher.published(effects.tenantEvents, effects.deliveries);
      } else {
        this.logger.warn({ stream_id: streamId }, 'skipping a malformed event');
      }
      await this.redis.xack(this.keys.events, EVENTS_GROUP, streamId);
    }
  }

  /** One event, one transaction. */
  private async apply(event: ClientEvent): Promise<Effects> {
    const effects: Effects = { tenantEvents: [], deliveries: [] };
    await this.db.transaction(async (tx) => {
      const claimed = await tx.query<unknown[]>(
        'INSERT INTO processed_events (event_id) VALUES ($1) ON CONFLICT DO NOTHING RETURNING event_id',
        [event.id],
      );
      if (claimed.length === 0) {
        // Done before: at least once in, once in effect. A gateway that died between the commit
        // and the acknowledgement may not have enqueued the webhooks: enqueue what is still
        // pending (idempotent, the job id is the delivery id) rather than wait for the sweep.
        effects.deliveries = await this.pendingDeliveries(tx, event.id);
        return;
      }
      await this.record(tx, event);
      const [{ now }] = await tx.query<[{ now: Date }]>('SELECT now() AS now');
      switch (event.type) {
        case 'client.gone':
        case 'client.invalid': {
          const tenants = await this.activeTenants(tx, event.client_id);
          await this.revoke(tx, event, tenants, event.type, now, effects, {});
          break;
        }
        case 'client.changed': {
          const changes = ((event.data as { changes?: DocumentChange[] }).changes ?? []).filter(Boolean);
          for (const tenant of await this.activeTenants(tx, event.client_id)) {
            const policy = (await this.policies.current(tenant))?.policy;
            const revokeFor = policy ? changes.filter((c) => policy.on_change[c] === 'revoke') : [];
            if (revokeFor.length > 0) {
              await this.revoke(tx, event, [tenant], `client.changed:${revokeFor.join(',')}`, now, effects, {
                changes,
              });
            } else {
              await this.tenantEvent(
                tx,
                tenant,
                'client.changed',
                event,
                { changes, cause_event_id: event.id },
                effects,
              );
            }
          }
          break;
        }
        case 'client.restored': {
          const rows = await tx.query<{ tenant_id: string }[]>(
            'SELECT DISTINCT tenant_id FROM sessions WHERE client_id = $1',
            [event.client_id],
          );
          for (const { tenant_id } of rows) {
            await this.tenantEvent(tx, tenant_id, 'client.restored', event, { cause_event_id: event.id }, effects);
          }
          break;
        }
        default:
          break;
      }
    });
    return effects;
  }

  /** Webhook deliveries caused by this event that are still pending, with what enqueueing them needs. */
  private async pendingDeliveries(tx: EntityManager, eventId: string): Promise<Effects['deliveries']> {
    const rows = await tx.query<
      {
        id: string;
        tenant_id: string;
        url: string;
        event_id: string;
        type: string;
        client_id: string | null;
        data: Record<string, unknown>;
        created_at: Date;
      }[]
    >(
      `SELECT d.id, d.tenant_id, d.url, e.id AS event_id, e.type, e.client_id, e.data, e.created_at
       FROM webhook_deliveries d JOIN tenant_events e ON e.id = d.tenant_event_id
       WHERE d.status = 'pending' AND e.data->>'cause_event_id' = $1`,
      [eventId],
    );
    const deliveries: Effects['deliveries'] = [];
    for (const r of rows) {
      const webhook = (await this.policies.current(r.tenant_id))?.policy.webhook;
      // No webhook any more: the sweep settles the delivery as dead.
      if (!webhook) continue;
      const event: TenantEvent = {
        id: String(r.event_id),
        tenant: r.tenant_id,
        type: r.type,
        time: r.created_at.toISOString(),
        client_id: r.client_id,
        data: r.data,
      };
      deliveries.push({ id: r.id, event, url: r.url, secret: webhook.secret });
    }
    return deliveries;
  }

  private async activeTenants(tx: EntityManager, clientId: string): Promise<string[]> {
    const rows = await tx.query<
      {
        tenant_id: string;
      }[]
    >('SELECT DISTINCT tenant_id FROM sessions WHERE client_id = $1 AND revoked_at IS NULL', [clientId]);
    return rows.map((r) => r.tenant_id);
  }

  /**
   * End every active session of the client in these tenants: one statement, whatever the count.
   * The Redis marks that make session checks see it are set first, inside the transaction,
   * so a failure rolls back to "retry" rather than "revoked in the database, active in Redis".
   */
  private async revoke(
    tx: EntityManager,
    event: ClientEvent,
    tenants: string[],
    reason: string,
    now: Date,
    effects: Effects,
    extra: Record<string, unknown>,
  ): Promise<void> {
    if (tenants.length === 0) return;
    const mark: ClientRevocation = { at: now.getTime(), reason };
    const pipeline = this.commands.multi();
    for (const tenant of tenants)
      pipeline.set(this.keys.clientRevocation(tenant, event.client_id), JSON.stringify(mark), 'PX', REVOCATION_TTL_MS);
    const marked = await pipeline.exec();
    if (!marked || marked.some(([err]) => err)) throw new Error('could not set the revocation marks in Redis');

    const counts = await tx.query<{ tenant_id: string; sessions: number }[]>(
      `WITH revoked AS (
         UPDATE sessions SET revoked_at = $2, revoke_reason = $3
         WHERE client_id = $1 AND revoked_at IS NULL AND tenant_id = ANY($4)
         RETURNING tenant_id)
       SELECT tenant_id, count(*)::int AS sessions FROM revoked GROUP BY tenant_id`,
      [event.client_id, now, reason, tenants],
    );
    for (const { tenant_id, sessions } of counts) {
      await tx.query(
        'INSERT INTO revocations (tenant_id, client_id, reason, cause_event_id, sessions) VALUES ($1, $2, $3, $4, $5)',
        [tenant_id, event.client_id, reason, event.id, sessions],
      );
      await this.tenantEvent(
        tx,
        tenant_id,
        'session.revoked',
        event,
        { sessions, reason, cause_event_id: event.id, ...extra },
        effects,
      );
    }
    this.logger.info({ client_id: event.client_id, reason, tenants: counts }, 'revoked the sessions of a client');
  }

  private async tenantEvent(
    tx: EntityManager,
    tenantId: string,
    type: string,
    cause: ClientEvent,
    data: Record<string, unknown>,
    effects: Effects,
  ): Promise<void> {
    const [row] = await tx.query<[{ id: string; created_at: Date }]>(
      'INSERT INTO tenant_events (tenant_id, type, client_id, data) VALUES ($1, $2, $3, $4) RETURNING id, created_at',
      [tenantId, type, cause.client_id, JSON.stringify(data)],
    );
    const event: TenantEvent = {
      id: String(row.id),
      tenant: tenantId,
      type,
      time: row.created_at.toISOString(),
      client_id: cause.client_id,
      data,
    };
    effects.tenantEvents.push(event);
    const webhook = (await this.policies.current(tenantId))?.policy.webhook;
    if (webhook) {
      const id = randomUUID();
      await tx.query(
        "INSERT INTO webhook_deliveries (id, tenant_id, tenant_event_id, url, status) VALUES ($1, $2, $3, $4, 'pending')",
        [id, tenantId, row.id, webhook.url],
      );
      effects.deliveries.push({ id, event, url: webhook.url, secret: webhook.secret });
    }
  }

  /** The clients registry: first seen, status, last event and last change. Older events change nothing. */
  private async record(tx: EntityManager, event: ClientEvent): Promise<void> {
    const at = new Date(event.time);
    const changes = event.type === 'client.changed' ? ((event.data as { changes?: string[] }).changes ?? []) : null;
    await tx.query(
      `INSERT INTO clients (client_id, first_seen_at, status, last_event, last_event_at, last_changed_at, last_changes)
       VALUES ($1, $2, $3, $4, $2, $5, $6)
       ON CONFLICT (client_id) DO UPDATE SET
         status = EXCLUDED.status,
         last_event = EXCLUDED.last_event,
         last_event_at = EXCLUDED.last_event_at,
         last_changed_at = COALESCE(EXCLUDED.last_changed_at, clients.last_changed_at),
         last_changes = COALESCE(EXCLUDED.last_changes, clients.last_changes),
         first_seen_at = LEAST(clients.first_seen_at, EXCLUDED.first_seen_at)
       WHERE clients.last_event_at <= EXCLUDED.last_event_at`,
      [
        event.client_id,
        at,
        STATUS_OF[event.type],
        event.type,
        changes ? at : null,
        changes ? JSON.stringify(changes) : null,
      ],
    );
  }
}
