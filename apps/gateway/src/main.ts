import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { ConfigError, createLogger, PinoNestLogger } from '@cimd/runtime';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { GatewayConfig, loadGatewayConfig } from './gateway-config';
import { GatewayModule } from './gateway.module';
import { connectGrpc } from './grpc/grpc-server';
import { ensureDatabase } from './infra/postgres';
import { GatewayMetrics } from './observability/gateway-metrics';

/** Largest request body accepted; authorize checks and policies are a few hundred bytes. */
export const BODY_LIMIT_BYTES = 64 * 1024;

export async function createGatewayApp(config: GatewayConfig): Promise<NestFastifyApplication> {
  const logger = createLogger('gateway', config.logLevel);
  const adapter = new FastifyAdapter({
    bodyLimit: BODY_LIMIT_BYTES,
    routerOptions: { maxParamLength: 512 },
    // Errors Fastify answers before any route (and so before Nest's filters) get the same body shape.
    frameworkErrors: (error: FastifyError, _request: FastifyRequest, reply: FastifyReply) => {
      void reply.status(error.statusCode ?? 400).send({
        error: 'invalid_request',
        error_description:
          error.code === 'FST_ERR_MAX_PARAM_LENGTH'
            ? 'a path segment is longer than 512 characters'
            : 'the request URL is malformed (bad percent-encoding)',
      });
    },
  });
  const app = await NestFactory.create<NestFastifyApplication>(GatewayModule.forRoot(config, logger), adapter, {
    logger: new PinoNestLogger(logger),
    // JSON only: no form parser, so a form-encoded body is a 415, not a silently accepted request.
    bodyParser: false,
  });
  app.enableShutdownHooks();

  const metrics = app.get(GatewayMetrics);
  const fastify = app.getHttpAdapter().getInstance();
  fastify.addHook('onResponse', (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
    metrics.requests.observe(
      {
        route: request.routeOptions.url ?? 'unmatched',
        method: request.method,
        status: String(reply.statusCode),
        decision: (request as FastifyRequest & { decision?: string }).decision ?? '',
      },
      reply.elapsedTime / 1000,
    );
    done();
  });

  const openapi = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('cimd-gateway')
      .setDescription('Client ID Metadata Documents for multi-tenant OAuth authorization servers')
      .setVersion('1')
      .addBearerAuth()
      .build(),
  );
  SwaggerModule.setup('docs', app, openapi, { jsonDocumentUrl: 'docs/openapi.json' });
  // cimd.v1.Gateway on GRPC_PORT: serving after app.startAllMicroservices(), closed by app.close().
  connectGrpc(app, config);
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
      logger.warn({ err: (e as Error).message }, 'could not check or create the database');
    }
  }
  const app = await createGatewayApp(config);
  await app.listen(config.port, config.host);
  await app.startAllMicroservices();
  logger.info(
    {
      api: `http://127.0.0.1:${config.port}/v1`,
      docs: `http://127.0.0.1:${config.port}/docs`,
      metrics: `http://127.0.0.1:${config.port}/metrics`,
      grpc: `127.0.0.1:${config.grpcPort}`,
    },
    'gateway listening',
  );
}

if (require.main === module) {
  bootstrap().catch((e: unknown) => {
    process.stderr.write(`gateway: failed to start: ${(e as Error).message}\n`);
    process.exit(1);
  });
}
