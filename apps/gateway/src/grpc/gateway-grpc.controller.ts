import type { grpc } from '@cimd/contracts';
import { InjectLogger } from '@cimd/runtime';
import { Metadata, ServerWritableStream, status as GrpcCode } from '@grpc/grpc-js';
import { Controller, UseFilters } from '@nestjs/common';
import { GrpcMethod, RpcException } from '@nestjs/microservices';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Logger } from 'pino';
import { map, Observable, Subscription } from 'rxjs';
import { ClientAuthService } from '../client-auth/client-auth.service';
import { ClientsService } from '../clients/clients.service';
import { assertTenantAccess, Principal } from '../common/auth/principal';
import { LiveTenantEvents, watchTenantEvents } from '../events/event-watch';
import { TenantEventsRepository } from '../events/tenant-events.repository';
import { GatewayMetrics } from '../observability/gateway-metrics';
import { SessionsService } from '../sessions/sessions.service';
import { ApiKeysService } from '../tenants/api-keys.service';
import { TenantPoliciesService } from '../tenants/tenant-policies.service';
import { authenticate } from './grpc-auth';
import { grpcCodeName, GrpcStatus, toGrpcStatus } from './grpc-errors';
import { GrpcExceptionFilter } from './grpc-exception.filter';
import {
  afterIdOf,
  authenticateClientOf,
  authenticateClientResponse,
  clientIdOf,
  clientRecord,
  registerSessionOf,
  sessionIdOf,
  tenantEventMessage,
  tenantOf,
  wellFormed,
} from './grpc-messages';

/**
 * cimd.v1.Gateway (proto/cimd/v1/gateway.proto): the HTTP API's operations for internal
 * callers, with the same services underneath, the same bearer tokens (in the metadata) and
 * the same errors as gRPC statuses. Each method parses its message into the typed request the
 * service takes; whatever fails ends as a status (grpc-errors.ts). CheckAuthorization, the hot
 * path, is served without Nest's transport: CheckAuthorizationRpc.
 */
@ApiExcludeController()
@Controller()
@UseFilters(GrpcExceptionFilter)
export class GatewayGrpcController {
  constructor(
    private readonly apiKeys: ApiKeysService,
    private readonly clientAuth: ClientAuthService,
    private readonly clients: ClientsService,
    private readonly sessions: SessionsService,
    private readonly policies: TenantPoliciesService,
    private readonly events: TenantEventsRepository,
    private readonly liveEvents: LiveTenantEvents,
    private readonly metrics: GatewayMetrics,
    @InjectLogger() private readonly logger: Logger,
  ) {}

  /** POST /v1/tenants/{tenant}/clients/authenticate. */
  @GrpcMethod('Gateway', 'AuthenticateClient')
  authenticateClient(
    request: grpc.AuthenticateClientRequest__Output,
    metadata: Metadata,
  ): Promise<grpc.AuthenticateClientResponse> {
    return this.serve('AuthenticateClient', request, metadata, async (principal) => {
      const tenant = this.tenant(principal, request);
      return authenticateClientResponse(await this.clientAuth.authenticate(tenant, authenticateClientOf(request)));
    });
  }

  /** GET /v1/clients?client_id=… (any tenant key or the admin). */
  @GrpcMethod('Gateway', 'GetClient')
  getClient(request: grpc.GetClientRequest__Output, metadata: Metadata): Promise<grpc.GetClientResponse> {
    return this.serve('GetClient', request, metadata, async () => ({
      client: clientRecord(await this.clients.find(clientIdOf(request))),
    }));
  }

  /** POST /v1/tenants/{tenant}/sessions. */
  @GrpcMethod('Gateway', 'RegisterSession')
  registerSession(request: grpc.RegisterSessionRequest__Output, metadata: Metadata): Promise<grpc.SessionStatus> {
    return this.serve('RegisterSession', request, metadata, async (principal) => {
      const tenant = this.tenant(principal, request);
      await this.policies.require(tenant);
      return this.sessions.register(tenant, registerSessionOf(request));
    });
  }

  /** GET /v1/tenants/{tenant}/sessions/{session_id}. */
  @GrpcMethod('Gateway', 'CheckSession')
  checkSession(request: grpc.CheckSessionRequest__Output, metadata: Metadata): Promise<grpc.SessionStatus> {
    return this.serve('CheckSession', request, metadata, async (principal) =>
      this.sessions.check(this.tenant(principal, request), sessionIdOf(request)),
    );
  }

