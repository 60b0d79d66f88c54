import { status as GrpcCode } from '@grpc/grpc-js';
import { RpcException } from '@nestjs/microservices';
import { isBackendUnavailable, unavailableBackend } from '../common/backend-unavailable';
import {
  alreadyExists,
  failedPrecondition,
  forbidden,
  invalidRequest,
  notFound,
  slowConsumer,
  unauthenticated,
  unavailable,
} from '../common/domain-error';
import { ERROR_TRAILER, grpcStatus, toGrpcStatus } from './grpc-errors';

function mapped(e: unknown) {
  const { status, log } = toGrpcStatus(e);
  return { code: GrpcCode[status.code], details: status.details, error: status.metadata.get(ERROR_TRAILER), log };
}

describe('toGrpcStatus', () => {
  it.each([
    [invalidRequest('client_id is required'), 'INVALID_ARGUMENT', 'invalid_request: client_id is required'],
    [unauthenticated('no token'), 'UNAUTHENTICATED', 'invalid_token: no token'],
    [forbidden('another tenant'), 'PERMISSION_DENIED', 'access_denied: another tenant'],
    [notFound('there is no tenant x'), 'NOT_FOUND', 'not_found: there is no tenant x'],
    [alreadyExists('exists'), 'ALREADY_EXISTS', 'conflict: exists'],
    [failedPrecondition('the client is gone'), 'FAILED_PRECONDITION', 'conflict: the client is gone'],
    [slowConsumer('too slow'), 'RESOURCE_EXHAUSTED', 'slow_consumer: too slow'],
    [unavailable('retry'), 'UNAVAILABLE', 'temporarily_unavailable: retry'],
  ])('a domain error keeps its OAuth-style error and description: %#', (e, code, details) => {
    const [error] = details.split(':');
    expect(mapped(e)).toEqual({ code, details, error: [error], log: undefined });
  });

  it('an unreachable Redis or PostgreSQL is UNAVAILABLE, logged as a warning', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    expect(mapped(refused)).toMatchObject({ code: 'UNAVAILABLE', error: ['temporarily_unavailable'], log: 'warn' });
    expect(mapped(refused).details).not.toContain('5432');
  });

  it('anything else is INTERNAL, logged, and says nothing about itself', () => {
    const bug = new TypeError("Cannot read properties of undefined (reading 'secret_hash')");
    expect(mapped(bug)).toEqual({
      code: 'INTERNAL',
      details: 'server_error: the gateway failed to handle this request; it has been logged',
      error: ['server_error'],
      log: 'error',
    });
    expect(mapped('a string').code).toBe('INTERNAL');
    expect(mapped(undefined).code).toBe('INTERNAL');
    // An RpcException that is not a status (Nest's own "Forbidden resource") is not trusted either.
    expect(mapped(new RpcException('Forbidden resource')).code).toBe('INTERNAL');
  });

  it('an RpcException carrying a status passes through unchanged', () => {
    const status = grpcStatus(GrpcCode.NOT_FOUND, 'not_found', 'gone');
    expect(toGrpcStatus(new RpcException(status))).toEqual({ status });
  });

  it('keeps the status message short enough for the trailers', () => {
    const { details } = toGrpcStatus(invalidRequest(`"${'x'.repeat(10_000)}" is not a tenant id`)).status;
    expect(details.length).toBe(1024);
    expect(details.endsWith('…')).toBe(true);
  });
});

describe('isBackendUnavailable', () => {
  const withCode = (code: string, message = 'failed') => Object.assign(new Error(message), { code });

  it.each([
    ['a refused connection', withCode('ECONNREFUSED')],
    ['a reset connection', withCode('ECONNRESET')],
    ['an unknown host', withCode('ENOTFOUND')],
    ['PostgreSQL shutting down (57P01)', withCode('57P01')],
    ['a PostgreSQL connection exception (class 08)', withCode('08006')],
    ['too many PostgreSQL connections', withCode('53300')],
    ['pg losing its connection', new Error('Connection terminated unexpectedly')],
    [
      'the next query of a pg client whose connection broke (a transaction during a fast shutdown)',
      new Error('Client has encountered a connection error and is not queryable'),
    ],
    ['the next query of a closed pg client', new Error('Client was closed and is not queryable')],
    [
      'the COMMIT of a TypeORM transaction whose connection was lost',
      Object.assign(new Error('Query runner already released. Cannot run queries anymore.'), {
        name: 'QueryRunnerAlreadyReleasedError',
      }),
    ],
    ['a pg pool timeout', new Error('timeout exceeded when trying to connect')],
    ['ioredis without its offline queue', new Error("Stream isn't writeable and enableOfflineQueue options is false")],
    [
      'ioredis giving up',
      Object.assign(new Error('Reached the max retries per request limit'), { name: 'MaxRetriesPerRequestError' }),
    ],
    [
      'a Redis Cluster promoting a replica (ioredis ran out of redirections)',
      new Error('Too many Cluster redirections. Last error: Error: Connection is closed.'),
    ],
    [
      'no cluster node answering',
      Object.assign(new Error('Failed to refresh slots cache.'), { name: 'ClusterAllFailedError' }),
    ],
    [
      'a cluster not ready, offline queue off',
      new Error("Cluster isn't ready and enableOfflineQueue options is false"),
    ],
    ['a shard without a primary', new Error('CLUSTERDOWN The cluster is down')],
    ['a demoted primary', new Error("READONLY You can't write against a read only replica.")],
    ['no sentinel answering', new Error('All sentinels are unreachable. Retrying from scratch after 10ms.')],
    ['TypeORM wrapping a driver error', Object.assign(new Error('query failed'), { driverError: withCode('57P03') })],
    ['an error caused by one', new Error('load failed', { cause: withCode('ETIMEDOUT') })],
    ['every address refused', new AggregateError([withCode('ECONNREFUSED'), withCode('ECONNREFUSED')])],
  ])('%s', (_name, e) => {
    expect(isBackendUnavailable(e)).toBe(true);
  });

  it.each([
    ['a bug', new TypeError('x is not a function')],
    ['a constraint violation', withCode('23505', 'duplicate key value violates unique constraint')],
    ['a syntax error in SQL', withCode('42601')],
    ['not an error', 'ECONNREFUSED'],
    ['null', null],
  ])('not %s', (_name, e) => {
    expect(isBackendUnavailable(e)).toBe(false);
  });

  it('names Redis as the backend of a cluster or Sentinel failover, not PostgreSQL', () => {
    for (const message of [
      'Too many Cluster redirections. Last error: Error: Connection is closed.',
      'CLUSTERDOWN Hash slot not served',
      'All sentinels are unreachable. Retrying from scratch after 10ms.',
    ])
      expect(unavailableBackend(new Error(message))).toBe('Redis');
  });

  it('stops on a cycle of causes', () => {
    const a = new Error('a') as Error & { cause?: unknown };
    a.cause = a;
    expect(isBackendUnavailable(a)).toBe(false);
  });
});
