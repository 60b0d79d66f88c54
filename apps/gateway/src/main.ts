import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { SwaggerModule } from '@nestjs/swagger';
import { createAppLogger, PinoNestLogger, runMain } from '@cimd/runtime';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { lingerAfterEarlyAnswers } from './common/lingering-close';
import { AuthorizeFastPath } from './authorize/authorize-fast-path';
import { ClientAuthFastPath } from './client-auth/client-auth-fast-path';
import type { DecidedRequest } from './authorize/authorize.controller';
import { errorBody } from './common/domain-error';
import { useJsonBodyParser } from './common/json-body';
import { createOpenApiDocument } from './common/openapi';
import { ensureDatabase } from './database/ensure-database';
import { GatewayConfig, loadGatewayConfig } from './gateway-config';
import { GatewayModule } from './gateway.module';
import { connectGrpc } from './grpc/grpc-server';
import { GatewayMetrics } from './observability/gateway-metrics';

/** Largest request body accepted; authorize checks and policies are a few hundred bytes. */
export const BODY_LIMIT_BYTES = 64 * 1024;

/** What Node's HTTP parser refused, in the words of the API's error bodies. */
const CLIENT_ERRORS: Record<string, [number, string]> = {
  HPE_HEADER_OVERFLOW: [431, 'the request line and headers are larger than 16 KiB (a URL or header is too long)'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'the request did not arrive in time'],
};

/**
 * Fastify's clientErrorHandler: a request Node's HTTP parser refuses (bytes that are not
 * HTTP/1.1, headers over the size limit, broken framing) is answered with the OAuth-style body
 * of every other refusal rather than Fastify's own, and the connection is closed.
 */
export function answerClientError(
  error: Error & { code?: string },
  socket: Socket,
  onRequestTimeout: () => void = () => undefined,
): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') onRequestTimeout();
  const [status, description] = CLIENT_ERRORS[error.code ?? ''] ?? [
    400,
    'the request is not valid HTTP/1.1 (request line, header or body framing)',
  ];
  const body = JSON.stringify(errorBody('invalid_request', description));
  // A request whose answer has begun (its body broke after the route answered) gets no second one.
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (socket.writable && !inFlight?.headersSent) {
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Bad Request'}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  // The rest of the request is never read: give the answer a moment to leave, then drop the socket.
  setTimeout(() => socket.destroy(), 1000).unref();
}

/**
 * How often Node looks for requests past their deadline: the timeout is enforced only then, so
 * a tenth of it (at least 250 ms, at most a second) keeps a late close within 10% of the bound.
 */
export function connectionsCheckingInterval(requestTimeoutMs: number): number {
  return Math.min(1000, Math.max(250, Math.floor(requestTimeoutMs / 10)));
}

export async function createGatewayApp(config: GatewayConfig): Promise<NestFastifyApplication> {
  const logger = createAppLogger('gateway', config);
  // Set once the app (and so the metrics) exists; no request arrives before.
  let countRequestTimeout = (): void => undefined;
  const adapter = new FastifyAdapter({
    // No Nest middleware here (guards, pipes and Fastify hooks do that work): no middie hook on every request.
    skipMiddie: true,
    bodyLimit: BODY_LIMIT_BYTES,
    routerOptions: { maxParamLength: 512 },
    // Slow clients: a request whose headers and body have not all arrived in time (a connection
    // that sends nothing, headers a byte at a time, or part of a body) is answered 408 and
    // closed, so that such connections cannot pile up until the file descriptors run out. Only
    // receiving is bounded: a request being answered (an authorize check waiting for the
    // fetcher) is not. Fastify sets server.requestTimeout; headersTimeout and the checking
    // interval are Node's http.createServer options.
    requestTimeout: config.httpRequestTimeoutMs,
    keepAliveTimeout: config.httpKeepAliveTimeoutMs,
    http: {
      requestTimeout: config.httpRequestTimeoutMs,
      headersTimeout: config.httpRequestTimeoutMs,
      connectionsCheckingInterval: connectionsCheckingInterval(config.httpRequestTimeoutMs),
    },
    // Requests that are not even HTTP/1.1 (Node's parser refuses them) get the same body shape
    // too; a request timeout is counted.
    clientErrorHandler: (error: Error & { code?: string }, socket: Socket) =>
      answerClientError(error, socket, () => countRequestTimeout()),
    // Errors Fastify answers before any route (and so before Nest's filters) get the same body shape.
    frameworkErrors: (error: FastifyError, _request: FastifyRequest, reply: FastifyReply) => {
      void reply
        .status(error.statusCode ?? 400)
        .send(
          errorBody(
            'invalid_request',
            error.code === 'FST_ERR_MAX_PARAM_LENGTH'
              ? 'a path segment is longer than 512 characters'
              : 'the request URL is malformed (bad percent-encoding)',
          ),
        );
    },
  });
  const app = await NestFactory.create<NestFastifyApplication>(GatewayModule.forRoot(config, logger), adapter, {
    logger: new PinoNestLogger(logger),
    // JSON only: no form parser, so a form-encoded body is a 415, not a silently accepted request.
    bodyParser: false,
  });
  app.enableShutdownHooks();

  const metrics = app.get(GatewayMetrics);
  countRequestTimeout = () => metrics.requestTimeouts.inc();
  const fastify = app.getHttpAdapter().getInstance();
  lingerAfterEarlyAnswers(fastify.server);
  app.get(AuthorizeFastPath).serveOn(fastify);
  app.get(ClientAuthFastPath).serveOn(fastify);
  useJsonBodyParser(fastify);
  fastify.addHook('onResponse', (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
    metrics.observeRequest(
      request.routeOptions.url ?? 'unmatched',
      request.method,
      reply.statusCode,
      (request as DecidedRequest).decision ?? '',
      reply.elapsedTime / 1000,
    );
    done();
  });

  const openapi = createOpenApiDocument(app);
  SwaggerModule.setup('docs', app, openapi, { jsonDocumentUrl: 'docs/openapi.json' });
  // cimd.v1.Gateway on GRPC_PORT: serving after app.startAllMicroservices(), closed by app.close().
  connectGrpc(app, config);
  return app;
}

async function start(config: GatewayConfig): Promise<void> {
  const logger = createAppLogger('gateway', config);
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

if (require.main === module) runMain('gateway', loadGatewayConfig, start);
