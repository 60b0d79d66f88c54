import { HttpException, HttpStatus } from '@nestjs/common';

/**
 * Every refusal the gateway gives is an OAuth-style body, `{ "error", "error_description" }`
 * (RFC 6749 §5.2 shape), with a 4xx status; only our own faults are 5xx.
 */
export class ApiError extends HttpException {
  constructor(
    status: HttpStatus,
    readonly error: string,
    readonly description: string,
    readonly headers: Record<string, string> = {},
  ) {
    super({ error, error_description: description }, status);
  }
}

export const badRequest = (description: string) => new ApiError(HttpStatus.BAD_REQUEST, 'invalid_request', description);
export const unauthorized = (description: string) =>
  new ApiError(HttpStatus.UNAUTHORIZED, 'invalid_token', description, {
    'www-authenticate': `Bearer error="invalid_token", error_description="${description.replace(/"/g, "'")}"`,
  });
export const forbidden = (description: string) => new ApiError(HttpStatus.FORBIDDEN, 'access_denied', description);
export const notFound = (description: string) => new ApiError(HttpStatus.NOT_FOUND, 'not_found', description);
export const conflict = (description: string) => new ApiError(HttpStatus.CONFLICT, 'conflict', description);
export const unavailable = (description: string) =>
  new ApiError(HttpStatus.SERVICE_UNAVAILABLE, 'temporarily_unavailable', description, { 'retry-after': '5' });
