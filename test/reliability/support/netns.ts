import { ChildProcess, execFile, spawn, spawnSync } from 'node:child_process';
import { appendFileSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createConnection, createServer, Server } from 'node:net';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { exited, ownCleanup, sleep } from './servers';

/**
 * Network namespaces for the SSRF test (`ip netns`, root only): a namespace with nothing but
 * its loopback device, addresses of every special-use range on it, an agent process inside it
 * (`netns-agent.js`: listeners that record every connection, the positive-control origins, a
 * DNS server, and unix-socket forwards, since unix sockets are the one way in and out of a namespace that has
 * no other device), and processes such as the real fetcher run inside it with `ip netns exec`.
 *
 * Namespaces are named `cimd-ssrf-<owner pid>-<n>` and registered for clean-up (afterAll,
 * process exit, and a sweep of those whose owner is gone when the next run starts).
 */

const run = promisify(execFile);
const NAME_PREFIX = 'cimd-ssrf-';
const ETC_NETNS = '/etc/netns';
let counter = 0;

export type NetnsSupport = { ok: true } | { ok: false; reason: string };

/** Whether this process may create network namespaces: root, `ip` installed, `ip netns add` works. */
export async function netnsSupport(): Promise<NetnsSupport> {
  if (process.platform !== 'linux')
    return { ok: false, reason: `network namespaces need Linux, not ${process.platform}` };
  if (typeof process.getuid === 'function' && process.getuid() !== 0)
    return { ok: false, reason: `network namespaces need root (uid ${process.getuid()})` };
  const probe = `${NAME_PREFIX}${process.pid}-probe`;
  try {
    await run('ip', ['netns', 'add', probe], { timeout: 10_000 });
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    return { ok: false, reason: `"ip netns add" failed: ${(err.stderr || err.message).trim()}` };
  }
  spawnSync('ip', ['netns', 'del', probe]);
  return { ok: true };
}

/** The pid that made a namespace (its name is `cimd-ssrf-<pid>-<n>`), or undefined for other names. */
function ownerOf(name: string): number | undefined {
  const m = /^(\d+)-/.exec(name.slice(NAME_PREFIX.length));
  return name.startsWith(NAME_PREFIX) && m ? Number(m[1]) : undefined;
}

function orphaned(name: string): boolean {
  const owner = ownerOf(name);
  if (owner === undefined || owner === process.pid) return false;
  try {
    process.kill(owner, 0);
    return false;
  } catch {
    return true;
  }
}

/** Delete namespaces (and their /etc/netns/NAME) left by earlier runs that were killed (their owner pid is gone). */
export function sweepNamespaces(): void {
  const list = spawnSync('ip', ['netns', 'list']).stdout?.toString() ?? '';
  for (const name of list.split('\n').map((line) => line.split(' ')[0] ?? '')) {
    if (orphaned(name)) spawnSync('ip', ['netns', 'del', name]);
  }
  let configs: string[] = [];
  try {
    configs = readdirSync(ETC_NETNS);
  } catch {
    configs = [];
  }
  for (const name of configs) if (orphaned(name)) rmSync(join(ETC_NETNS, name), { recursive: true, force: true });
}

export class NetworkNamespace {
  private deleted = false;

  private constructor(readonly name: string) {}

  /** A new namespace with its loopback device up, deleted at clean-up. */
  static async create(): Promise<NetworkNamespace> {
    sweepNamespaces();
    const ns = new NetworkNamespace(`${NAME_PREFIX}${process.pid}-${++counter}`);
    await run('ip', ['netns', 'add', ns.name]);
    ownCleanup(
      () => Promise.resolve(ns.deleteNow()),
      () => ns.deleteNow(),
    );
    await run('ip', ['-n', ns.name, 'link', 'set', 'lo', 'up']);
    return ns;
  }

