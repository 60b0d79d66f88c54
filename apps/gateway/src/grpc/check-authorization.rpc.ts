import type { grpc } from '@cimd/contracts';
import { InjectLogger } from '@cimd/runtime';
import type { Metadata, sendUnaryData, ServerUnaryCall } from '@grpc/grpc-js';
import { Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { AuthorizeService } from '../authorize/authorize.service';
import type { RememberedDecision } from '../authorize/remembered-decisions';
import { assertTenantAccess } from '../common/auth/principal';
import { GatewayMetrics } from '../observability/gateway-metrics';
import { ApiKeysService } from '../tenants/api-keys.service';
import { authenticate } from './grpc-auth';
import { grpcCodeName, toGrpcStatus } from './grpc-errors';
import { checkAuthorizationResponse, checkRequestOf, tenantOf, wellFormed } from './grpc-messages';

type Request = grpc.CheckAuthorizationRequest__Output;
type Response = grpc.CheckAuthorizationResponse;

const RPC = 'CheckAuthorization';

/**
 * cimd.v1.Gateway/CheckAuthorization, the gRPC twin of POST /v1/tenants/{tenant}/authorize/check,
 * registered straight on the grpc-js server (see connectGrpc) rather than through Nest's
 * microservice transport: it is the hot path, and the transport's per-call work (an rxjs
 * pipeline, the exception filter, copies of the call) does nothing this handler needs. The
 * same steps as the controller's other methods: authenticate, refuse a malformed message,
 * check the tenant, decide, count the call by status; every failure ends as the status
 * toGrpcStatus gives it.
 */
@Injectable()
export class CheckAuthorizationRpc {
  private readonly okCalls;
  private readonly messages = new WeakMap<RememberedDecision, Response>();

  constructor(
    private readonly apiKeys: ApiKeysService,
    private readonly authorize: AuthorizeService,
    private readonly metrics: GatewayMetrics,
    @InjectLogger() private readonly logger: Logger,
  ) {
    // The child of the successful calls, looked up once rather than by its labels on every call.
    this.okCalls = metrics.grpcCalls.labels({ rpc: RPC, code: 'OK' });
  }

  /** The grpc-js unary handler. */
  readonly handle = (call: ServerUnaryCall<Request, Response>, callback: sendUnaryData<Response>): void => {
    const started = performance.now();
    this.answer(call.request, call.metadata).then(
      (response) => {
        this.okCalls.observe((performance.now() - started) / 1000);
        callback(null, response);
      },
      (e: unknown) => {
        const { status, log } = toGrpcStatus(e);
        if (log) {
          const err = e instanceof Error ? { message: e.message, stack: e.stack } : String(e);
          this.logger[log]({ rpc: RPC, err }, 'gRPC call failed');
        }
        this.metrics.grpcCalls.observe(
          { rpc: RPC, code: grpcCodeName(status.code) },
          (performance.now() - started) / 1000,
        );
        callback(status);
      },
    );
  };

  private async answer(request: Request, metadata: Metadata): Promise<Response> {
    const principal = await authenticate(this.apiKeys, metadata);
    wellFormed(request);
    const tenant = tenantOf(request);
    assertTenantAccess(principal, tenant);
    const checked = checkRequestOf(request);
    const remembered = this.authorize.recall(tenant, checked);
    if (!remembered) return checkAuthorizationResponse(await this.authorize.check(tenant, checked));
    // The message of a remembered answer is made once, as its JSON body is.
    let message = this.messages.get(remembered);
    if (!message) this.messages.set(remembered, (message = checkAuthorizationResponse(remembered.response)));
    return message;
  }
}
