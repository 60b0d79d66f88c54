import { DataSource, DataSourceOptions } from 'typeorm';
import { ENTITIES } from './entities';
import { MIGRATIONS } from './migrations';

/**
 * The gateway's PostgreSQL through TypeORM. The schema comes only from migrations
 * (`npm run migrate`, or at start with CIMD_MIGRATE=auto), never from `synchronize`.
 */
export function dataSourceOptions(databaseUrl: string): DataSourceOptions {
  return {
    type: 'postgres',
    url: databaseUrl,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'typeorm_migrations',
    synchronize: false,
    // Errors reach the caller (and our JSON logs) as exceptions; TypeORM's console logging would duplicate them with parameters.
    logging: false,
    extra: { max: 10, connectionTimeoutMillis: 2000, idleTimeoutMillis: 30_000 },
  };
}

/** A DataSource outside Nest: `npm run migrate` and the schema tests. */
export function createDataSource(databaseUrl: string): DataSource {
  return new DataSource(dataSourceOptions(databaseUrl));
}