  /**
   * Put addresses on `lo` (IPv6 ones without duplicate address detection, so they can be bound
   * at once; `fe80::` ones with link scope). Returns the ones the kernel refused, with why.
   */
  async addAddresses(addresses: readonly string[]): Promise<Map<string, string>> {
    const refused = new Map<string, string>();
    for (const address of addresses) {
      const v6 = address.includes(':');
      const args = ['-n', this.name, 'addr', 'add', `${address}/${v6 ? 128 : 32}`, 'dev', 'lo'];
      if (v6) args.push('nodad');
      if (/^fe[89ab]/i.test(address)) args.push('scope', 'link');
      try {
        await run('ip', args);
      } catch (e) {
        const err = e as { stderr?: string; message: string };
        refused.set(address, (err.stderr || err.message).trim());
      }
    }
    return refused;
  }

  /**
   * The namespace's own resolv.conf (`ip netns exec` mounts /etc/netns/NAME/resolv.conf over
   * /etc/resolv.conf), removed with the namespace.
   */
  setResolvConf(content: string): void {
    mkdirSync(join(ETC_NETNS, this.name), { recursive: true });
    writeFileSync(join(ETC_NETNS, this.name, 'resolv.conf'), content);
  }

  async devices(): Promise<string[]> {
    const { stdout } = await run('ip', ['-n', this.name, '-brief', 'link']);
    return stdout
      .split('\n')
      .map((l) => l.split(/\s+/)[0] ?? '')
      .filter(Boolean);
  }

  /** Spawn `command args` inside the namespace (the child's pid is the command's own: `ip netns exec` execs it). */
  spawn(command: string, args: string[], env: Record<string, string>, log: number | 'pipe'): ChildProcess {
    return spawn('ip', ['netns', 'exec', this.name, command, ...args], {
      env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/bin', ...env },
      stdio: ['ignore', log, log === 'pipe' ? 'pipe' : log],
    });
  }

  deleteNow(): void {
    if (this.deleted) return;
    this.deleted = true;
    spawnSync('ip', ['netns', 'del', this.name]);
    rmSync(join(ETC_NETNS, this.name), { recursive: true, force: true });
  }
}

/** A Node process inside a namespace (the fetcher), logging to a file, stopped at clean-up. */
export class NamespacedProcess {
  private child?: ChildProcess;
  readonly logFile: string;

  constructor(
    readonly name: string,
    private readonly ns: NetworkNamespace,
    private readonly entry: string,
    private readonly env: Record<string, string>,
    private readonly dir: string,
  ) {
    this.logFile = join(dir, `${name}.log`);
    ownCleanup(
      () => this.stop(),
      () => {
        if (this.running) this.child?.kill('SIGKILL');
      },
    );
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  start(): void {
    this.child = this.ns.spawn(process.execPath, [this.entry], this.env, openSync(this.logFile, 'a'));
    notePid(this.dir, this.child.pid);
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited(child);
    clearTimeout(timer);
  }

  log(): string {
    try {
      return readFileSync(this.logFile, 'utf8');
    } catch {
      return '';
    }
  }

  /** The process's JSON log lines (pino). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  logLines(): any[] {
    return this.log()
      .split('\n')
      .flatMap((l) => {
        try {
          return [JSON.parse(l) as unknown];
        } catch {
          return [];
        }
      });
  }

  tail(lines = 40): string {
    return this.log().split('\n').slice(-lines).join('\n');
  }
}

export interface AgentEvent {
  ev: 'listening' | 'listen_error' | 'conn' | 'sni' | 'request' | 'probe' | 'dns' | 'ready' | 'fatal';
  role?: 'trap' | 'origin' | 'forward' | 'dns';
  name?: string;
  type?: string;
  answer?: string[] | 'NXDOMAIN';
  address?: string;
  port?: number;
  local?: string;
  remote?: string;
  servername?: string | null;
  path?: string;
  host?: string;
  method?: string;
  target?: string;
  ok?: boolean;
  code?: string;
  message?: string;
}

export interface Route {
  status: number;
  headers?: Record<string, string>;
  body?: string;
  base64?: boolean;
  /** Answer with each of these in turn, then the last one from then on. */
  sequence?: Route[];
}

export interface AgentConfig {
  tls: { certPem: string; keyPem: string };
  traps: { address: string; port: number; tls: boolean }[];
  origins: { address: string; port: number; routes: Record<string, Route> }[];
  forwards: {
    from: { path: string } | { host: string; port: number };
    to: { path: string } | { host: string; port: number };
  }[];
  probes: { host: string; port: number }[];
  /** A DNS server: name → answer sets, the n-th query of a name and type gets the n-th set. */
  dns?: { address: string; port: number; names: Record<string, string[][]> };
}

/** The agent inside the namespace and everything it reported. */
export class NamespaceAgent {
  readonly events: AgentEvent[] = [];
  private child?: ChildProcess;
  private stderr = '';

