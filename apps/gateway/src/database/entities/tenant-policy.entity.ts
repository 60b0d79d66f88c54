import { Column, CreateDateColumn, Entity, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { TenantEntity } from './tenant.entity';

/** Every version of a tenant's policy is kept; the highest is in force. */
@Entity({ name: 'tenant_policies' })
export class TenantPolicyEntity {
  @PrimaryColumn({ name: 'tenant_id', type: 'varchar', length: 63 })
  tenantId!: string;

  @PrimaryColumn({ type: 'integer' })
  version!: number;

  /** The policy as given (validated), without defaults filled in, so later defaults apply. */
  @Column({ type: 'jsonb' })
  policy!: Record<string, unknown>;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @ManyToOne(() => TenantEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'tenant_id' })
  tenant?: TenantEntity;
}
