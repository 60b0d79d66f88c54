import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { INestApplicationContext } from '@nestjs/common';
import { ConfigError, createLogger, PinoNestLogger } from '@cimd/runtime';
import { FetcherConfig, loadFetcherConfig } from './fetcher-config';
import { FetcherModule } from './fetcher.module';

export async function createFetcherApp(config: FetcherConfig): Promise<INestApplicationContext> {
  const logger = createLogger('fetcher', config.logLevel);
  const app = await NestFactory.createApplicationContext(FetcherModule.forRoot(config, logger), {
    logger: new PinoNestLogger(logger),
  });
  app.enableShutdownHooks();
  return app;
}

async function bootstrap(): Promise<void> {
  let config: FetcherConfig;
  try {
    config = loadFetcherConfig(process.env);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`fetcher: ${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
  const app = await createFetcherApp(config);
  await app.init();
  const port = app.get(FetcherModule).listeningPort;
  createLogger('fetcher', config.logLevel).info(
    {
      health: `http://127.0.0.1:${port}/healthz`,
      metrics: `http://127.0.0.1:${port}/metrics`,
      concurrency: config.concurrency,
    },
    'fetcher started',
  );
}

if (require.main === module) {
  bootstrap().catch((e: unknown) => {
    process.stderr.write(`fetcher: failed to start: ${(e as Error).message}\n`);
    process.exit(1);
  });
}
