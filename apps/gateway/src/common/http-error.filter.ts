import { InjectLogger } from '@cimd/runtime';
import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { unavailableBackend } from './backend-unavailable';
import { DomainError, ErrorBody, errorBody, ErrorKind } from './domain-error';

/** The HTTP status of each kind of domain error. */
const HTTP_STATUS: Record<ErrorKind, number> = {
  invalid_request: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  already_exists: 409,
  failed_precondition: 409,
  slow_consumer: 429,
  unavailable: 503,
};

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

interface HttpAnswer {
  status: number;
  body: ErrorBody;
  headers: Record<string, string>;
}

/** A domain error as an HTTP answer. */
export function httpAnswer(e: DomainError): HttpAnswer {
  const headers: Record<string, string> = {};
  if (e.kind === 'unauthenticated')
    headers['www-authenticate'] =
      `Bearer error="invalid_token", error_description="${e.description.replace(/"/g, "'")}"`;
  if (e.kind === 'unavailable') headers['retry-after'] = '5';
  return { status: HTTP_STATUS[e.kind], body: errorBody(e.error, e.description), headers };
}

/**
 * The one place errors become HTTP responses: domain errors by the table above, Nest's and
 * Fastify's client errors as 4xx, an unreachable backend as 503, anything else logged and
 * answered 500 without internals.
 */
@Catch()
export class HttpErrorFilter implements ExceptionFilter {
  constructor(@InjectLogger() private readonly logger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw exception;
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const request = host.switchToHttp().getRequest<FastifyRequest>();
    const { status, body, headers } = this.describe(exception, request);
    void reply.status(status).headers(headers).send(body);
  }

  describe(exception: unknown, request: FastifyRequest): HttpAnswer {
    if (exception instanceof DomainError) return httpAnswer(exception);
    const clientError = (status: number, description: string): HttpAnswer => ({
      status,
      body: errorBody('invalid_request', description),
      headers: {},
    });
    const code = (exception as { code?: string }).code;
    const fastify = code ? FASTIFY_CLIENT_ERRORS[code] : undefined;
    if (fastify) return clientError(fastify[0], fastify[1]);
    const statusCode = (exception as { statusCode?: number }).statusCode;
    if (exception instanceof SyntaxError || (statusCode === 400 && !(exception instanceof HttpException))) {
      return clientError(400, 'the request body is not valid JSON');
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      if ((status as HttpStatus) === HttpStatus.NOT_FOUND) {
        return {
          status,
          body: errorBody('not_found', `no route for ${request.method} ${request.url.split('?')[0]}`),
          headers: {},
        };
      }
      if (status < 500) return clientError(status, FASTIFY_STATUS_DESCRIPTIONS[status] ?? exception.message);
    }
    if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) {
      return clientError(statusCode, (exception as Error).message);
    }
    // Redis or PostgreSQL down: the caller should retry, not report a bug (as gRPC's UNAVAILABLE).
    const backend = unavailableBackend(exception);
    if (backend) {
      this.logger.warn({ err: (exception as Error).message, url: request.url, backend }, 'a backend is unreachable');
      return httpAnswer(
        new DomainError(
          'unavailable',
          'temporarily_unavailable',
          `the gateway cannot reach ${backend} right now, and this request needs it; retry shortly`,
        ),
      );
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
      body: errorBody('server_error', 'the gateway failed to handle this request; it has been logged'),
      headers: {},
    };
  }
}
