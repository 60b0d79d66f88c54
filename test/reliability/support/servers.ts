import { freePort } from '@cimd/testing';
import { ChildProcess, execFile, spawn, spawnSync } from 'node:child_process';
import {
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { Socket } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';

/**
 * Servers of the reliability suite's own: a redis-server and a PostgreSQL cluster per test file
 * that need one, on free ports, in temporary directories, so that faults (stop, kill, restart)
 * never touch the Redis and PostgreSQL other test runs share. Everything started here is
 * registered for clean-up: `stopAll()` in afterAll, a synchronous kill on process exit, and a
 * sweep of what a killed test run left behind (its owner pid is gone) when the next one starts.
 */

const run = promisify(execFile);
const PG_BIN = process.env.CIMD_PG_BIN ?? '/usr/lib/postgresql/15/bin';
/** Every directory made here starts with this, under /tmp, with an `owner.pid` file. */
const DIR_PREFIX = 'cimd-reliability-';

/** Whether something accepts TCP connections on 127.0.0.1:port. */
export function portOpen(port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.connect(port, '127.0.0.1', () => done(true));
  });
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------------------------
// Clean-up registry
// ---------------------------------------------------------------------------------------------

interface Owned {
  /** Synchronous, for process exit: must not wait on the event loop. */
  killNow(): void;
  dispose(): Promise<void>;
}

const owned = new Set<Owned>();
let hooked = false;

function own(thing: Owned): void {
  owned.add(thing);
  if (hooked) return;
  hooked = true;
  process.once('exit', () => {
    for (const o of owned) {
      try {
        o.killNow();
      } catch {
        // best effort at exit
      }
    }
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      for (const o of owned) {
        try {
          o.killNow();
        } catch {
          // best effort
        }
      }
      process.exit(130);
    });
  }
}

/** Stop everything this process started (afterAll). */
export async function stopAll(): Promise<void> {
  for (const o of [...owned].reverse()) {
    await o.dispose().catch(() => undefined);
    owned.delete(o);
  }
}

