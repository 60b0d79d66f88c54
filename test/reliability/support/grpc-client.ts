import * as grpc from '@grpc/grpc-js';
import { loadGatewayClient } from '../../support/grpc-client';
import { unreadable } from './bad-input';

/**
 * A gRPC client of cimd.v1.Gateway for the fuzz and isolation tests (the proto loaded as an
 * outside caller would), calls that never reject, raw protobuf bytes, and the judgement of a
 * status: never INTERNAL or UNKNOWN, and every refusal `<error>: <description>` with the
 * `cimd-error` trailer the gateway sets.
 */
export const UNARY_RPCS = [
  'CheckAuthorization',
  'GetClient',
  'RegisterSession',
  'CheckSession',
  'RevokeSession',
  'AuthenticateClient',
];

export function gatewayClient(port: number): grpc.Client {
  const Gateway = loadGatewayClient();
  return new Gateway(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), {
    'grpc.max_send_message_length': 16 * 1024 * 1024,
  });
}

/** Metadata with `authorization: <value>` (the whole value; null: none). */
export function authMetadata(value: string | null, extra: [string, string][] = []): grpc.Metadata {
  const metadata = new grpc.Metadata();
  if (value !== null) metadata.set('authorization', value);
  for (const [k, v] of extra) metadata.add(k, v);
  return metadata;
}

export interface GrpcResult {
  code: grpc.status;
  details: string;
  /** The `cimd-error` trailer values. */
  trailer: string[];
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  response?: any;
}

type Unary = (
  request: unknown,
  metadata: grpc.Metadata,
  options: grpc.CallOptions,
  callback: (error: grpc.ServiceError | null, response: unknown) => void,
) => grpc.ClientUnaryCall;

/** One unary call; its status, never a rejection. */
export function unary(
  client: grpc.Client,
  method: string,
  request: unknown,
  metadata: grpc.Metadata,
  timeoutMs = 10_000,
): Promise<GrpcResult> {
  const fn = (client as unknown as Record<string, Unary>)[method] as Unary;
  return new Promise((resolve) => {
    try {
      fn.call(client, request, metadata, { deadline: Date.now() + timeoutMs }, (error, response) =>
        resolve(
          error
            ? { code: error.code, details: error.details, trailer: trailerOf(error.metadata) }
            : { code: grpc.status.OK, details: '', trailer: [], response },
        ),
      );
    } catch (e) {
      // The client refused to serialize the request: not the server's doing.
      resolve({ code: -1 as grpc.status, details: `client: ${(e as Error).message}`, trailer: [] });
    }
  });
}

/** A unary call whose request is the given bytes, whatever they are. */
export function unaryBytes(
  client: grpc.Client,
  method: string,
  bytes: Buffer,
  metadata: grpc.Metadata,
  timeoutMs = 10_000,
): Promise<GrpcResult> {
  return new Promise((resolve) => {
    client.makeUnaryRequest(
      `/cimd.v1.Gateway/${method}`,
      (b: Buffer) => b,
      (b: Buffer) => b,
      bytes,
      metadata,
      { deadline: Date.now() + timeoutMs },
      (error: grpc.ServiceError | null, response?: Buffer) =>
        resolve(
          error
            ? { code: error.code, details: error.details, trailer: trailerOf(error.metadata) }
            : { code: grpc.status.OK, details: '', trailer: [], response },
        ),
    );
  });
}

