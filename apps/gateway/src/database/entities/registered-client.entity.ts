import { Column, Entity, PrimaryColumn } from 'typeorm';

/** The registry of clients this deployment has seen, fed by the fetcher's events. */
@Entity({ name: 'clients' })
export class RegisteredClientEntity {
  /** The exact client_id string (SPEC-NOTES 9). */
  @PrimaryColumn({ name: 'client_id', type: 'text' })
  clientId!: string;

  @Column({ name: 'first_seen_at', type: 'timestamptz' })
  firstSeenAt!: Date;

  /** valid, invalid or gone. */
  @Column({ type: 'varchar', length: 16 })
  status!: string;

  /** The event type that last changed this row (client.fetched, client.gone, …). */
  @Column({ name: 'last_event', type: 'varchar', length: 32 })
  lastEvent!: string;

  @Column({ name: 'last_event_at', type: 'timestamptz' })
  lastEventAt!: Date;

  @Column({ name: 'last_changed_at', type: 'timestamptz', nullable: true })
  lastChangedAt!: Date | null;

  /** The significant fields of the latest change (SPEC-NOTES 23). */
  @Column({ name: 'last_changes', type: 'jsonb', nullable: true })
  lastChanges!: string[] | null;
}
