import 'reflect-metadata';
import { createAppLogger, PinoNestLogger, runMain } from '@cimd/runtime';
import { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FetcherConfig, loadFetcherConfig } from './fetcher-config';
import { FetcherModule } from './fetcher.module';
import { HealthServer } from './health/health-server';

export async function createFetcherApp(config: FetcherConfig): Promise<INestApplicationContext> {
  const logger = createAppLogger('fetcher', config);
  const app = await NestFactory.createApplicationContext(FetcherModule.forRoot(config, logger), {
    logger: new PinoNestLogger(logger),
  });
  app.enableShutdownHooks();
  return app;
}

async function start(config: FetcherConfig): Promise<void> {
  const app = await createFetcherApp(config);
  await app.init();
  const port = app.get(HealthServer).port;
  createAppLogger('fetcher', config).info(
    {
      health: `http://127.0.0.1:${port}/healthz`,
      metrics: `http://127.0.0.1:${port}/metrics`,
      concurrency: config.concurrency,
    },
    'fetcher started',
  );
}

if (require.main === module) runMain('fetcher', loadFetcherConfig, start);
