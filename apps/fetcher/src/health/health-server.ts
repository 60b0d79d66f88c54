import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { probe } from '@cimd/runtime';
import type { Registry } from 'prom-client';

export type ReadinessChecks = Record<string, () => Promise<unknown>>;

/**
 * The fetcher's only listening port: liveness, readiness and Prometheus metrics. It has no
 * public API, so a plain node:http server is all it needs.
 */
export class HealthServer {
  private server?: Server;

  constructor(
    private readonly checks: ReadinessChecks,
    private readonly metrics?: Registry,
  ) {}

  async listen(port: number, host: string): Promise<number> {
    this.server = createServer((req, res) => {
      void this.handle(req.method ?? 'GET', (req.url ?? '/').split('?')[0] ?? '/').then(({ status, body, type }) => {
        res.writeHead(status, { 'content-type': type ?? 'application/json' });
        res.end(typeof body === 'string' ? body : JSON.stringify(body));
      });
    });
    await new Promise<void>((resolve, reject) => {
      this.server?.once('error', reject);
      this.server?.listen(port, host, () => resolve());
    });
    return (this.server.address() as AddressInfo).port;
  }

  private async handle(method: string, path: string): Promise<{ status: number; body: unknown; type?: string }> {
    if (method !== 'GET') return { status: 405, body: { error: 'method_not_allowed' } };
    if (path === '/healthz') return { status: 200, body: { status: 'ok' } };
    if (path === '/readyz') {
      const names = Object.keys(this.checks);
      const results = await Promise.all(names.map((n) => probe(this.checks[n] as () => Promise<unknown>)));
      const checks = Object.fromEntries(names.map((n, i) => [n, results[i]]));
      const ready = results.every((r) => r.status === 'up');
      return { status: ready ? 200 : 503, body: { status: ready ? 'ready' : 'not_ready', checks } };
    }
    if (path === '/metrics' && this.metrics) {
      return { status: 200, body: await this.metrics.metrics(), type: this.metrics.contentType };
    }
    return { status: 404, body: { error: 'not_found' } };
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
