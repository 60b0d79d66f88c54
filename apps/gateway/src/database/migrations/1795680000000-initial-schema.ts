import { MigrationInterface, QueryRunner } from 'typeorm';

/** Tenants, their versioned policies and API keys, and the registry of clients seen. */
export class InitialSchema1795680000000 implements MigrationInterface {
  name = 'InitialSchema1795680000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE TABLE "tenants" ("id" character varying(63) NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_53be67a04681c66b87ee27c9321" PRIMARY KEY ("id"))`,
    );
    await q.query(
      `CREATE TABLE "tenant_policies" ("tenant_id" character varying(63) NOT NULL, "version" integer NOT NULL, "policy" jsonb NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_99a0dbfc67be879f2a32406d60a" PRIMARY KEY ("tenant_id", "version"))`,
    );
    await q.query(
      `CREATE TABLE "api_keys" ("id" uuid NOT NULL, "tenant_id" character varying(63) NOT NULL, "secret_hash" character(64) NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "revoked_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_5c8a79801b44bd27b79228e1dad" PRIMARY KEY ("id"))`,
    );
    await q.query(`CREATE INDEX "idx_api_keys_tenant" ON "api_keys" ("tenant_id") `);
    await q.query(
      `CREATE TABLE "clients" ("client_id" text NOT NULL, "first_seen_at" TIMESTAMP WITH TIME ZONE NOT NULL, "status" character varying(16) NOT NULL, "last_event" character varying(32) NOT NULL, "last_event_at" TIMESTAMP WITH TIME ZONE NOT NULL, "last_changed_at" TIMESTAMP WITH TIME ZONE, "last_changes" jsonb, CONSTRAINT "PK_49e91f1e368e3f760789e7764aa" PRIMARY KEY ("client_id"))`,
    );
    await q.query(
      `ALTER TABLE "api_keys" ADD CONSTRAINT "FK_3ac18429c8d27858d79432e0dda" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await q.query(
      `ALTER TABLE "tenant_policies" ADD CONSTRAINT "FK_58ec40a3798868a2a01a8ba020e" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "tenant_policies" DROP CONSTRAINT "FK_58ec40a3798868a2a01a8ba020e"`);
    await q.query(`ALTER TABLE "api_keys" DROP CONSTRAINT "FK_3ac18429c8d27858d79432e0dda"`);
    await q.query(`DROP TABLE "clients"`);
    await q.query(`DROP INDEX "public"."idx_api_keys_tenant"`);
    await q.query(`DROP TABLE "api_keys"`);
    await q.query(`DROP TABLE "tenant_policies"`);
    await q.query(`DROP TABLE "tenants"`);
  }
}
