import { MigrationInterface, QueryRunner } from 'typeorm';

/** The clients each tenant has asked about (the operator console's lists, the policy dry run), and a client's events per tenant. */
export class TenantClients1795700000000 implements MigrationInterface {
  name = 'TenantClients1795700000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE TABLE "tenant_clients" ("tenant_id" character varying(63) NOT NULL, "client_id" text NOT NULL, "first_seen_at" TIMESTAMP WITH TIME ZONE NOT NULL, "last_seen_at" TIMESTAMP WITH TIME ZONE NOT NULL, "checks" integer NOT NULL DEFAULT '0', "last_decision" character varying(16) NOT NULL, "last_reason" character varying(100), "last_request" jsonb NOT NULL, CONSTRAINT "PK_e5b3aa7283c02d0850270662f48" PRIMARY KEY ("tenant_id", "client_id"))`,
    );
    await q.query(`CREATE INDEX "idx_tenant_clients_last_seen" ON "tenant_clients" ("tenant_id", "last_seen_at") `);
    await q.query(
      `ALTER TABLE "tenant_clients" ADD CONSTRAINT "FK_fb26eccd2e4381120ed1f5b5a4e" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await q.query(
      `CREATE INDEX "idx_tenant_events_tenant_client" ON "tenant_events" ("tenant_id", "client_id", "id") `,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX "public"."idx_tenant_events_tenant_client"`);
    await q.query(`ALTER TABLE "tenant_clients" DROP CONSTRAINT "FK_fb26eccd2e4381120ed1f5b5a4e"`);
    await q.query(`DROP INDEX "public"."idx_tenant_clients_last_seen"`);
    await q.query(`DROP TABLE "tenant_clients"`);
  }
}
