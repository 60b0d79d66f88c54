import { z } from 'zod';

/**
 * What went wrong with a request, independent of the transport that carried it. Each transport
 * has one table from `kind` to its status (HTTP: http-error.filter.ts, gRPC: grpc-errors.ts);
 * `error` and `description` are the OAuth-style pair (RFC 6749 §5.2) both show.
 */
export type ErrorKind =
  | 'invalid_request'
  | 'unauthenticated'
  | 'forbidden'
  | 'not_found'
  | 'already_exists'
  | 'failed_precondition'
  | 'unavailable'
  | 'slow_consumer';

export class DomainError extends Error {
  constructor(
    readonly kind: ErrorKind,
    /** The OAuth-style error code of the body (`invalid_request`, `invalid_token`, …). */
    readonly error: string,
    readonly description: string,
  ) {
    super(description);
    this.name = 'DomainError';
  }
}

/** The one shape of every error body the gateway sends (RFC 6749 §5.2). */
export const ErrorBodySchema = z
  .object({
    error: z.string().min(1).meta({ description: 'An OAuth-style error code: invalid_request, invalid_token, …' }),
    error_description: z.string().min(1).meta({ description: 'What went wrong, for a person to read' }),
  })
  .meta({ description: 'Every error the gateway answers, whatever the status' });
export type ErrorBody = z.output<typeof ErrorBodySchema>;

export function errorBody(error: string, description: string): ErrorBody {
  return { error, error_description: description };
}

export const invalidRequest = (description: string) =>
  new DomainError('invalid_request', 'invalid_request', description);
export const unauthenticated = (description: string) =>
  new DomainError('unauthenticated', 'invalid_token', description);
export const forbidden = (description: string) => new DomainError('forbidden', 'access_denied', description);
export const notFound = (description: string) => new DomainError('not_found', 'not_found', description);
export const alreadyExists = (description: string) => new DomainError('already_exists', 'conflict', description);
/** The request is well formed but the state it needs is not there (a gone client, a session of another client). */
export const failedPrecondition = (description: string) =>
  new DomainError('failed_precondition', 'conflict', description);
export const unavailable = (description: string) =>
  new DomainError('unavailable', 'temporarily_unavailable', description);
export const slowConsumer = (description: string) => new DomainError('slow_consumer', 'slow_consumer', description);
