import { PROTO_LOADER_OPTIONS, type grpc as messages } from '@cimd/contracts';
import type { AuthorizeRequest, SessionStatus } from '@cimd/core';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { readClientRecord, readSessionStatus, readTenantEvent } from './answers';
import { GatewayError, GatewayErrorCode, isGatewayError } from './errors';
import { ReconnectPolicy, resumableEvents } from './event-stream';
import {
  authenticateUntilAnswered,
  callPolicies,
  checkUntilDecided,
  GatewayClientOptions,
  sessionFields,
} from './gateway-calls';
import { RetryPolicy, withRetries } from './retry-policy';
import type {
  AuthorizeCheck,
  CallOptions,
  CimdGateway,
  ClientAuthentication,
  ClientAuthenticationRequest,
  ClientRecord,
  SessionRegistration,
  TenantEvent,
  WatchOptions,
} from './types';

export interface GrpcGatewayClientOptions extends GatewayClientOptions {
  /** `host:port` of the gateway's gRPC API. */
  address: string;
  /**
   * How the channel is secured: `grpc.credentials.createSsl(…)` across a network, or
   * `grpc.credentials.createInsecure()` to a sidecar or in tests. Required, so that sending the
   * bearer token in the clear is a choice written down.
   */
  credentials: grpc.ChannelCredentials;
  /** grpc-js client options: interceptors, keepalive, … */
  clientOptions?: grpc.ClientOptions;
  /** proto/cimd/v1/gateway.proto; found from this file upwards when not given. */
  protoPath?: string;
}

const PROTO_FILE = join('proto', 'cimd', 'v1', 'gateway.proto');

/** The repository's proto/ (from source), or dist/proto (copied there by the build). */
function findProto(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, PROTO_FILE);
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) throw new Error(`${PROTO_FILE} was not found in ${from} or any folder above it`);
  }
}

/** The OAuth-style error of a status when the gateway did not send its `cimd-error` trailer (a proxy, the channel). */
const CODE_ERRORS: Partial<Record<grpc.status, GatewayErrorCode>> = {
  [grpc.status.INVALID_ARGUMENT]: 'invalid_request',
  [grpc.status.UNAUTHENTICATED]: 'invalid_token',
  [grpc.status.PERMISSION_DENIED]: 'access_denied',
  [grpc.status.NOT_FOUND]: 'not_found',
  [grpc.status.FAILED_PRECONDITION]: 'conflict',
  [grpc.status.ALREADY_EXISTS]: 'conflict',
  [grpc.status.RESOURCE_EXHAUSTED]: 'slow_consumer',
  [grpc.status.UNAVAILABLE]: 'unreachable',
  [grpc.status.DEADLINE_EXCEEDED]: 'timeout',
};

/** A failed call as a GatewayError: `details` is `<error>: <description>`, the trailer `cimd-error` holds `<error>`. */
function gatewayError(e: grpc.ServiceError): GatewayError {
  const trailer = e.metadata?.get('cimd-error')[0];
  const error = typeof trailer === 'string' ? trailer : (CODE_ERRORS[e.code] ?? 'server_error');
  const description = e.details?.startsWith(`${error}: `) ? e.details.slice(error.length + 2) : e.details || e.message;
  return new GatewayError(error, description, { grpcCode: e.code, cause: e });
}

type Unary = (
  request: object,
  metadata: grpc.Metadata,
  options: grpc.CallOptions,
  callback: grpc.requestCallback<unknown>,
) => grpc.ClientUnaryCall;

/** The unary methods of cimd.v1.Gateway, with the message each takes and the one it answers. */
interface UnaryMethods {
  CheckAuthorization: [messages.CheckAuthorizationRequest, messages.CheckAuthorizationResponse__Output];
  AuthenticateClient: [messages.AuthenticateClientRequest, messages.AuthenticateClientResponse__Output];
  GetClient: [messages.GetClientRequest, messages.GetClientResponse__Output];
  RegisterSession: [messages.RegisterSessionRequest, messages.SessionStatus__Output];
  CheckSession: [messages.CheckSessionRequest, messages.SessionStatus__Output];
  RevokeSession: [messages.RevokeSessionRequest, messages.RevokeSessionResponse__Output];
}

/** cimd-gateway over its gRPC API (cimd.v1.Gateway), with the same types and errors as the HTTP client. */
export class GrpcGatewayClient implements CimdGateway {
  readonly tenant: string;
  private readonly client: messages.GatewayClient;
  private readonly timeoutMs: number;
  private readonly retry: RetryPolicy;
  private readonly reconnect: ReconnectPolicy;

  constructor(private readonly options: GrpcGatewayClientOptions) {
    this.tenant = options.tenant;
    ({ timeoutMs: this.timeoutMs, retry: this.retry, reconnect: this.reconnect } = callPolicies(options));
    // The proto loaded as the gateway loads it.
    const definition = protoLoader.loadSync(options.protoPath ?? findProto(__dirname), PROTO_LOADER_OPTIONS);
    const loaded = grpc.loadPackageDefinition(definition) as unknown as messages.ProtoGrpcType;
    this.client = new loaded.cimd.v1.Gateway(options.address, options.credentials, options.clientOptions);
  }

