import { InjectLogger } from '@cimd/runtime';
import { DynamicModule, Global, Inject, Injectable, Module, OnModuleInit } from '@nestjs/common';
import { InjectDataSource, TypeOrmModule } from '@nestjs/typeorm';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import type { GatewayConfig } from '../gateway-config';
import { dataSourceOptions } from './data-source';

const MIGRATE = Symbol('MIGRATE');

/** CIMD_MIGRATE=auto (the development default): bring the schema up to date before anything uses it. */
@Injectable()
class MigrateAtStart implements OnModuleInit {
  constructor(
    @Inject(MIGRATE) private readonly mode: GatewayConfig['migrate'],
    @InjectDataSource() private readonly db: DataSource,
    @InjectLogger() private readonly logger: Logger,
  ) {}

  async onModuleInit(): Promise<void> {
    if (this.mode !== 'auto') return;
    const ran = await this.db.runMigrations({ transaction: 'each' });
    if (ran.length > 0) this.logger.info({ migrations: ran.map((m) => m.name) }, 'applied migrations');
  }
}

/**
 * PostgreSQL through @nestjs/typeorm. The schema comes from migrations only (never
 * `synchronize`): applied at start when CIMD_MIGRATE is auto, by `npm run migrate` otherwise.
 * A database that does not answer at start fails the start at once (no retries): the
 * orchestrator restarts the process, and readiness says why meanwhile.
 */
@Global()
@Module({})
export class DatabaseModule {
  static forRoot(config: Pick<GatewayConfig, 'databaseUrl' | 'migrate'>): DynamicModule {
    return {
      module: DatabaseModule,
      imports: [TypeOrmModule.forRoot({ ...dataSourceOptions(config.databaseUrl), retryAttempts: 0 })],
      providers: [{ provide: MIGRATE, useValue: config.migrate }, MigrateAtStart],
      exports: [TypeOrmModule],
    };
  }
}
