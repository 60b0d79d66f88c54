import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { probe } from '@cimd/runtime';
import type Redis from 'ioredis';

/**
 * The fetcher's only listening port: liveness, readiness and (later) metrics. It has no
 * public API, so a plain node:http server is all it needs.
 */
export class HealthServer {
  private server?: Server;

  constructor(private readonly redis: Redis) {}

  async listen(port: number, host: string): Promise<number> {
    this.server = createServer((req, res) => {
      void this.handle(req.method ?? 'GET', (req.url ?? '/').split('?')[0] ?? '/').then(({ status, body }) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      });
    });
    await new Promise<void>((resolve, reject) => {
      this.server?.once('error', reject);
      this.server?.listen(port, host, () => resolve());
    });
    return (this.server.address() as AddressInfo).port;
  }

  private async handle(method: string, path: string): Promise<{ status: number; body: unknown }> {
    if (method !== 'GET') return { status: 405, body: { error: 'method_not_allowed' } };
    if (path === '/healthz') return { status: 200, body: { status: 'ok' } };
    if (path === '/readyz') {
      const redis = await probe(() => this.redis.ping());
      const ready = redis.status === 'up';
      return { status: ready ? 200 : 503, body: { status: ready ? 'ready' : 'not_ready', checks: { redis } } };
    }
    return { status: 404, body: { error: 'not_found' } };
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