  /** DELETE /v1/tenants/{tenant}/sessions/{session_id}. */
  @GrpcMethod('Gateway', 'RevokeSession')
  revokeSession(request: grpc.RevokeSessionRequest__Output, metadata: Metadata): Promise<grpc.RevokeSessionResponse> {
    return this.serve('RevokeSession', request, metadata, async (principal) => {
      await this.sessions.revoke(this.tenant(principal, request), sessionIdOf(request));
      return {};
    });
  }

  /**
   * GET /v1/tenants/{tenant}/events (every stored event after after_id), then the live ones,
   * until the caller cancels or the gateway shuts down (see watchTenantEvents). Admin: an
   * unknown tenant is NOT_FOUND rather than a stream that would stay silent forever.
   */
  @GrpcMethod('Gateway', 'WatchEvents')
  watchEvents(
    request: grpc.WatchEventsRequest__Output,
    metadata: Metadata,
    call: ServerWritableStream<grpc.WatchEventsRequest__Output, grpc.TenantEvent>,
  ): Observable<grpc.TenantEvent> {
    return this.serveStream('WatchEvents', request, metadata, async (principal) => {
      const tenant = this.tenant(principal, request);
      const afterId = afterIdOf(request);
      await this.policies.require(tenant);
      return watchTenantEvents(this.events, this.liveEvents, call, tenant, afterId).pipe(map(tenantEventMessage));
    });
  }

  /** The request's tenant, once the caller is known to be its key or the admin. */
  private tenant(principal: Principal, request: { tenant?: string }): string {
    const tenant = tenantOf(request);
    assertTenantAccess(principal, tenant);
    return tenant;
  }

  /** Authenticate, run, and end every failure as a gRPC status; time every call. */
  private async serve<T>(
    rpc: string,
    request: unknown,
    metadata: Metadata,
    handler: (principal: Principal) => Promise<T>,
  ): Promise<T> {
    const started = performance.now();
    let code = GrpcCode.OK;
    try {
      const principal = await authenticate(this.apiKeys, metadata);
      wellFormed(request);
      return await handler(principal);
    } catch (e) {
      const status = this.failure(rpc, e);
      code = status.code;
      throw new RpcException(status);
    } finally {
      this.metrics.grpcCalls.observe({ rpc, code: grpcCodeName(code) }, (performance.now() - started) / 1000);
    }
  }

  /**
   * `serve` for a server stream: authenticate and open it, relay its messages, and end it
   * with a gRPC status on any failure, before or during the stream. Timed from the call to
   * the end of the stream; a stream the caller cancels (or the server unsubscribes from) is
   * counted as CANCELLED.
   */
  private serveStream<T>(
    rpc: string,
    request: unknown,
    metadata: Metadata,
    open: (principal: Principal) => Promise<Observable<T>>,
  ): Observable<T> {
    return new Observable<T>((subscriber) => {
      const started = performance.now();
      let code = GrpcCode.CANCELLED;
      let ended = false;
      let inner: Subscription | undefined;
      const fail = (e: unknown) => {
        const status = this.failure(rpc, e);
        code = status.code;
        subscriber.error(new RpcException(status));
      };
      authenticate(this.apiKeys, metadata)
        .then((principal) => {
          wellFormed(request);
          return open(principal);
        })
        .then((source) => {
          if (ended) return;
          inner = source.subscribe({
            next: (value) => subscriber.next(value),
            error: fail,
            complete: () => {
              code = GrpcCode.OK;
              subscriber.complete();
            },
          });
        })
        .catch(fail);
      return () => {
        ended = true;
        inner?.unsubscribe();
        this.metrics.grpcCalls.observe({ rpc, code: grpcCodeName(code) }, (performance.now() - started) / 1000);
      };
    });
  }

  /** The status a failed call ends with; our own faults and an unreachable backend are logged. */
  private failure(rpc: string, e: unknown): GrpcStatus {
    const { status, log } = toGrpcStatus(e);
    if (log) {
      const err = e instanceof Error ? { message: e.message, stack: e.stack } : String(e);
      this.logger[log]({ rpc, err }, 'gRPC call failed');
    }
    return status;
  }
}
