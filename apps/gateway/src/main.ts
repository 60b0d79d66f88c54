import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { ConfigError, createLogger, PinoNestLogger } from '@cimd/runtime';
import { GatewayConfig, loadGatewayConfig } from './gateway-config';
import { GatewayModule } from './gateway.module';
import { ensureDatabase } from './infra/postgres';

/** Largest request body accepted; authorize checks and policies are a few hundred bytes. */
export const BODY_LIMIT_BYTES = 64 * 1024;

export async function createGatewayApp(config: GatewayConfig): Promise<NestFastifyApplication> {
  const logger = createLogger('gateway', config.logLevel);
  const app = await NestFactory.create<NestFastifyApplication>(
    GatewayModule.forRoot(config, logger),
    new FastifyAdapter({ bodyLimit: BODY_LIMIT_BYTES }),
    { logger: new PinoNestLogger(logger), bufferLogs: false },
  );
  app.enableShutdownHooks();
  return app;
}

async function bootstrap(): Promise<void> {
  let config: GatewayConfig;
  try {
    config = loadGatewayConfig(process.env);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`gateway: ${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
  const logger = createLogger('gateway', config.logLevel);
  if (config.nodeEnv !== 'production') {
    try {
      if (await ensureDatabase(config.databaseUrl)) logger.info('created the database named in DATABASE_URL');
    } catch (e) {
      logger.warn({ err: (e as Error).message }, 'could not check or create the database; readiness will report it');
    }
  }
  const app = await createGatewayApp(config);
  await app.listen(config.port, config.host);
  logger.info({ url: `http://127.0.0.1:${config.port}`, health: '/healthz', ready: '/readyz' }, 'gateway listening');
}

if (require.main === module) {
  bootstrap().catch((e: unknown) => {
    process.stderr.write(`gateway: failed to start: ${(e as Error).message}\n`);
    process.exit(1);
  });
}
