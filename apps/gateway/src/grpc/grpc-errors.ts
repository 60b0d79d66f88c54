import { Metadata, status as GrpcCode } from '@grpc/grpc-js';
import { RpcException } from '@nestjs/microservices';
import { isBackendUnavailable } from '../common/backend-unavailable';
import { DomainError, ErrorKind } from '../common/domain-error';

/**
 * What a failed gRPC call ends with: the shape grpc-js sends as the call's status
 * (`code`, `details`, trailing `metadata`). `details` is `<error>: <error_description>`, the
 * OAuth-style pair of the HTTP error body; the trailer `cimd-error` holds `<error>` alone.
 */
export interface GrpcStatus {
  code: GrpcCode;
  details: string;
  metadata: Metadata;
}

/** The trailing metadata key carrying the OAuth-style error code of a failed call. */
export const ERROR_TRAILER = 'cimd-error';

/** Longest status message sent: trailers are limited in size (8 KiB by default in grpc-js clients). */
const MAX_DETAILS = 1024;

/**
 * The gRPC code of each kind of domain error (AIP-193's mapping). A failed precondition is not
 * ALREADY_EXISTS: registering a session is idempotent, so "already exists" would read as success.
 */
const GRPC_CODE: Record<ErrorKind, GrpcCode> = {
  invalid_request: GrpcCode.INVALID_ARGUMENT,
  unauthenticated: GrpcCode.UNAUTHENTICATED,
  forbidden: GrpcCode.PERMISSION_DENIED,
  not_found: GrpcCode.NOT_FOUND,
  already_exists: GrpcCode.ALREADY_EXISTS,
  failed_precondition: GrpcCode.FAILED_PRECONDITION,
  slow_consumer: GrpcCode.RESOURCE_EXHAUSTED,
  unavailable: GrpcCode.UNAVAILABLE,
};

export function grpcStatus(code: GrpcCode, error: string, description: string): GrpcStatus {
  const metadata = new Metadata();
  metadata.set(ERROR_TRAILER, error);
  let details = `${error}: ${description}`;
  if (details.length > MAX_DETAILS) details = `${details.slice(0, MAX_DETAILS - 1)}…`;
  return { code, details, metadata };
}

export function isGrpcStatus(value: unknown): value is GrpcStatus {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Partial<GrpcStatus>;
  return typeof v.code === 'number' && typeof v.details === 'string' && v.metadata instanceof Metadata;
}

/**
 * The status a failed call ends with, and whether to log the error: `warn` for an unreachable
 * Redis or PostgreSQL, `error` for our own faults (the caller learns nothing about those).
 */
export function toGrpcStatus(e: unknown): { status: GrpcStatus; log?: 'warn' | 'error' } {
  if (e instanceof RpcException && isGrpcStatus(e.getError())) return { status: e.getError() as GrpcStatus };
  if (e instanceof DomainError) return { status: grpcStatus(GRPC_CODE[e.kind], e.error, e.description) };
  if (isBackendUnavailable(e)) {
    const description = 'the gateway cannot reach its cache or database right now; retry shortly';
    return { status: grpcStatus(GrpcCode.UNAVAILABLE, 'temporarily_unavailable', description), log: 'warn' };
  }
  const description = 'the gateway failed to handle this request; it has been logged';
  return { status: grpcStatus(GrpcCode.INTERNAL, 'server_error', description), log: 'error' };
}

/** `UNAVAILABLE`, `NOT_FOUND`, …: the status's name, for logs and metrics. */
export function grpcCodeName(code: GrpcCode): string {
  return GrpcCode[code] ?? String(code);
}
