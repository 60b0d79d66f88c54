import { ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';

const AS_MAIN = join('dist', 'examples', 'authorization-server', 'src', 'main.js');
const MCP_MAIN = join('dist', 'examples', 'mcp-server', 'src', 'main.js');

/** The repository root: where dist/ is, from the source (tests) or from dist/ (the demo). */
function root(): string {
  for (let dir = __dirname; ; dir = dirname(dir)) {
    if (existsSync(join(dir, AS_MAIN))) return dir;
    if (dirname(dir) === dir) throw new Error(`${AS_MAIN} is missing: run "npm run build"`);
  }
}

/** One JSON log line of a service (pino). */
export interface LogLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}

/** A service running as its own process, with its log. */
export class ServiceProcess {
  readonly logs: LogLine[] = [];
  private readonly waiters = new Set<() => void>();
  private readonly exited: Promise<number | null>;

  constructor(
    readonly name: string,
    private readonly child: ChildProcess,
    /** Print the service's own output (LOG_ECHO=1 while debugging). */
    echo: boolean,
  ) {
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    lines.on('line', (line) => {
      if (echo) process.stderr.write(`[${name}] ${line}\n`);
      try {
        this.logs.push(JSON.parse(line) as LogLine);
      } catch {
        this.logs.push({ level: 30, msg: line });
      }
      for (const wake of this.waiters) wake();
    });
    child.stderr?.on('data', (d: Buffer) => {
      if (echo) process.stderr.write(`[${name}] ${d.toString()}`);
    });
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    void this.exited.then(() => {
      for (const wake of this.waiters) wake();
    });
  }

  /** The first log line (already written, from line `from` on, or to come) that `match` accepts. */
  async waitForLog(
    match: (line: LogLine) => boolean,
    what: string,
    options: { ms?: number; from?: number } = {},
  ): Promise<LogLine> {
    const deadline = Date.now() + (options.ms ?? 20_000);
    for (;;) {
      const found = this.logs.slice(options.from ?? 0).find(match);
      if (found) return found;
      if (this.child.exitCode !== null)
        throw new Error(`${this.name} exited (${this.child.exitCode}) before ${what}: ${this.tail()}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} from ${this.name}: ${this.tail()}`);
      await new Promise<void>((resolve) => {
        const wake = () => {
          this.waiters.delete(wake);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(wake, Math.max(10, deadline - Date.now()));
        this.waiters.add(wake);
      });
    }
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null) this.child.kill('SIGTERM');
    await this.exited;
  }

  private tail(): string {
    return this.logs
      .slice(-5)
      .map((l) => `${l.msg}${typeof l.err === 'string' ? ` (${l.err})` : ''}`)
      .join(' | ');
  }
}

function start(name: string, main: string, env: Record<string, string>): ServiceProcess {
  const child = spawn(process.execPath, [join(root(), main)], {
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'test', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new ServiceProcess(name, child, process.env.LOG_ECHO === '1');
}

export interface AuthorizationServerSettings {
  port: number;
  gatewayUrl: string;
  /** host:port of the gateway's gRPC API, for the revocation feed. */
  gatewayGrpc?: string;
  tenant: string;
  apiKey: string;
  resource: string;
  resourceClientId: string;
  resourceClientSecret: string;
}

/** examples/authorization-server, built, as its own process; resolves once it listens. */
export async function startAuthorizationServer(s: AuthorizationServerSettings): Promise<ServiceProcess> {
  const service = start('authorization-server', AS_MAIN, {
    PORT: String(s.port),
    HOST: '127.0.0.1',
    CIMD_GATEWAY_URL: s.gatewayUrl,
    ...(s.gatewayGrpc !== undefined ? { CIMD_GATEWAY_GRPC: s.gatewayGrpc } : {}),
    CIMD_TENANT: s.tenant,
    CIMD_API_KEY: s.apiKey,
    RESOURCE: s.resource,
    RESOURCE_CLIENT_ID: s.resourceClientId,
    RESOURCE_CLIENT_SECRET: s.resourceClientSecret,
  });
  await service.waitForLog((l) => l.msg === 'authorization server listening', 'it to listen');
  return service;
}

export interface McpServerSettings {
  port: number;
  authorizationServer: string;
  clientId: string;
  clientSecret: string;
}

/** examples/mcp-server, built, as its own process; resolves once it listens. */
export async function startMcpServer(s: McpServerSettings): Promise<ServiceProcess> {
  const service = start('mcp-server', MCP_MAIN, {
    PORT: String(s.port),
    HOST: '127.0.0.1',
    AUTHORIZATION_SERVER: s.authorizationServer,
    INTROSPECTION_CLIENT_ID: s.clientId,
    INTROSPECTION_CLIENT_SECRET: s.clientSecret,
  });
  await service.waitForLog((l) => l.msg === 'MCP server listening', 'it to listen');
  return service;
}
