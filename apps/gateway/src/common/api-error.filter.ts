import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Inject } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { LOGGER } from '../infra/tokens';
import { ApiError, unavailable } from './api-error';
import { unavailableBackend } from './backend-unavailable';

/** Fastify's own client errors (body parsing, limits), translated into the same OAuth-style body. */
const FASTIFY_CLIENT_ERRORS: Record<string, [number, string]> = {
  FST_ERR_CTP_BODY_TOO_LARGE: [413, 'the request body is too large'],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [415, 'the request body must be application/json'],
  FST_ERR_CTP_EMPTY_JSON_BODY: [400, 'the request body is empty; send a JSON object'],
  FST_ERR_CTP_INVALID_JSON_BODY: [400, 'the request body is not valid JSON'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: [400, 'Content-Length does not match the body'],
  FST_ERR_BAD_URL: [400, 'the request URL is malformed'],
};

/**
 * Nest hands Fastify's errors to filters as a plain HttpException(message, status), without
 * their code; these statuses come from Fastify alone, so they get our wording back.
 */
const FASTIFY_STATUS_DESCRIPTIONS: Record<number, string> = {
  413: 'the request body is too large',
  415: 'the request body must be application/json',
};

/**
 * The one place errors become responses: ApiError and Nest's HTTP errors keep their status,
 * Fastify's body errors become 4xx, anything else is logged and answered as a 500 without
 * internals.
 */
@Catch()
export class ApiErrorFilter implements ExceptionFilter {
  constructor(@Inject(LOGGER) private readonly logger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw exception;
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const request = host.switchToHttp().getRequest<FastifyRequest>();
    const { status, body, headers } = this.describe(exception, request);
    void reply.status(status).headers(headers).send(body);
  }

  describe(
    exception: unknown,
    request: FastifyRequest,
  ): { status: number; body: { error: string; error_description: string }; headers: Record<string, string> } {
    if (exception instanceof ApiError) {
      return {
        status: exception.getStatus(),
        body: { error: exception.error, error_description: exception.description },
        headers: exception.headers,
      };
    }
    const code = (exception as { code?: string }).code;
    const fastify = code ? FASTIFY_CLIENT_ERRORS[code] : undefined;
    if (fastify)
      return { status: fastify[0], body: { error: 'invalid_request', error_description: fastify[1] }, headers: {} };
    const statusCode = (exception as { statusCode?: number }).statusCode;
    if (exception instanceof SyntaxError || (statusCode === 400 && !(exception instanceof HttpException))) {
      return {
        status: 400,
        body: { error: 'invalid_request', error_description: 'the request body is not valid JSON' },
        headers: {},
      };
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      if ((status as HttpStatus) === HttpStatus.NOT_FOUND) {
        return {
          status,
          body: {
            error: 'not_found',
            error_description: `no route for ${request.method} ${request.url.split('?')[0]}`,
          },
          headers: {},
        };
      }
      if (status < 500) {
        const description = FASTIFY_STATUS_DESCRIPTIONS[status] ?? exception.message;
        return { status, body: { error: 'invalid_request', error_description: description }, headers: {} };
      }
    }
    if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) {
      return {
        status: statusCode,
        body: { error: 'invalid_request', error_description: (exception as Error).message },
        headers: {},
      };
    }
    // Redis or PostgreSQL down: the caller should retry, not report a bug (as gRPC's UNAVAILABLE).
    const backend = unavailableBackend(exception);
    if (backend) {
      this.logger.warn({ err: (exception as Error).message, url: request.url, backend }, 'a backend is unreachable');
      const e = unavailable(`the gateway cannot reach ${backend} right now, and this request needs it; retry shortly`);
      return {
        status: e.getStatus(),
        body: { error: e.error, error_description: e.description },
        headers: e.headers,
      };
    }
    this.logger.error(
      {
        err: exception instanceof Error ? { message: exception.message, stack: exception.stack } : String(exception),
        url: request.url,
      },
      'unhandled error',
    );
    return {
      status: 500,
      body: {
        error: 'server_error',
        error_description: 'the gateway failed to handle this request; it has been logged',
      },
      headers: {},
    };
  }
}
