import 'reflect-metadata';
import { ConfigError, Env, parseEnv, url } from '@cimd/runtime';
import { z } from 'zod';
import { ensureDatabase } from './ensure-database';
import { createDataSource } from './data-source';

/** `npm run migrate`: bring DATABASE_URL's schema up to date and exit. */
export async function migrate(databaseUrl: string, createIfMissing: boolean): Promise<string[]> {
  if (createIfMissing) await ensureDatabase(databaseUrl);
  const ds = createDataSource(databaseUrl);
  await ds.initialize();
  try {
    const ran = await ds.runMigrations({ transaction: 'each' });
    return ran.map((m) => m.name);
  } finally {
    await ds.destroy();
  }
}

if (require.main === module) {
  const env: Env = process.env;
  let e: { DATABASE_URL: string; NODE_ENV: string };
  try {
    e = parseEnv(
      z.object({
        DATABASE_URL: url('postgres://postgres@127.0.0.1:5432/cimd', ['postgres:', 'postgresql:']),
        NODE_ENV: z.string().default('development'),
      }),
      env,
    );
  } catch (err) {
    process.stderr.write(`migrate: ${(err as ConfigError).message}\n`);
    process.exit(2);
  }
  migrate(e.DATABASE_URL, e.NODE_ENV !== 'production').then(
    (ran) => process.stdout.write(ran.length > 0 ? `applied: ${ran.join(', ')}\n` : 'the schema is up to date\n'),
    (err: Error) => {
      process.stderr.write(`migrate: ${err.message}\n`);
      process.exit(1);
    },
  );
}
