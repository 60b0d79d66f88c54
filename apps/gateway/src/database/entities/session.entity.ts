import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { TenantEntity } from './tenant.entity';

/** A session (grant) an authorization server gave a client, registered so it can be revoked with the client. */
@Entity({ name: 'sessions' })
@Index('idx_sessions_active_client', ['clientId'], { where: 'revoked_at IS NULL' })
export class SessionEntity {
  @PrimaryColumn({ name: 'tenant_id', type: 'varchar', length: 63 })
  tenantId!: string;

  @PrimaryColumn({ name: 'session_id', type: 'varchar', length: 256 })
  sessionId!: string;

  @Column({ name: 'client_id', type: 'text' })
  clientId!: string;

  @Column({ type: 'varchar', length: 256, nullable: true })
  subject!: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'expires_at', type: 'timestamptz', nullable: true })
  expiresAt!: Date | null;

  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true })
  revokedAt!: Date | null;

  /** Why: `api` (revoked by the tenant), `client.gone`, `client.invalid`, `client.changed:<kind>`. */
  @Column({ name: 'revoke_reason', type: 'varchar', length: 96, nullable: true })
  revokeReason!: string | null;

  @ManyToOne(() => TenantEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'tenant_id' })
  tenant?: TenantEntity;
}
