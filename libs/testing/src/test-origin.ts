import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, Server } from 'node:https';
import { AddressInfo, createServer as createTcpServer, Server as TcpServer, Socket } from 'node:net';

export type OriginHandler = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * A local HTTPS "client host" for tests and demos: real TLS with a certificate from a test CA,
 * routes set per test, and a log of every request it received.
 */
export class TestOrigin {
  readonly requests: { method: string; path: string; headers: IncomingMessage['headers'] }[] = [];
  private readonly routes = new Map<string, OriginHandler>();
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();

  constructor(tls: { certPem: string; keyPem: string }) {
    this.server = createServer({ cert: tls.certPem, key: tls.keyPem }, (req, res) => {
      const path = (req.url ?? '/').split('?')[0] ?? '/';
      this.requests.push({ method: req.method ?? 'GET', path: req.url ?? '/', headers: req.headers });
      const handler = this.routes.get(path);
      if (handler) handler(req, res);
      else res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    });
    this.server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }

  async listen(host = '127.0.0.1', port = 0): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => resolve());
    });
    return (this.server.address() as AddressInfo).port;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  route(path: string, handler: OriginHandler): this {
    this.routes.set(path, handler);
    return this;
  }

  /** Serve a JSON body with the given status and headers. */
  json(path: string, body: unknown, headers: Record<string, string | number> = {}, status = 200): this {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    return this.route(path, (_req, res) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(text);
    });
  }

  hits(path: string): number {
    return this.requests.filter((r) => r.path.split('?')[0] === path).length;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/**
 * A TCP listener that only counts connections: placed on an address the fetcher must never
 * reach, a count of zero proves that no connection was even attempted.
 */
export class Canary {
  connections = 0;
  private readonly server: TcpServer;

  constructor() {
    this.server = createTcpServer((socket) => {
      this.connections++;
      socket.destroy();
    });
  }

  async listen(host: string, port = 0): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen({ host, port, ipv6Only: false }, () => resolve());
    });
    return (this.server.address() as AddressInfo).port;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
