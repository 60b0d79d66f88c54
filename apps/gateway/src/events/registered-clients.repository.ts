import type { ClientEvent, ClientStatus } from '@cimd/core';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';

/** Rows deleted per statement when forgetting processed events: short transactions, whatever the backlog. */
const FORGET_BATCH = 5000;

const STATUS_OF: Record<ClientEvent['type'], ClientStatus> = {
  'client.fetched': 'valid',
  'client.changed': 'valid',
  'client.restored': 'valid',
  'client.invalid': 'invalid',
  'client.gone': 'gone',
};

/**
 * The registry of clients this deployment has seen (`clients`), fed by the client events, and
 * the events already acted on (`processed_events`), the consumer's idempotency record.
 */
@Injectable()
export class RegisteredClientsRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** Claim an event for processing; false when it was processed before. */
  async claim(manager: EntityManager, eventId: string): Promise<boolean> {
    const claimed = await manager.query<unknown[]>(
      'INSERT INTO processed_events (event_id) VALUES ($1) ON CONFLICT DO NOTHING RETURNING event_id',
      [eventId],
    );
    return claimed.length > 0;
  }

  /** First seen, status, last event and last change. An older event than the one recorded changes nothing. */
  async record(manager: EntityManager, event: ClientEvent): Promise<void> {
    const at = new Date(event.time);
    const changes = event.type === 'client.changed' ? event.data.changes : null;
    await manager.query(
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

  /** Forget the events processed before `before` (they can no longer be delivered again); how many went. */
  async forgetProcessedBefore(before: Date): Promise<number> {
    let forgotten = 0;
    for (;;) {
      const [, count] = await this.db.query<[unknown, number]>(
        `DELETE FROM processed_events WHERE event_id IN
           (SELECT event_id FROM processed_events WHERE processed_at < $1 LIMIT ${FORGET_BATCH})`,
        [before.toISOString()],
      );
      forgotten += count;
      if (count < FORGET_BATCH) return forgotten;
    }
  }
}
