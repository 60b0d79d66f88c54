import { CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/** One authorization server sharing this deployment. */
@Entity({ name: 'tenants' })
export class TenantEntity {
  @PrimaryColumn({ type: 'varchar', length: 63 })
  id!: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
