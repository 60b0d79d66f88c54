import { LOGGER } from '@cimd/runtime';
import { ArgumentsHost, Catch, Inject, RpcExceptionFilter } from '@nestjs/common';
import type { Logger } from 'pino';
import { Observable, throwError } from 'rxjs';

import { toGrpcStatus } from './grpc-errors';

/**
 * The last word on a failed gRPC call: whatever was thrown becomes a gRPC status (see
 * toGrpcStatus), never an exception that could escape into grpc-js. The controller already
 * turns its own errors into statuses; this catches whatever happens around it.
 */
@Catch()
export class GrpcExceptionFilter implements RpcExceptionFilter<unknown> {
  constructor(@Inject(LOGGER) private readonly logger: Logger) {}

  catch(exception: unknown, _host: ArgumentsHost): Observable<never> {
    const { status, log } = toGrpcStatus(exception);
    if (log) {
      const err =
        exception instanceof Error ? { message: exception.message, stack: exception.stack } : String(exception);
      this.logger[log]({ err }, 'gRPC call failed outside its handler');
    }
    return throwError(() => status);
  }
}
