import { MigrationInterface, QueryRunner } from 'typeorm';

/** Processed client events are forgotten by age, in batches: each batch an index range, not a table scan. */
export class ProcessedEventsAge1795710000000 implements MigrationInterface {
  name = 'ProcessedEventsAge1795710000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX "idx_processed_events_processed_at" ON "processed_events" ("processed_at") `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX "public"."idx_processed_events_processed_at"`);
  }
}
