import { Metadata, status as GrpcCode } from '@grpc/grpc-js';
import { Controller, Inject, UseFilters } from '@nestjs/common';
import { GrpcMethod, RpcException } from '@nestjs/microservices';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Logger } from 'pino';
import type { Histogram } from 'prom-client';
import { ApiKeysService } from '../auth/api-keys.service';
import { assertTenantAccess, Principal } from '../auth/principal';
import { AuthorizeService } from '../authorize/authorize.service';
import { tenantParam } from '../common/parse-body';
import type { GatewayConfig } from '../gateway-config';
import { GATEWAY_CONFIG, LOGGER } from '../infra/tokens';
import { ClientRecords } from '../clients/client-records';
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
    @Inject(ClientRecords) private readonly records: ClientRecords,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.calls = metrics.grpcCalls;
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
      const entry = await this.records.find(requiredClientId(request));
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
