/**
 * Whether an error means Redis or PostgreSQL is unreachable (a retry may work) rather than a
 * bug: the HTTP filter answers these 503 `temporarily_unavailable`, gRPC `UNAVAILABLE`.
 */

/** Socket-level error codes of a Redis or PostgreSQL connection that is down or unreachable. */
const NETWORK_ERRORS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
]);

/** PostgreSQL SQLSTATEs of a server that is down, restarting or full (class 08: connection exception). */
const POSTGRES_UNAVAILABLE = /^(08[0-9A-Z]{3}|57P0[1-3]|53300)$/;

/**
 * A Redis Cluster or Sentinel failing over: ioredis's own messages (no node or sentinel
 * answers, too many redirections while a replica is being promoted, a cluster not ready with its
 * offline queue off) and the servers' replies while a shard has no primary (CLUSTERDOWN,
 * TRYAGAIN), a primary was demoted (READONLY), or a replica is loading or cut off from its
 * primary (LOADING, MASTERDOWN).
 */
const REDIS_FAILOVER_MESSAGES = [
  /Too many Cluster redirections/,
  /Failed to refresh slots cache/,
  /None of startup nodes is available/,
  /Cluster isn't ready and enableOfflineQueue options is false/,
  /All sentinels are unreachable/,
  /^(CLUSTERDOWN|TRYAGAIN|READONLY|LOADING|MASTERDOWN) /,
];

/** Messages of client libraries whose connection is gone (pg, ioredis with its offline queue off). */
const UNAVAILABLE_MESSAGES = [
  /Connection terminated/i,
  // pg, on the next query of a client checked out of the pool (a transaction) whose server
  // process ended under it, e.g. during a fast shutdown: the error carries no code.
  /Client has encountered a connection error and is not queryable/i,
  /Client was closed and is not queryable/i,
  // TypeORM releases a transaction's query runner when its connection errors; the next query
  // or the COMMIT then fails so (seen when PostgreSQL stopped in the middle of a POST /v1/tenants).
  /Query runner already released/i,
  /timeout exceeded when trying to connect/i,
  /Connection is closed/i,
  /Stream isn't writeable/i,
  /Reached the max retries per request limit/i,
  ...REDIS_FAILOVER_MESSAGES,
];

/**
 * Whether an unexpected error means Redis or PostgreSQL is unreachable (a retry may work),
 * as opposed to a bug. Looks through TypeORM's `driverError`, `cause` and AggregateError.
 */
export function isBackendUnavailable(e: unknown, depth = 0): boolean {
  if (depth > 4 || typeof e !== 'object' || e === null) return false;
  const err = e as { code?: unknown; message?: unknown; name?: unknown; driverError?: unknown; cause?: unknown };
  if (typeof err.code === 'string' && (NETWORK_ERRORS.has(err.code) || POSTGRES_UNAVAILABLE.test(err.code)))
    return true;
  if (err.name === 'MaxRetriesPerRequestError') return true;
  if (typeof err.message === 'string' && UNAVAILABLE_MESSAGES.some((m) => m.test(err.message as string))) return true;
  if (e instanceof AggregateError && e.errors.some((inner) => isBackendUnavailable(inner, depth + 1))) return true;
  return isBackendUnavailable(err.driverError, depth + 1) || isBackendUnavailable(err.cause, depth + 1);
}

/** Messages and names that only ioredis (and BullMQ through it) gives. */
const REDIS_MARKERS = [
  /Stream isn't writeable/i,
  /Connection is closed/i,
  /max retries per request/i,
  ...REDIS_FAILOVER_MESSAGES,
];

/**
 * Which backend an unavailable-backend error comes from, for the error description: ioredis
 * has its own messages; what is left (refused connections, SQLSTATEs, pg's messages) is
 * PostgreSQL, since the gateway's Redis connections never surface socket errors to commands.
 */
export function unavailableBackend(e: unknown): 'PostgreSQL' | 'Redis' | undefined {
  if (!isBackendUnavailable(e)) return undefined;
  for (let err: unknown = e, depth = 0; err && typeof err === 'object' && depth < 5; depth++) {
    const { name, message, driverError, cause } = err as {
      name?: unknown;
      message?: unknown;
      driverError?: unknown;
      cause?: unknown;
    };
    if (name === 'MaxRetriesPerRequestError') return 'Redis';
    if (typeof message === 'string' && REDIS_MARKERS.some((m) => m.test(message))) return 'Redis';
    err = driverError ?? cause;
  }
  return 'PostgreSQL';
}
