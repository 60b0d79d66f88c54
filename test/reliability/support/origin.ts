import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer as createHttpsServer, Server as HttpsServer } from 'node:https';
import { AddressInfo, createServer as createTcpServer, Server as TcpServer, Socket } from 'node:net';

export type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

export interface Tls {
  certPem: string;
  keyPem: string;
}

/** A request as the origin saw it. */
export interface Seen {
  host: string;
  path: string;
  at: number;
  headers: IncomingMessage['headers'];
  body: string;
}

/**
 * The client hosts of the reliability suite: real TLS (a test CA), routes by exact path or by
 * prefix, a log of every request with its time, and a count of requests still open.
 */
export class Origin {
  readonly seen: Seen[] = [];
  private readonly exact = new Map<string, Handler>();
  private readonly prefixes: [string, Handler][] = [];
  private readonly server: HttpsServer;
  private readonly sockets = new Set<Socket>();
  open = 0;

  constructor(tls: Tls) {
    this.server = createHttpsServer({ cert: tls.certPem, key: tls.keyPem }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (d: Buffer) => chunks.push(d));
      req.on('end', () => {
        const path = (req.url ?? '/').split('?')[0] ?? '/';
        const body = Buffer.concat(chunks).toString();
        this.seen.push({ host: req.headers.host ?? '', path, at: Date.now(), headers: req.headers, body });
        this.open++;
        res.once('close', () => this.open--);
        const handler = this.exact.get(path) ?? this.prefixes.find(([p]) => path.startsWith(p))?.[1];
        if (handler) handler(req, res, body);
        else res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      });
    });
    this.server.on('connection', (s: Socket) => this.track(s));
  }

  private track(s: Socket): void {
    this.sockets.add(s);
    s.on('error', () => undefined);
    s.on('close', () => this.sockets.delete(s));
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => resolve());
    });
    return this.port;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  route(path: string, handler: Handler): this {
    this.exact.set(path, handler);
    return this;
  }

  /** Every path starting with `prefix` (the first matching prefix wins; exact routes first). */
  prefix(prefix: string, handler: Handler): this {
    this.prefixes.push([prefix, handler]);
    return this;
  }

  json(path: string, body: unknown, headers: Record<string, string> = {}, status = 200): this {
    const text = JSON.stringify(body);
    return this.route(path, (_req, res) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(text);
    });
  }

  hits(path: string): number {
    return this.seen.filter((s) => s.path === path).length;
  }

  /** Hand an accepted TCP connection to this server's TLS side (SwitchableServer's "ok" mode). */
  accept(socket: Socket): void {
    this.server.emit('connection', socket);
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

export type ConnectionMode = 'ok' | 'stall' | 'reset' | 'wrong-name';

/**
 * A TCP listener whose behaviour per connection is switched by the test:
 * - `ok`: TLS with the right certificate, then the routes of `origin`;
 * - `stall`: accepts the connection and never answers the ClientHello (a TLS handshake stall);
 * - `reset`: reads the ClientHello, then resets the connection (RST);
 * - `wrong-name`: TLS with a valid certificate (same CA) for another host name.
 * Switching closes the connections open so far, so keep-alive cannot carry the old mode over.
 */
export class SwitchableServer {
  mode: ConnectionMode = 'ok';
  accepted: { at: number; mode: ConnectionMode }[] = [];
  private readonly server: TcpServer;
  private readonly sockets = new Set<Socket>();

  constructor(
    private readonly origin: Origin,
    private readonly wrongName: Origin,
  ) {
    this.server = createTcpServer((socket) => {
      this.sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => this.sockets.delete(socket));
      this.accepted.push({ at: Date.now(), mode: this.mode });
      switch (this.mode) {
        case 'ok':
          this.origin.accept(socket);
          break;
        case 'wrong-name':
          this.wrongName.accept(socket);
          break;
        case 'reset':
          socket.once('data', () => socket.resetAndDestroy());
          break;
        case 'stall':
          break; // read nothing, answer nothing
      }
    });
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => resolve());
    });
    return this.port;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  set(mode: ConnectionMode): void {
    this.mode = mode;
    for (const s of this.sockets) s.destroy();
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** A valid public client document for `clientId`, redirecting back to its own host. */
export function documentFor(clientId: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const host = new URL(clientId).host;
  return {
    client_id: clientId,
    client_name: 'Reliability Test Client',
    redirect_uris: [`https://${host}/callback`],
    token_endpoint_auth_method: 'none',
    ...extra,
  };
}

/** Serves a valid document for whatever client_id the request names (host and path as requested). */
export const serveDocument =
  (headers: Record<string, string> = { 'cache-control': 'max-age=600' }, delayMs = 0): Handler =>
  (req, res) => {
    const clientId = `https://${req.headers.host}${(req.url ?? '/').split('?')[0]}`;
    const send = () => {
      if (!res.destroyed)
        res
          .writeHead(200, { 'content-type': 'application/json', ...headers })
          .end(JSON.stringify(documentFor(clientId)));
    };
    if (delayMs > 0) setTimeout(send, delayMs);
    else send();
  };
