import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { ConfigError, createLogger, FetcherConfig, loadFetcherConfig, PinoNestLogger } from '@cimd/runtime';
import { FetcherModule } from './fetcher.module';

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
  const logger = createLogger('fetcher', config.logLevel);
  const app = await NestFactory.createApplicationContext(FetcherModule.forRoot(config), {
    logger: new PinoNestLogger(logger),
  });
  app.enableShutdownHooks();
  await app.init();
  const port = app.get(FetcherModule).listeningPort;
  logger.info({ health: `http://127.0.0.1:${port}/healthz` }, 'fetcher started');
}

if (require.main === module) {
  bootstrap().catch((e: unknown) => {
    process.stderr.write(`fetcher: failed to start: ${(e as Error).message}\n`);
    process.exit(1);
  });
}