/** WatchEvents until its first error or `ms`; the events it gave and how it ended. */
export function watch(
  client: grpc.Client,
  request: unknown,
  metadata: grpc.Metadata,
  ms = 400,
): Promise<GrpcResult & { events: { id: string; tenant: string; type: string; data_json: string }[] }> {
  return new Promise((resolve) => {
    const events: { id: string; tenant: string; type: string; data_json: string }[] = [];
    let call: grpc.ClientReadableStream<unknown>;
    try {
      call = (
        client as unknown as {
          WatchEvents: (r: unknown, m: grpc.Metadata) => grpc.ClientReadableStream<unknown>;
        }
      ).WatchEvents(request, metadata);
    } catch (e) {
      resolve({ code: -1 as grpc.status, details: `client: ${(e as Error).message}`, trailer: [], events });
      return;
    }
    let done = false;
    const timer = setTimeout(() => {
      if (done) return;
      done = true;
      call.cancel();
      resolve({ code: grpc.status.OK, details: 'still open', trailer: [], events });
    }, ms);
    call.on('data', (e: { id: string; tenant: string; type: string; data_json: string }) => events.push(e));
    call.on('error', (e: grpc.ServiceError) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve({ code: e.code, details: e.details, trailer: trailerOf(e.metadata), events });
    });
    call.on('end', () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve({ code: grpc.status.OK, details: 'ended', trailer: [], events });
    });
  });
}

function trailerOf(metadata: grpc.Metadata | undefined): string[] {
  return (metadata?.get('cimd-error') ?? []).map(String);
}

/** The error each status comes with (proto/cimd/v1/gateway.proto). */
const STATUS_ERRORS: Partial<Record<grpc.status, string[]>> = {
  [grpc.status.INVALID_ARGUMENT]: ['invalid_request'],
  [grpc.status.UNAUTHENTICATED]: ['invalid_token'],
  [grpc.status.PERMISSION_DENIED]: ['access_denied'],
  [grpc.status.NOT_FOUND]: ['not_found'],
  [grpc.status.FAILED_PRECONDITION]: ['conflict'],
};

export const codeName = (code: number): string => grpc.status[code] ?? String(code);

/**
 * What is wrong with a status given to bad input, or undefined when it is fine: INTERNAL,
 * UNKNOWN or another status the gateway does not give for bad input, a message that is not
 * `<error>: <description>`, a trailer that does not match, an unreadable description. OK is
 * accepted unless `allowOk` is false. RESOURCE_EXHAUSTED is grpc-js's own answer to a
 * message over the 64 KiB limit (no trailer) and is accepted when `oversized`.
 */
export function judgeGrpc(r: GrpcResult, options: { allowOk?: boolean; oversized?: boolean } = {}): string | undefined {
  if (r.code === (-1 as grpc.status)) return undefined; // never sent
  if (r.code === grpc.status.OK) return options.allowOk === false ? 'accepted (OK)' : undefined;
  if (r.code === grpc.status.RESOURCE_EXHAUSTED && options.oversized)
    return r.details.length > 0 ? undefined : 'RESOURCE_EXHAUSTED without a message';
  const expected = STATUS_ERRORS[r.code];
  if (!expected) return `${codeName(r.code)}: ${r.details.slice(0, 200)}`;
  const m = /^([a-z_]+): ([\s\S]+)$/.exec(r.details);
  if (!m) return `${codeName(r.code)} with message ${JSON.stringify(r.details.slice(0, 120))}`;
  if (!expected.includes(m[1] as string)) return `${codeName(r.code)} with error ${m[1]}`;
  if (r.trailer.length !== 1 || r.trailer[0] !== m[1])
    return `${codeName(r.code)} with trailer ${JSON.stringify(r.trailer)}`;
  const why = unreadable(m[2]);
  return why ? `${codeName(r.code)}: ${why}` : undefined;
}

// ---------------------------------------------------------------------------------------------
// Protobuf by hand
// ---------------------------------------------------------------------------------------------

function varint(n: number): Buffer {
  const out: number[] = [];
  let v = n;
  while (v > 127) {
    out.push((v & 127) | 128);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return Buffer.from(out);
}

/** A length-delimited field (string, bytes, message) with any bytes as its value. */
export function pbField(field: number, value: Buffer | string): Buffer {
  const bytes = typeof value === 'string' ? Buffer.from(value) : value;
  return Buffer.concat([varint((field << 3) | 2), varint(bytes.length), bytes]);
}

/** A varint field (the wrong wire type for a string). */
export function pbVarint(field: number, value: number): Buffer {
  return Buffer.concat([varint(field << 3), varint(value)]);
}
