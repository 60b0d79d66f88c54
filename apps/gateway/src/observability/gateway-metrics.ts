import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

/** The gateway's Prometheus metrics (GET /metrics). */
@Injectable()
export class GatewayMetrics {
  readonly registry = new Registry();
  readonly requests = new Histogram({
    name: 'cimd_http_request_duration_seconds',
    help: 'HTTP request latency by route, method, status and (for authorize checks) decision',
    labelNames: ['route', 'method', 'status', 'decision'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  readonly requestTimeouts = new Counter({
    name: 'cimd_http_request_timeouts_total',
    help: 'HTTP connections answered 408 and closed because the request (headers and body) did not arrive within CIMD_HTTP_REQUEST_TIMEOUT_MS',
    registers: [this.registry],
  });
  readonly cache = new Counter({
    name: 'cimd_client_cache_lookups_total',
    help: 'Client cache lookups by result: hit, refreshing, miss, expired, stale, invalid, gone',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly localCache = new Counter({
    name: 'cimd_client_local_cache_lookups_total',
    help: "Authorize checks answered from this replica's in-process copy (hit) or from Redis (miss)",
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly decisions = new Counter({
    name: 'cimd_authorize_decisions_total',
    help: 'Authorization decisions by outcome and reason',
    labelNames: ['decision', 'reason'] as const,
    registers: [this.registry],
  });
  readonly rememberedDecisions = new Counter({
    name: 'cimd_authorize_remembered_answers_total',
    help: 'Authorize checks answered with a decision remembered from an identical check on the same copies of entry and policy',
    registers: [this.registry],
  });
  readonly clientAuthentications = new Counter({
    name: 'cimd_client_authentications_total',
    help: "Client authentications at tenants' token endpoints by result (authenticated, refused, pending) and reason",
    labelNames: ['result', 'reason'] as const,
    registers: [this.registry],
  });
  readonly grpcCalls = new Histogram({
    name: 'cimd_grpc_request_duration_seconds',
    help: 'gRPC call latency by method and status code',
    labelNames: ['rpc', 'code'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  readonly queueWait = new Histogram({
    name: 'cimd_fetch_queue_wait_seconds',
    help: 'Time an authorize check waited for the fetcher (miss or expired copy)',
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });

  /** Children by label values: prom-client hashes a label object on every call, the hot path looks up one string. */
  private readonly requestSeries = new Map<string, ReturnType<Histogram['labels']>>();
  private readonly decisionSeries = new Map<string, ReturnType<Counter['labels']>>();
  private readonly authenticationSeries = new Map<string, ReturnType<Counter['labels']>>();
  private readonly cacheSeries = new Map<string, ReturnType<Counter['labels']>>();
  private readonly localCacheSeries = new Map<string, ReturnType<Counter['labels']>>();

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'cimd_gateway_' });
  }

  /** One HTTP request answered (the label values come from a bounded set: routes, methods, statuses, decisions). */
  observeRequest(route: string, method: string, status: number, decision: string, seconds: number): void {
    const key = `${route} ${method} ${status} ${decision}`;
    let series = this.requestSeries.get(key);
    if (!series) {
      series = this.requests.labels({ route, method, status: String(status), decision });
      this.requestSeries.set(key, series);
    }
    series.observe(seconds);
  }

  /** One authorize decision, by outcome and deciding rule. */
  decided(decision: string, reason: string): void {
    counted(this.decisionSeries, this.decisions, decision, reason);
  }

  /** One client authentication, by result and the rule that refused it (if any). */
  authenticated(result: 'authenticated' | 'refused' | 'pending', reason: string): void {
    counted(this.authenticationSeries, this.clientAuthentications, result, reason);
  }

  /** One lookup in the client cache (Redis, or this replica's copy of it), by result. */
  cacheLookup(result: string): void {
    counted(this.cacheSeries, this.cache, result);
  }

  /** One lookup of this replica's in-process copy. */
  localCacheLookup(hit: boolean): void {
    counted(this.localCacheSeries, this.localCache, hit ? 'hit' : 'miss');
  }
}

/** Count one in `counter`'s child for these label values (in labelNames order), looked up by one string. */
function counted(
  series: Map<string, ReturnType<Counter['labels']>>,
  counter: Counter<string>,
  first: string,
  second?: string,
): void {
  const key = second === undefined ? first : `${first} ${second}`;
  let child = series.get(key);
  if (!child) {
    child = second === undefined ? counter.labels(first) : counter.labels(first, second);
    series.set(key, child);
  }
  child.inc();
}
