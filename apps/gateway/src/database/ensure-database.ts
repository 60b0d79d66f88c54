import { Client, escapeIdentifier } from 'pg';

/**
 * Create the configured database when it does not exist yet, so that `npm start` works on a
 * fresh machine. Only outside production: there the database is provisioned, not guessed.
 */
export async function ensureDatabase(databaseUrl: string): Promise<boolean> {
  const target = new URL(databaseUrl);
  const name = decodeURIComponent(target.pathname.replace(/^\//, ''));
  if (name === '' || name === 'postgres') return false;
  const admin = new URL(databaseUrl);
  admin.pathname = '/postgres';
  const client = new Client({ connectionString: admin.toString(), connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount) return false;
    try {
      await client.query(`CREATE DATABASE ${escapeIdentifier(name)}`);
    } catch (e) {
      // Another process created it between our check and our CREATE.
      if ((e as { code?: string }).code !== '42P04') throw e;
      return false;
    }
    return true;
  } finally {
    await client.end();
  }
}
