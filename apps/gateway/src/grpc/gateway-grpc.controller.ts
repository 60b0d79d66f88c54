import { Metadata, ServerWritableStream, status as GrpcCode } from '@grpc/grpc-js';
import { Controller, HttpStatus, Inject, UseFilters } from '@nestjs/common';
import { GrpcMethod, RpcException } from '@nestjs/microservices';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Logger } from 'pino';
import type { Histogram } from 'prom-client';
import { map, Observable, Subscription } from 'rxjs';
import { ApiKeysService } from '../auth/api-keys.service';
import { assertTenantAccess, Principal } from '../auth/principal';
import { AuthorizeService } from '../authorize/authorize.service';
import { ApiError } from '../common/api-error';
import { tenantParam } from '../common/parse-body';
import { TenantEventPublisher } from '../events/tenant-events';
import type { GatewayConfig } from '../gateway-config';
import { GATEWAY_CONFIG, LOGGER } from '../infra/tokens';
import { ClientRecords } from '../clients/client-records';
import { GatewayMetrics } from '../observability/gateway-metrics';
import { SessionsService } from '../sessions/sessions.service';
import { TenantPoliciesService } from '../tenants/tenant-policies.service';
import { LiveTenantEvents, watchTenantEvents } from './event-watch';
import { GrpcExceptionFilter } from './grpc-exception.filter';
import { authenticate } from './grpc-auth';
import { grpcCodeName, grpcStatus, GrpcStatus, toGrpcStatus } from './grpc-status';
import {
  authorizeCheckBody,
  checkAuthorizationResponse,
  CheckAuthorizationRequest,
  CheckAuthorizationResponse,
  clientRecord,
  GetClientRequest,
  GetClientResponse,
  RegisterSessionRequest,
  registerSessionBody,
  requiredClientId,
  requiredSessionId,
  requiredTenant,
  RevokeSessionResponse,
  SessionRequest,
  SessionStatus,
  tenantEventMessage,
  TenantEventMessage,
  watchAfterId,
  WatchEventsRequest,
  wellFormed,
} from './messages';

/**
 * cimd.v1.Gateway (proto/cimd/v1/gateway.proto): the HTTP API's operations for internal
 * callers, with the same services underneath, the same bearer tokens (in the metadata) and
 * the same errors as gRPC statuses.
 */
@ApiExcludeController()
@Controller()
@UseFilters(GrpcExceptionFilter)
export class GatewayGrpcController {
  private readonly calls: Histogram<'rpc' | 'code'>;

  constructor(
    @Inject(ApiKeysService) private readonly apiKeys: ApiKeysService,
    @Inject(AuthorizeService) private readonly authorize: AuthorizeService,
    @Inject(GatewayMetrics) private readonly metrics: GatewayMetrics,
    @Inject(ClientRecords) private readonly records: ClientRecords,
    @Inject(SessionsService) private readonly sessions: SessionsService,
    @Inject(TenantPoliciesService) private readonly policies: TenantPoliciesService,
    @Inject(TenantEventPublisher) private readonly events: TenantEventPublisher,
    @Inject(LiveTenantEvents) private readonly liveEvents: LiveTenantEvents,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.calls = metrics.grpcCalls;
  }

  /** POST /v1/tenants/{tenant}/authorize/check. */
  @GrpcMethod('Gateway', 'CheckAuthorization')
  checkAuthorization(request: CheckAuthorizationRequest, metadata: Metadata): Promise<CheckAuthorizationResponse> {
    return this.serve('CheckAuthorization', request, metadata, async (principal) => {
      const tenant = tenantParam(requiredTenant(request));
      assertTenantAccess(principal, tenant);
      const result = await this.authorize.check(tenant, authorizeCheckBody(request));
      this.metrics.decisions.inc({ decision: result.decision, reason: result.reason ?? '' });
      return checkAuthorizationResponse(result);
    });
  }

  /** GET /v1/clients?client_id=… (any tenant key or the admin). */
  @GrpcMethod('Gateway', 'GetClient')
  getClient(request: GetClientRequest, metadata: Metadata): Promise<GetClientResponse> {
    return this.serve('GetClient', request, metadata, async () => {
      const entry = await this.records.find(requiredClientId(request));
      return { client: clientRecord(entry, this.config.publicUrl) };
    });
  }

  /**
   * POST /v1/tenants/{tenant}/sessions. Its conflicts (the client is gone or invalid, or the
   * session_id belongs to another client) are FAILED_PRECONDITION rather than the usual
   * ALREADY_EXISTS: registering is idempotent, so "already exists" would read as success.
   */
  @GrpcMethod('Gateway', 'RegisterSession')
  registerSession(request: RegisterSessionRequest, metadata: Metadata): Promise<SessionStatus> {
    return this.serve('RegisterSession', request, metadata, async (principal) => {
      const tenant = tenantParam(requiredTenant(request));
      assertTenantAccess(principal, tenant);
      await this.policies.require(tenant);
      try {
        return await this.sessions.register(tenant, registerSessionBody(request));
      } catch (e) {
        if (e instanceof ApiError && e.getStatus() === Number(HttpStatus.CONFLICT)) {
          throw new RpcException(grpcStatus(GrpcCode.FAILED_PRECONDITION, e.error, e.description));
        }
        throw e;
      }
    });
  }

  /** GET /v1/tenants/{tenant}/sessions/{session_id}. */
  @GrpcMethod('Gateway', 'CheckSession')
  checkSession(request: SessionRequest, metadata: Metadata): Promise<SessionStatus> {
    return this.serve('CheckSession', request, metadata, async (principal) => {
      const tenant = tenantParam(requiredTenant(request));
      assertTenantAccess(principal, tenant);
      return this.sessions.check(tenant, requiredSessionId(request));
    });
  }

  /** DELETE /v1/tenants/{tenant}/sessions/{session_id}. */
  @GrpcMethod('Gateway', 'RevokeSession')
  revokeSession(request: SessionRequest, metadata: Metadata): Promise<RevokeSessionResponse> {
    return this.serve('RevokeSession', request, metadata, async (principal) => {
      const tenant = tenantParam(requiredTenant(request));
      assertTenantAccess(principal, tenant);
      await this.sessions.revoke(tenant, requiredSessionId(request));
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
    request: WatchEventsRequest,
    metadata: Metadata,
    call: ServerWritableStream<WatchEventsRequest, TenantEventMessage>,
  ): Observable<TenantEventMessage> {
    return this.serveStream('WatchEvents', request, metadata, async (principal) => {
      const tenant = tenantParam(requiredTenant(request));
      assertTenantAccess(principal, tenant);
      const afterId = watchAfterId(request);
      await this.policies.require(tenant);
      return watchTenantEvents(this.events, this.liveEvents, call, tenant, afterId).pipe(map(tenantEventMessage));
    });
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
      this.calls.observe({ rpc, code: grpcCodeName(code) }, (performance.now() - started) / 1000);
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
        this.calls.observe({ rpc, code: grpcCodeName(code) }, (performance.now() - started) / 1000);
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
