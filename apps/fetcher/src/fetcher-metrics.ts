import { Injectable } from '@nestjs/common';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The fetcher's Prometheus metrics, on its own registry (served at /metrics). */
@Injectable()
export class FetcherMetrics {
  readonly registry = new Registry();
  readonly jobs = new Counter({
    name: 'cimd_fetch_jobs_total',
    help: 'Fetch jobs finished, by outcome (ok, not_modified, invalid, gone, transient, blocked, too_large, bad_content_type, redirect, cooldown, rate_limited, already_fresh)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly duration = new Histogram({
    name: 'cimd_fetch_duration_seconds',
    help: 'Time from fetch start to outcome, by outcome',
    labelNames: ['outcome'] as const,
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly events = new Counter({
    name: 'cimd_client_events_total',
    help: 'Client events emitted to the Redis stream, by type',
    labelNames: ['type'] as const,
    registers: [this.registry],
  });
  readonly keySets = new Counter({
    name: 'cimd_key_set_fetches_total',
    help: "Fetches of clients' jwks_uri, by outcome (ok, not_modified, transient, refused)",
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly logos = new Counter({
    name: 'cimd_logo_fetches_total',
    help: 'Logo prefetches, by result (stored, reused, failed)',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'cimd_fetcher_' });
  }
}
