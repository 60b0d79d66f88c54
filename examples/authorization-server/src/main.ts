import pino from 'pino';
import { loadConfig } from './config';
import { startAuthorizationServer } from './server';

const logger = pino({ name: 'authorization-server', level: process.env.LOG_LEVEL ?? 'info' });

async function main(): Promise<void> {
  const running = await startAuthorizationServer(loadConfig(process.env), logger);
  const stop = () => void running.close().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  // An AS that no longer hears revocations stops rather than go on issuing tokens.
  await running.revocations;
}

main().catch((e: unknown) => {
  logger.fatal({ err: e instanceof Error ? e.message : String(e) }, 'authorization server stopped');
  process.exit(1);
});
