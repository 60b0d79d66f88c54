import { probe } from '@cimd/runtime';
import { InjectRedis, RedisClient } from '@cimd/store';
import { Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { FetchWorker } from '../fetch/fetch-worker';
import { FetcherConfig, InjectFetcherConfig } from '../fetcher-config';
import { FetcherMetrics } from '../fetcher-metrics';
import { WebhookWorker } from '../webhooks/webhook-worker';

type Answer = { status: number; body: unknown; type?: string };

/**
 * The fetcher's only listening port: liveness, readiness (Redis, the fetch and webhook workers)
 * and Prometheus metrics. It has no public API, so a plain node:http server is all it needs.
 */
@Injectable()
export class HealthServer implements OnApplicationBootstrap, OnApplicationShutdown {
  private server?: Server;
  /** The port listened on (useful when configured as 0). */
  port?: number;

  constructor(
    @InjectRedis() private readonly redis: RedisClient,
    private readonly fetchWorker: FetchWorker,
    private readonly webhookWorker: WebhookWorker,
    private readonly metrics: FetcherMetrics,
    @InjectFetcherConfig() private readonly config: FetcherConfig,
  ) {}

  private readonly checks: Record<string, () => Promise<unknown>> = {
    redis: () => this.redis.ping(),
    worker: () =>
      this.fetchWorker.running ? Promise.resolve() : Promise.reject(new Error('the fetch worker is not running')),
    webhooks: () =>
      this.webhookWorker.running ? Promise.resolve() : Promise.reject(new Error('the webhook worker is not running')),
  };

  async onApplicationBootstrap(): Promise<void> {
    const server = createServer((req, res) => {
      void this.answer(req.method ?? 'GET', (req.url ?? '/').split('?')[0] ?? '/').then(({ status, body, type }) => {
        res.writeHead(status, { 'content-type': type ?? 'application/json' });
        res.end(typeof body === 'string' ? body : JSON.stringify(body));
      });
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.config.port, this.config.host, () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
  }

  async onApplicationShutdown(): Promise<void> {
    const server = this.server;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async answer(method: string, path: string): Promise<Answer> {
    if (method !== 'GET') return { status: 405, body: { error: 'method_not_allowed' } };
    if (path === '/healthz') return { status: 200, body: { status: 'ok' } };
    if (path === '/readyz') {
      const names = Object.keys(this.checks);
      const results = await Promise.all(names.map((n) => probe(this.checks[n] as () => Promise<unknown>)));
      const checks = Object.fromEntries(names.map((n, i) => [n, results[i]]));
      const ready = results.every((r) => r.status === 'up');
      return { status: ready ? 200 : 503, body: { status: ready ? 'ready' : 'not_ready', checks } };
    }
    if (path === '/metrics')
      return { status: 200, body: await this.metrics.registry.metrics(), type: this.metrics.registry.contentType };
    return { status: 404, body: { error: 'not_found' } };
  }
}
