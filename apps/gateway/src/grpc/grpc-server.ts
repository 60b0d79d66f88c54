import type { handleUnaryCall, Server } from '@grpc/grpc-js';
import type { PackageDefinition, ServiceDefinition } from '@grpc/proto-loader';
import { PROTO_LOADER_OPTIONS, type grpc } from '@cimd/contracts';
import { InjectLogger } from '@cimd/runtime';
import { BeforeApplicationShutdown, INestApplication, Injectable } from '@nestjs/common';
import { GrpcOptions, Transport } from '@nestjs/microservices';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Logger } from 'pino';
import { GatewayConfig, InjectConfig } from '../gateway-config';
import { CheckAuthorizationRpc } from './check-authorization.rpc';

export const GRPC_PACKAGE = 'cimd.v1';
const PROTO_FILE = join('proto', 'cimd', 'v1', 'gateway.proto');

/** Largest request message, as the HTTP body limit: requests are a few hundred bytes. */
export const GRPC_MAX_MESSAGE_BYTES = 64 * 1024;

/**
 * proto/cimd/v1/gateway.proto, looked for from this file upwards: the repository's copy when
 * running from apps/ (Jest), dist/proto's copy (a nest-cli asset) when running from dist/.
 */
export function gatewayProtoPath(from: string = __dirname): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, PROTO_FILE);
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) throw new Error(`${PROTO_FILE} was not found in ${from} or any folder above it`);
  }
}

/** `host:port` for grpc-js, with an IPv6 address in brackets. */
export function grpcAddress(host: string, port: number): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * The running grpc-js server, so that shutdown can drain it: no new calls, the calls in flight
 * (an authorize check can wait CIMD_AUTHORIZE_WAIT_MS for the fetcher) get a bounded time to
 * finish, then the rest are cancelled. Nest's own close (forceShutdown) follows and finds
 * nothing left to do.
 */
@Injectable()
export class GrpcServerHandle implements BeforeApplicationShutdown {
  private server?: Server;
  private readonly drainMs: number;

  constructor(
    @InjectConfig() config: GatewayConfig,
    @InjectLogger() private readonly logger: Logger,
  ) {
    this.drainMs = config.authorizeWaitMs + 2_000;
  }

  attach(server: Server): void {
    this.server = server;
  }

  async beforeApplicationShutdown(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await new Promise<void>((resolve) => {
      const deadline = setTimeout(() => {
        this.logger.warn({ drain_ms: this.drainMs }, 'gRPC calls still running at shutdown were cancelled');
        server.forceShutdown();
        resolve();
      }, this.drainMs);
      server.tryShutdown(() => {
        clearTimeout(deadline);
        resolve();
      });
    });
  }
}

/** The key of the stand-in request a method receives when its bytes are not its message. */
export const MALFORMED_REQUEST = '__cimd_malformed_request';

/**
 * Make every method of cimd.v1.Gateway decode bytes that are not its protobuf message into a
 * stand-in request `{ [MALFORMED_REQUEST]: reason }` instead of throwing: grpc-js would end
 * such a call with INTERNAL (which says "the server failed"), while the controller answers it
 * INVALID_ARGUMENT like any other bad request (see `wellFormed` in messages.ts).
 */
export function tolerateMalformedRequests(definition: PackageDefinition): void {
  const service = definition[`${GRPC_PACKAGE}.Gateway`] as ServiceDefinition | undefined;
  if (!service) throw new Error(`${GRPC_PACKAGE}.Gateway is not in the loaded proto`);
  for (const method of Object.values(service)) {
    const decode = method.requestDeserialize;
    method.requestDeserialize = (bytes: Buffer) => {
      try {
        return decode(bytes);
      } catch (e) {
        return { [MALFORMED_REQUEST]: (e as Error).message ?? String(e) };
      }
    };
  }
}

/** How long a keepalive ping may go unanswered before the connection is dropped (grpc-js's default). */
export const GRPC_KEEPALIVE_TIMEOUT_MS = 20_000;

/**
 * grpc-js server options that bound what a connection may hold: a peer that does not answer
 * pings (or does not speak HTTP/2) is dropped, a connection without calls is closed after the
 * idle bound, and every connection after its maximum age, its calls in flight (a half-sent
 * request among them) given the grace period. Clients reconnect after a GOAWAY by themselves;
 * a WatchEvents stream cut at the end of the grace period resumes with after_id, as after a
 * gateway restart.
 */
export function grpcConnectionBounds(config: GatewayConfig): Record<string, number> {
  return {
    'grpc.keepalive_time_ms': config.grpcKeepaliveTimeMs,
    'grpc.keepalive_timeout_ms': GRPC_KEEPALIVE_TIMEOUT_MS,
    'grpc.max_connection_idle_ms': config.grpcMaxConnectionIdleMs,
    'grpc.max_connection_age_ms': config.grpcMaxConnectionAgeMs,
    'grpc.max_connection_age_grace_ms': config.grpcMaxConnectionAgeGraceMs,
  };
}

/**
 * Take CheckAuthorization out of the definition Nest serves and register `handler` for it on
 * the grpc-js server itself, with the same (malformed-tolerant) decoding: the hot path skips
 * the microservice transport's per-call work (see CheckAuthorizationRpc).
 */
export function serveCheckAuthorizationDirectly(
  definition: PackageDefinition,
  server: Server,
  handler: handleUnaryCall<grpc.CheckAuthorizationRequest__Output, grpc.CheckAuthorizationResponse>,
): void {
  const service = definition[`${GRPC_PACKAGE}.Gateway`] as ServiceDefinition | undefined;
  const method = service?.CheckAuthorization;
  if (!service || !method) throw new Error(`${GRPC_PACKAGE}.Gateway/CheckAuthorization is not in the loaded proto`);
  delete service.CheckAuthorization;
  const registered = server.register(
    method.path,
    handler,
    method.responseSerialize,
    method.requestDeserialize,
    'unary',
  );
  if (!registered) throw new Error(`${method.path} has a handler already`);
}

/**
 * Attach the gRPC transport (service cimd.v1.Gateway on HOST:GRPC_PORT) to the app. It starts
 * listening with `app.startAllMicroservices()` and stops with `app.close()`.
 */
export function connectGrpc(app: INestApplication, config: GatewayConfig): void {
  const handle = app.get(GrpcServerHandle);
  const checkAuthorization = app.get(CheckAuthorizationRpc);
  app.connectMicroservice<GrpcOptions>(
    {
      transport: Transport.GRPC,
      options: {
        package: GRPC_PACKAGE,
        protoPath: gatewayProtoPath(),
        url: grpcAddress(config.host, config.grpcPort),
        loader: PROTO_LOADER_OPTIONS,
        maxReceiveMessageLength: GRPC_MAX_MESSAGE_BYTES,
        channelOptions: grpcConnectionBounds(config),
        onLoadPackageDefinition: (definition: PackageDefinition, server: Server) => {
          tolerateMalformedRequests(definition);
          serveCheckAuthorizationDirectly(definition, server, checkAuthorization.handle);
          handle.attach(server);
        },
      },
    },
    // The HTTP app's global filters, pipes and guards are HTTP-only; the gRPC controller has its own.
    { inheritAppConfig: false },
  );
}
