import { CacheEntry, parseCacheEntry, RedisKeys } from '@cimd/contracts';
import { Metadata, status as GrpcCode } from '@grpc/grpc-js';
import { Controller, Inject, UseFilters } from '@nestjs/common';
import { GrpcMethod, RpcException } from '@nestjs/microservices';
import { ApiExcludeController } from '@nestjs/swagger';
import type Redis from 'ioredis';
import type { Logger } from 'pino';
import { Histogram } from 'prom-client';
import { ApiKeysService } from '../auth/api-keys.service';
import { assertTenantAccess, Principal } from '../auth/principal';
import { AuthorizeService } from '../authorize/authorize.service';
import { notFound, unavailable } from '../common/api-error';
import { tenantParam } from '../common/parse-body';
import type { GatewayConfig } from '../gateway-config';
import { GATEWAY_CONFIG, LOGGER, REDIS, REDIS_KEYS } from '../infra/tokens';
import { GatewayMetrics } from '../observability/gateway-metrics';
import { GrpcExceptionFilter } from './grpc-exception.filter';
import { authenticate } from './grpc-auth';
import { grpcCodeName, toGrpcStatus } from './grpc-status';
import {
  authorizeCheckBody,
  checkAuthorizationResponse,
  CheckAuthorizationRequest,
  CheckAuthorizationResponse,
  clientRecord,
  GetClientRequest,
  GetClientResponse,
  requiredClientId,
  requiredTenant,
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
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(REDIS_KEYS) private readonly keys: RedisKeys,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.calls = new Histogram({
      name: 'cimd_grpc_request_duration_seconds',
      help: 'gRPC call latency by method and status code',
      labelNames: ['rpc', 'code'] as const,
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [metrics.registry],
    });
  }

  /** POST /v1/tenants/{tenant}/authorize/check. */
  @GrpcMethod('Gateway', 'CheckAuthorization')
  checkAuthorization(request: CheckAuthorizationRequest, metadata: Metadata): Promise<CheckAuthorizationResponse> {
    return this.serve('CheckAuthorization', metadata, async (principal) => {
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
    return this.serve('GetClient', metadata, async () => {
      const clientId = requiredClientId(request);
      let entry: CacheEntry | undefined;
      try {
        entry = parseCacheEntry(await this.redis.get(this.keys.clientEntry(clientId)));
      } catch {
        throw unavailable('the client cache is unreachable; try again shortly');
      }
      if (!entry) throw notFound('this client_id is not in the cache; an authorize check or a refresh fetches it');
      return { client: clientRecord(entry, this.config.publicUrl) };
    });
  }

  /** Authenticate, run, and end every failure as a gRPC status; time every call. */
  private async serve<T>(rpc: string, metadata: Metadata, handler: (principal: Principal) => Promise<T>): Promise<T> {
    const started = performance.now();
    let code = GrpcCode.OK;
    try {
      return await handler(await authenticate(this.apiKeys, metadata));
    } catch (e) {
      const { status, log } = toGrpcStatus(e);
      code = status.code;
      if (log) {
        const err = e instanceof Error ? { message: e.message, stack: e.stack } : String(e);
        this.logger[log]({ rpc, err }, 'gRPC call failed');
      }
      throw new RpcException(status);
    } finally {
      this.calls.observe({ rpc, code: grpcCodeName(code) }, (performance.now() - started) / 1000);
    }
  }
}
