import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { join } from 'node:path';

/**
 * A caller's view of cimd.v1.Gateway for the gRPC tests: the proto loaded as an outside
 * client would load it, calls that never reject, and the checks of a refusal (status code,
 * `<error>: <description>` details and the `cimd-error` trailer).
 */
export const GATEWAY_PROTO = join(__dirname, '..', '..', 'proto', 'cimd', 'v1', 'gateway.proto');

export function loadGatewayClient(): grpc.ServiceClientConstructor {
  const definition = protoLoader.loadSync(GATEWAY_PROTO, {
    keepCase: true,
    longs: String,
    enums: String,
    defaults: false,
    arrays: true,
  });
  const cimd = grpc.loadPackageDefinition(definition).cimd as grpc.GrpcObject;
  return (cimd.v1 as grpc.GrpcObject).Gateway as grpc.ServiceClientConstructor;
}

/** `authorization: Bearer <token>`; null: no authorization at all. */
export function metadataFor(token: string | null): grpc.Metadata {
  const metadata = new grpc.Metadata();
  if (token !== null) metadata.set('authorization', `Bearer ${token}`);
  return metadata;
}

export type Reply<T> = { error?: grpc.ServiceError; response?: T };

type UnaryMethod = (
  request: object,
  metadata: grpc.Metadata,
  options: grpc.CallOptions,
  callback: (error: grpc.ServiceError | null, response: unknown) => void,
) => void;

/** One unary call; the error or the response, never a rejection. */
export function unaryCall<T>(
  on: grpc.Client,
  method: string,
  request: object,
  metadata: grpc.Metadata,
): Promise<Reply<T>> {
  const unary = (on as unknown as Record<string, UnaryMethod>)[method] as UnaryMethod;
  return new Promise((resolve) => {
    unary.call(on, request, metadata, { deadline: Date.now() + 15_000 }, (error, response) =>
      resolve(error ? { error } : { response: response as T }),
    );
  });
}

/** The response of a call that must succeed. */
export function ok<T>(reply: Reply<T>): T {
  if (reply.error) throw new Error(`expected OK, got ${reply.error.message}`);
  return reply.response as T;
}

/** A refusal: `code`, details `<cimdError>: <description>`, and the `cimd-error` trailer. */
export function expectError(
  error: grpc.ServiceError | undefined,
  code: grpc.status,
  cimdError: string,
): grpc.ServiceError {
  expect(error).toBeDefined();
  const e = error as grpc.ServiceError;
  expect({ code: grpc.status[e.code], details: e.details }).toMatchObject({
    code: grpc.status[code],
    details: expect.stringMatching(new RegExp(`^${cimdError}: .+`)) as unknown,
  });
  expect(e.metadata.get('cimd-error')).toEqual([cimdError]);
  return e;
}

export function expectStatus(reply: Reply<unknown>, code: grpc.status, cimdError: string): grpc.ServiceError {
  expect(reply.response).toBeUndefined();
  return expectError(reply.error, code, cimdError);
}
