/**
 * The `error` of a failed call: the gateway's OAuth-style code (`invalid_request`,
 * `invalid_token`, `access_denied`, `not_found`, `conflict`, `temporarily_unavailable`,
 * `slow_consumer`, `server_error`), or one of this client's own: `timeout` (no answer within
 * the call's time), `unreachable` (no connection), `bad_response` (an answer that is not the
 * API's).
 */
export type GatewayErrorCode =
  | 'invalid_request'
  | 'invalid_token'
  | 'access_denied'
  | 'not_found'
  | 'conflict'
  | 'temporarily_unavailable'
  | 'slow_consumer'
  | 'server_error'
  | 'timeout'
  | 'unreachable'
  | 'bad_response';

/** Codes a later attempt may not get: the gateway or the path to it was down, not the request wrong. */
const TRANSIENT: ReadonlySet<string> = new Set(['temporarily_unavailable', 'unreachable', 'slow_consumer']);

/**
 * A call the gateway refused or could not answer, with the OAuth-style pair of its error body
 * (`{error, error_description}`) whichever the transport. A decision is never an error: `deny`
 * and `pending` are answers.
 */
export class GatewayError extends Error {
  override readonly name = 'GatewayError';

  constructor(
    /** GatewayErrorCode, or a code a newer gateway added (kept verbatim). */
    readonly error: GatewayErrorCode | (string & {}),
    readonly description: string,
    readonly details: {
      /** The HTTP status (HTTP transport). */
      status?: number;
      /** The gRPC status code (gRPC transport). */
      grpcCode?: number;
      /** How long the gateway asked callers to wait before trying again. */
      retryAfterMs?: number;
      cause?: unknown;
    } = {},
  ) {
    super(`${error}: ${description}`, details.cause === undefined ? undefined : { cause: details.cause });
  }

  /** Whether the same call may succeed later (the gateway or the network was down). */
  get transient(): boolean {
    return TRANSIENT.has(this.error);
  }
}

export function isGatewayError(e: unknown, error?: GatewayErrorCode): e is GatewayError {
  return e instanceof GatewayError && (error === undefined || e.error === error);
}