/** A temporary directory under /tmp that records its owner, for the orphan sweep. */
export function ownedTempDir(kind: string): string {
  const dir = mkdtempSync(join('/tmp', `${DIR_PREFIX}${kind}-`));
  writeFileSync(join(dir, 'owner.pid'), String(process.pid));
  return dir;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Kill and remove what earlier runs left behind when they were killed themselves (their owner
 * pid no longer exists): redis-servers, PostgreSQL clusters and app processes recorded in
 * `pids` files under their directories.
 */
export function sweepOrphans(): void {
  let names: string[] = [];
  try {
    names = readdirSync('/tmp').filter((n) => n.startsWith(DIR_PREFIX));
  } catch {
    return;
  }
  for (const name of names) {
    const dir = join('/tmp', name);
    const owner = Number(readIf(join(dir, 'owner.pid')));
    if (!owner || alive(owner)) continue;
    for (const pid of readIf(join(dir, 'pids')).split('\n').map(Number).filter(Boolean)) {
      if (alive(pid)) spawnSync('kill', ['-9', String(pid)]);
    }
    if (existsSync(join(dir, 'data', 'postmaster.pid'))) {
      spawnSync('runuser', [
        '-u',
        'postgres',
        '--',
        join(PG_BIN, 'pg_ctl'),
        '-D',
        join(dir, 'data'),
        'stop',
        '-m',
        'immediate',
      ]);
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

function readIf(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

function notePid(dir: string, pid: number | undefined): void {
  if (pid === undefined) return;
  writeFileSync(join(dir, 'pids'), `${readIf(join(dir, 'pids'))}${pid}\n`);
}

/** Wait for a child to exit; resolves at once when it already has. */
export function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

// ---------------------------------------------------------------------------------------------
// Redis
// ---------------------------------------------------------------------------------------------

/**
 * A redis-server of the test's own. With `persistent`, it runs with the append-only file
 * (`--appendonly yes --appendfsync always`) in its directory, so a stop and start of the same
 * server keeps every acknowledged write: queued jobs, streams, consumer groups.
 */
export class PrivateRedis implements Owned {
  readonly dir = ownedTempDir('redis');
  private child?: ChildProcess;
  private extraArgs: string[] = [];
  private configFile?: string;

  private constructor(
    readonly port: number,
    readonly persistent: boolean,
  ) {}

  /**
   * `args`: more redis-server arguments (cluster mode, replicaof), given its directory;
   * `config`: the text of a configuration file written to its directory and given first (a
   * sentinel needs one it can rewrite).
   */
  static async start(
    options: { persistent?: boolean; args?: (dir: string) => string[]; config?: string } = {},
  ): Promise<PrivateRedis> {
    const redis = new PrivateRedis(await freePort(), options.persistent ?? false);
    own(redis);
    redis.extraArgs = options.args?.(redis.dir) ?? [];
    if (options.config !== undefined) {
      redis.configFile = join(redis.dir, 'redis.conf');
      writeFileSync(redis.configFile, options.config);
    }
    await redis.start();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  async start(): Promise<void> {
    if (this.running) return;
    const args = [
      ...(this.configFile ? [this.configFile] : []),
      '--port',
      String(this.port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--dir',
      this.dir,
      '--daemonize',
      'no',
      '--logfile',
      join(this.dir, 'redis.log'),
      '--appendonly',
      this.persistent ? 'yes' : 'no',
      ...(this.persistent ? ['--appendfsync', 'always'] : []),
      ...this.extraArgs,
    ];
    this.child = spawn('redis-server', args, { stdio: 'ignore' });
    notePid(this.dir, this.child.pid);
    const deadline = Date.now() + 10_000;
    while (!(await this.ping())) {
      if (!this.running) throw new Error(`redis-server exited at start; see ${join(this.dir, 'redis.log')}`);
      if (Date.now() > deadline) throw new Error('redis-server did not answer within 10 s');
      await sleep(20);
    }
  }

  /** SIGTERM is Redis's SHUTDOWN (the AOF is flushed); SIGKILL is a crash. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    child.kill(signal);
    await exited(child);
  }

  /** PING over a raw socket (no client library state): true once it answers PONG. */
  ping(timeoutMs = 300): Promise<boolean> {
    return new Promise((resolve) => {
      const socket = new Socket();
      let buffer = '';
      const done = (ok: boolean) => {
        socket.destroy();
        resolve(ok);
      };
      socket.setTimeout(timeoutMs, () => done(false));
      socket.once('error', () => done(false));
      socket.on('data', (d: Buffer) => {
        buffer += d.toString();
        if (buffer.includes('\r\n')) done(buffer.startsWith('+PONG'));
      });
      socket.connect(this.port, '127.0.0.1', () => socket.write('PING\r\n'));
    });
  }

  killNow(): void {
    if (this.running) this.child?.kill('SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }

  async dispose(): Promise<void> {
    await this.stop('SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL
// ---------------------------------------------------------------------------------------------

/**
 * A PostgreSQL 15 cluster of the test's own: `initdb` in a directory owned by the postgres
 * user (PostgreSQL refuses to run as root), trust authentication, listening on 127.0.0.1 at a
 * free port and on a socket in its directory. `stop('fast')` is a clean shutdown that ends
 * every connection; `stop('immediate')` is a crash (recovery at the next start).
 */
export class PrivatePostgres implements Owned {
  readonly dir = ownedTempDir('pg');
  private started = false;

  private constructor(readonly port: number) {}

  static async start(): Promise<PrivatePostgres> {
    const pg = new PrivatePostgres(await freePort());
    own(pg);
    mkdirSync(join(pg.dir, 'sock'));
    for (const d of [pg.dir, join(pg.dir, 'sock')]) chownSync(d, postgresUid(), postgresGid());
    await pg.asPostgres(join(PG_BIN, 'initdb'), [
      '-D',
      join(pg.dir, 'data'),
      '-A',
      'trust',
      '-U',
      'postgres',
      '-E',
      'UTF8',
      '--locale=C',
      '--no-sync',
    ]);
    await pg.start();
    return pg;
  }

  /** A database URL on this cluster (the gateway creates the database when it is missing). */
  url(database: string): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${database}`;
  }

  async start(): Promise<void> {
    const options = [
      `-p ${this.port}`,
      `-k ${join(this.dir, 'sock')}`,
      '-c listen_addresses=127.0.0.1',
      // Nothing here must survive the machine; a clean stop or a crash of the server is what is tested.
      '-c fsync=off',
      '-c full_page_writes=off',
      '-c max_connections=100',
    ].join(' ');
    await this.asPostgres(join(PG_BIN, 'pg_ctl'), [
      '-D',
      join(this.dir, 'data'),
      '-l',
      join(this.dir, 'postgres.log'),
      '-o',
      options,
      '-w',
      '-t',
      '30',
      'start',
    ]);
    this.started = true;
  }

  async stop(mode: 'fast' | 'immediate' = 'fast'): Promise<void> {
    if (!this.started) return;
    await this.asPostgres(join(PG_BIN, 'pg_ctl'), ['-D', join(this.dir, 'data'), '-m', mode, '-w', '-t', '30', 'stop']);
    this.started = false;
  }

  killNow(): void {
    if (this.started) {
      spawnSync('runuser', [
        '-u',
        'postgres',
        '--',
        join(PG_BIN, 'pg_ctl'),
        '-D',
        join(this.dir, 'data'),
        'stop',
        '-m',
        'immediate',
      ]);
      this.started = false;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  async dispose(): Promise<void> {
    await this.stop('immediate').catch(() => undefined);
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async asPostgres(command: string, args: string[]): Promise<void> {
    try {
      await run('runuser', ['-u', 'postgres', '--', command, ...args], { timeout: 60_000 });
    } catch (e) {
      const err = e as { stderr?: string; message: string };
      throw new Error(`${command.split('/').pop()} failed: ${err.stderr || err.message}`);
    }
  }
}

function postgresUid(): number {
  return Number(spawnSync('id', ['-u', 'postgres']).stdout.toString().trim());
}

function postgresGid(): number {
  return Number(spawnSync('id', ['-g', 'postgres']).stdout.toString().trim());
}

// ---------------------------------------------------------------------------------------------
// App processes (gateway, fetcher)
// ---------------------------------------------------------------------------------------------

/**
 * The built gateway or fetcher as a process of its own, logging to a file (shown when a test
 * fails), so that it can be SIGKILLed and its memory read from /proc.
 */
export class AppProcess implements Owned {
  private child?: ChildProcess;
  readonly logFile: string;

  constructor(
    readonly name: string,
    private readonly entry: string,
    private env: Record<string, string>,
    private readonly dir: string,
  ) {
    this.logFile = join(dir, `${name}.log`);
    own(this);
  }

  /** Change its environment for every later start (new ports after a port was taken). */
  setEnv(values: Record<string, string>): void {
    this.env = { ...this.env, ...values };
  }

  /** Whether its last start failed because a port it listens on was taken. */
  portTaken(): boolean {
    return !this.running && /EADDRINUSE/.test(this.tail(5));
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  start(): void {
    if (this.running) throw new Error(`${this.name} is already running`);
    const log = openSync(this.logFile, 'a');
    this.child = spawn(process.execPath, [this.entry], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...this.env },
      stdio: ['ignore', log, log],
    });
    notePid(this.dir, this.child.pid);
  }

  async kill(signal: NodeJS.Signals = 'SIGTERM', graceMs = 15_000): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited(child);
    clearTimeout(timer);
  }

  /** Resident set size from /proc/<pid>/status (VmRSS), in bytes; undefined when not running. */
  rss(): number | undefined {
    if (!this.pid || !this.running) return undefined;
    try {
      const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${this.pid}/status`, 'utf8'));
      return m ? Number(m[1]) * 1024 : undefined;
    } catch {
      return undefined;
    }
  }

  /** How its last run ended (`code 1`, `signal SIGKILL`), or `running`. */
  get exitStatus(): string {
    if (!this.child || this.running) return 'running';
    return this.child.signalCode ? `signal ${this.child.signalCode}` : `code ${this.child.exitCode}`;
  }

  /** The last line it wrote (a process that fails to start says why there). */
  lastLine(): string {
    return this.tail(10).split('\n').filter(Boolean).pop() ?? '(nothing logged)';
  }

  /** The last lines of its log, for a failing test's message. */
  tail(lines = 40): string {
    return readIf(this.logFile).split('\n').slice(-lines).join('\n');
  }

  killNow(): void {
    if (this.running) this.child?.kill('SIGKILL');
  }

  async dispose(): Promise<void> {
    await this.kill('SIGTERM', 10_000);
  }
}

/** Register an extra clean-up (an origin server, a client connection) with the same guarantees. */
export function ownCleanup(dispose: () => Promise<void>, killNow: () => void = () => undefined): void {
  own({ dispose, killNow });
}
