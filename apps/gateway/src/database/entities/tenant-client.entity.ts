import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { TenantEntity } from './tenant.entity';

/**
 * The clients each tenant has asked about (authorize checks), with its last decision and the
 * request that got it: what an operator's console lists for a tenant, and what a policy dry
 * run judges again. Written in batches, never on the authorize check's own time.
 */
@Entity({ name: 'tenant_clients' })
@Index('idx_tenant_clients_last_seen', ['tenantId', 'lastSeenAt'])
export class TenantClientEntity {
  @PrimaryColumn({ name: 'tenant_id', type: 'varchar', length: 63 })
  tenantId!: string;

  /** The exact client_id string (SPEC-NOTES 9). */
  @PrimaryColumn({ name: 'client_id', type: 'text' })
  clientId!: string;

  @Column({ name: 'first_seen_at', type: 'timestamptz' })
  firstSeenAt!: Date;

  @Column({ name: 'last_seen_at', type: 'timestamptz' })
  lastSeenAt!: Date;

  @Column({ type: 'integer', default: 0 })
  checks!: number;

  /** allow, deny or pending. */
  @Column({ name: 'last_decision', type: 'varchar', length: 16 })
  lastDecision!: string;

  /** The rule code of the last decision, if it had one. */
  @Column({ name: 'last_reason', type: 'varchar', length: 100, nullable: true })
  lastReason!: string | null;

  /** The last authorize check's parameters (redirect_uri, response_type, scope, code_challenge_method). */
  @Column({ name: 'last_request', type: 'jsonb' })
  lastRequest!: Record<string, string>;

  @ManyToOne(() => TenantEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'tenant_id' })
  tenant?: TenantEntity;
}
