import { MigrationInterface, QueryRunner } from 'typeorm';

/** Sessions, the revocation record, tenant events and webhook deliveries, and the consumer's idempotency table. */
export class SessionsAndEvents1795690000000 implements MigrationInterface {
  name = 'SessionsAndEvents1795690000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE TABLE "processed_events" ("event_id" uuid NOT NULL, "processed_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_585a690352092645ee665d70ac2" PRIMARY KEY ("event_id"))`,
    );
    await q.query(
      `CREATE TABLE "revocations" ("id" BIGSERIAL NOT NULL, "tenant_id" character varying(63) NOT NULL, "client_id" text NOT NULL, "reason" character varying(96) NOT NULL, "cause_event_id" uuid, "sessions" integer NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_9f70c460c05775181f4a3527833" PRIMARY KEY ("id"))`,
    );
    await q.query(
      `CREATE TABLE "tenant_events" ("id" BIGSERIAL NOT NULL, "tenant_id" character varying(63) NOT NULL, "type" character varying(32) NOT NULL, "client_id" text, "data" jsonb NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_b504bc6fdc39949314b502ea6a9" PRIMARY KEY ("id"))`,
    );
    await q.query(`CREATE INDEX "idx_tenant_events_tenant_id" ON "tenant_events" ("tenant_id", "id") `);
    await q.query(
      `CREATE TABLE "webhook_deliveries" ("id" uuid NOT NULL, "tenant_id" character varying(63) NOT NULL, "tenant_event_id" bigint NOT NULL, "url" text NOT NULL, "status" character varying(16) NOT NULL, "attempts" integer NOT NULL DEFAULT '0', "last_status" integer, "last_error" text, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "delivered_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_535dd409947fb6d8fc6dfc0112a" PRIMARY KEY ("id"))`,
    );
    await q.query(`CREATE INDEX "idx_webhook_deliveries_status" ON "webhook_deliveries" ("status", "created_at") `);
    await q.query(
      `CREATE TABLE "sessions" ("tenant_id" character varying(63) NOT NULL, "session_id" character varying(256) NOT NULL, "client_id" text NOT NULL, "subject" character varying(256), "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "expires_at" TIMESTAMP WITH TIME ZONE, "revoked_at" TIMESTAMP WITH TIME ZONE, "revoke_reason" character varying(96), CONSTRAINT "PK_005140a102af64ede4513c21bd9" PRIMARY KEY ("tenant_id", "session_id"))`,
    );
    // Bulk revocation finds a client's active sessions through this partial index.
    await q.query(`CREATE INDEX "idx_sessions_active_client" ON "sessions" ("client_id") WHERE revoked_at IS NULL`);
    await q.query(
      `ALTER TABLE "sessions" ADD CONSTRAINT "FK_22aa22eb69a1e6826a1f58902d1" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "sessions" DROP CONSTRAINT "FK_22aa22eb69a1e6826a1f58902d1"`);
    await q.query(`DROP INDEX "public"."idx_sessions_active_client"`);
    await q.query(`DROP TABLE "sessions"`);
    await q.query(`DROP INDEX "public"."idx_webhook_deliveries_status"`);
    await q.query(`DROP TABLE "webhook_deliveries"`);
    await q.query(`DROP INDEX "public"."idx_tenant_events_tenant_id"`);
    await q.query(`DROP TABLE "tenant_events"`);
    await q.query(`DROP TABLE "revocations"`);
    await q.query(`DROP TABLE "processed_events"`);
  }
}
