import pino from 'pino';
import { loadConfig } from './config';
import { startMcpServer } from './server';

const logger = pino({ name: 'mcp-server', level: process.env.LOG_LEVEL ?? 'info' });

startMcpServer(loadConfig(process.env), logger)
  .then((running) => {
    const stop = () => void running.close().then(() => process.exit(0));
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  })
  .catch((e: unknown) => {
    logger.fatal({ err: e instanceof Error ? e.message : String(e) }, 'MCP server stopped');
    process.exit(1);
  });