  async checkAuthorization(request: AuthorizeRequest, options: CallOptions = {}): Promise<AuthorizeCheck> {
    const message: messages.CheckAuthorizationRequest = {
      tenant: this.tenant,
      client_id: request.client_id,
      redirect_uri: request.redirect_uri,
      ...(request.response_type !== undefined ? { response_type: request.response_type } : {}),
      ...(request.scope !== undefined ? { scope: request.scope } : {}),
      ...(request.code_challenge_method !== undefined ? { code_challenge_method: request.code_challenge_method } : {}),
    };
    return checkUntilDecided(this.retry, () => this.unary('CheckAuthorization', message, options), options.signal);
  }

  async authenticateClient(
    request: ClientAuthenticationRequest,
    options: CallOptions = {},
  ): Promise<ClientAuthentication> {
    const message: messages.AuthenticateClientRequest = {
      tenant: this.tenant,
      client_id: request.client_id,
      ...(request.client_assertion_type !== undefined ? { client_assertion_type: request.client_assertion_type } : {}),
      ...(request.client_assertion !== undefined ? { client_assertion: request.client_assertion } : {}),
    };
    return authenticateUntilAnswered(
      this.retry,
      async () => {
        const answer = await this.unary('AuthenticateClient', message, options);
        // proto3 does not send a false bool: absent is false.
        return { ...answer, authenticated: answer.authenticated ?? false };
      },
      options.signal,
    );
  }

  async getClient(clientId: string, options: CallOptions = {}): Promise<ClientRecord | undefined> {
    try {
      const { client } = await this.idempotent('GetClient', { client_id: clientId }, options);
      if (!client) throw new GatewayError('bad_response', 'GetClient answered without a client');
      const { document_json, ...record } = client;
      return readClientRecord({
        ...record,
        ...(document_json !== undefined ? { document: JSON.parse(document_json) as unknown } : {}),
      });
    } catch (e) {
      if (isGatewayError(e, 'not_found')) return undefined;
      throw e;
    }
  }

  async registerSession(session: SessionRegistration, options: CallOptions = {}): Promise<SessionStatus> {
    const message: messages.RegisterSessionRequest = { tenant: this.tenant, ...sessionFields(session) };
    return readSessionStatus(await this.idempotent('RegisterSession', message, options));
  }

  async checkSession(sessionId: string, options: CallOptions = {}): Promise<SessionStatus> {
    const message = { tenant: this.tenant, session_id: sessionId };
    return readSessionStatus(await this.idempotent('CheckSession', message, options));
  }

  async revokeSession(sessionId: string, options: CallOptions = {}): Promise<void> {
    await this.idempotent('RevokeSession', { tenant: this.tenant, session_id: sessionId }, options);
  }

  /** WatchEvents, called again with after_id = the last event delivered whenever the stream breaks. */
  events(options: WatchOptions = {}): AsyncIterable<TenantEvent> {
    const watch = async function* (this: GrpcGatewayClient, after: string, signal: AbortSignal) {
      const call = this.client.WatchEvents({ tenant: this.tenant, after_id: after }, this.metadata());
      const cancel = () => call.cancel();
      signal.addEventListener('abort', cancel, { once: true });
      try {
        for await (const message of call as AsyncIterable<messages.TenantEvent__Output>) {
          yield readTenantEvent({
            ...message,
            client_id: message.client_id ?? null,
            data: JSON.parse(message.data_json ?? '{}') as unknown,
          });
        }
      } catch (e) {
        throw isServiceError(e) ? gatewayError(e) : e;
      } finally {
        signal.removeEventListener('abort', cancel);
        call.cancel();
      }
      // A stream that ended by itself (the gateway never ends one): reconnect as after a break.
      throw new GatewayError('temporarily_unavailable', 'the event stream ended');
    };
    return resumableEvents(watch.bind(this), { ...options, reconnect: this.reconnect });
  }

  close(): void {
    this.client.close();
  }

  private metadata(): grpc.Metadata {
    const metadata = new grpc.Metadata();
    metadata.set('authorization', `Bearer ${this.options.token}`);
    return metadata;
  }

  private idempotent<M extends keyof UnaryMethods>(
    method: M,
    request: UnaryMethods[M][0],
    options: CallOptions,
  ): Promise<UnaryMethods[M][1]> {
    return withRetries(this.retry, async () => ({ done: await this.unary(method, request, options) }), {
      retryError: (e) => e.transient,
      signal: options.signal,
    }).then(({ result }) => result);
  }

  /** One call with a deadline; a failed call as a GatewayError. */
  private unary<M extends keyof UnaryMethods>(
    method: M,
    request: UnaryMethods[M][0],
    options: CallOptions,
  ): Promise<UnaryMethods[M][1]> {
    type Res = UnaryMethods[M][1];
    return new Promise<Res>((resolve, reject) => {
      if (options.signal?.aborted) return reject(options.signal.reason as Error);
      const unary = (this.client as unknown as Record<M, Unary>)[method].bind(this.client);
      const call = unary(
        request,
        this.metadata(),
        { deadline: Date.now() + this.timeoutMs },
        (error: grpc.ServiceError | null, response?: unknown) => {
          options.signal?.removeEventListener('abort', cancel);
          if (options.signal?.aborted) return reject(options.signal.reason as Error);
          if (error) return reject(gatewayError(error));
          if (response === undefined) return reject(new GatewayError('bad_response', 'an empty answer'));
          resolve(response as Res);
        },
      );
      const cancel = () => call.cancel();
      options.signal?.addEventListener('abort', cancel, { once: true });
    });
  }
}

function isServiceError(e: unknown): e is grpc.ServiceError {
  return e instanceof Error && typeof (e as Partial<grpc.ServiceError>).code === 'number' && 'metadata' in e;
}