  private constructor(
    private readonly ns: NetworkNamespace,
    private readonly configFile: string,
  ) {}

  static async start(ns: NetworkNamespace, config: AgentConfig, dir: string): Promise<NamespaceAgent> {
    const configFile = join(dir, 'agent.json');
    writeFileSync(configFile, JSON.stringify(config));
    const agent = new NamespaceAgent(ns, configFile);
    ownCleanup(
      async () => {
        const child = agent.child;
        if (child && child.exitCode === null && child.signalCode === null) {
          child.kill('SIGKILL');
          await exited(child);
        }
      },
      () => agent.child?.kill('SIGKILL'),
    );
    await agent.boot();
    return agent;
  }

  private async boot(): Promise<void> {
    const child = this.ns.spawn(process.execPath, [join(__dirname, 'netns-agent.js'), this.configFile], {}, 'pipe');
    this.child = child;
    notePid(dirname(this.configFile), child.pid);
    child.stderr?.on('data', (d: Buffer) => (this.stderr += d.toString()));
    if (!child.stdout) throw new Error('the agent has no stdout');
    createInterface({ input: child.stdout }).on('line', (line) => {
      try {
        this.events.push(JSON.parse(line) as AgentEvent);
      } catch {
        // not ours
      }
    });
    const deadline = Date.now() + 30_000;
    while (!this.events.some((e) => e.ev === 'ready')) {
      const fatal = this.events.find((e) => e.ev === 'fatal');
      if (fatal || child.exitCode !== null)
        throw new Error(`the namespace agent failed: ${fatal?.message ?? ''} ${this.stderr}`);
      if (Date.now() > deadline) throw new Error(`the namespace agent was not ready within 30 s: ${this.stderr}`);
      await sleep(20);
    }
  }

  /** Connections accepted (TCP, before any TLS) after event index `from`. */
  connections(from = 0, role?: 'trap' | 'origin'): AgentEvent[] {
    return this.events.slice(from).filter((e) => e.ev === 'conn' && (role === undefined || e.role === role));
  }

  get mark(): number {
    return this.events.length;
  }
}

/** Record a pid in an owned directory's `pids` file, so the orphan sweep (servers.ts) kills it after a crash. */
function notePid(dir: string, pid: number | undefined): void {
  if (pid !== undefined) appendFileSync(join(dir, 'pids'), `${pid}\n`);
}

/** A unix socket that forwards every connection to host:port (in this process's namespace). */
export async function unixForward(path: string, host: string, port: number): Promise<Server> {
  rmSync(path, { force: true });
  const server = createServer((client) => {
    const upstream = createConnection({ host, port });
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve());
  });
  ownCleanup(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        rmSync(path, { force: true });
      }),
  );
  return server;
}

/** An HTTP GET over a unix socket (a namespace's health port forwarded by the agent). */
export function getOverUnix(
  socketPath: string,
  path: string,
  timeoutMs = 2000,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path, method: 'GET', timeout: timeoutMs }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}
