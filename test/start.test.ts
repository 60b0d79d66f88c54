import { freePort } from '@cimd/testing';
import Redis from 'ioredis';
import { ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { dropDatabase } from './support/databases';

/**
 * Logs as people and machines get them (chooseLogFormat in libs/runtime/src/logger.ts): in a
 * terminal human-readable, `npm start` included (it pipes its apps' output); through a pipe or
 * under NODE_ENV=production one JSON object a line; LOG_FORMAT overrides. A terminal is a real
 * pseudo-terminal, made by util-linux `script`.
 */
const ROOT = join(__dirname, '..');
const FETCHER = join(ROOT, 'dist', 'apps', 'fetcher', 'src', 'main.js');
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const PREFIX = `test-start-${process.pid}`;
// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g;

interface Run {
  child: ChildProcessWithoutNullStreams;
  output(): string;
  /** Lines of output so far, colours removed. */
  lines(): string[];
}

/** `command` with `env` (plus PATH), its output collected; in a pseudo-terminal when `terminal`. */
function run(command: string[], env: Record<string, string>, terminal: boolean): Run {
  const fullEnv = { PATH: process.env.PATH ?? '', REDIS_URL, CIMD_REDIS_PREFIX: PREFIX, ...env };
  const quoted = command.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const child = terminal
    ? spawn('script', ['-qefc', `exec ${quoted}`, '/dev/null'], { cwd: ROOT, env: fullEnv })
    : spawn(command[0] as string, command.slice(1), { cwd: ROOT, env: fullEnv });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  return {
    child,
    output: () => out,
    lines: () =>
      out
        .replace(ANSI, '')
        // The terminal echoes the Ctrl-C of stop().
        .replace(/\^C/g, '')
        .split(/\r?\n/)
        .filter((l) => l.trim() !== ''),
  };
}

async function waitForOutput(r: Run, text: string, ms = 30_000): Promise<void> {
  const until = Date.now() + ms;
  while (!r.output().replace(ANSI, '').includes(text)) {
    if (r.child.exitCode !== null) throw new Error(`exited before "${text}":\n${r.output()}`);
    if (Date.now() > until) throw new Error(`no "${text}" within ${ms} ms:\n${r.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Ctrl-C at the terminal (or SIGINT), then the exit. */
async function stop(r: Run, terminal: boolean): Promise<number | null> {
  const exited = new Promise<number | null>((resolve) =>
    r.child.exitCode !== null ? resolve(r.child.exitCode) : r.child.once('exit', (code) => resolve(code)),
  );
  if (terminal) r.child.stdin.write('\x03');
  else r.child.kill('SIGINT');
  return exited;
}

const isJsonLine = (line: string): boolean => {
  try {
    const parsed = JSON.parse(line) as { level?: unknown; msg?: unknown };
    return typeof parsed.level === 'number' && typeof parsed.msg === 'string';
  } catch {
    return false;
  }
};

beforeAll(() => {
  if (!existsSync(FETCHER)) throw new Error('dist/ is missing: run "npm run build" (npm test does it first)');
});

afterAll(async () => {
  const redis = new Redis(REDIS_URL);
  const stale = await redis.keys(`${PREFIX}:*`);
  if (stale.length > 0) await redis.del(...stale);
  redis.disconnect();
});

describe('an app by itself', () => {
  it.each<{ how: string; env: Record<string, string>; terminal: boolean; format: 'json' | 'pretty' }>([
    { how: 'in a terminal', env: { NODE_ENV: 'development' }, terminal: true, format: 'pretty' },
    { how: 'through a pipe (a process manager)', env: { NODE_ENV: 'development' }, terminal: false, format: 'json' },
    { how: 'in a terminal under NODE_ENV=production', env: { NODE_ENV: 'production' }, terminal: true, format: 'json' },
    {
      how: 'through a pipe with LOG_FORMAT=pretty',
      env: { NODE_ENV: 'production', LOG_FORMAT: 'pretty' },
      terminal: false,
      format: 'pretty',
    },
    {
      how: 'in a terminal with LOG_FORMAT=json',
      env: { NODE_ENV: 'development', LOG_FORMAT: 'json' },
      terminal: true,
      format: 'json',
    },
  ])(
    '$how writes $format',
    async ({ env, terminal, format }) => {
      const port = await freePort();
      const fetcherEnv: Record<string, string> = { ...env, HOST: '127.0.0.1', FETCHER_PORT: String(port) };
      const r = run([process.execPath, FETCHER], fetcherEnv, terminal);
      let lines: string[];
      try {
        await waitForOutput(r, 'fetcher started');
        // The lines of its start: what it writes while stopping is not what this is about.
        lines = r.lines();
      } finally {
        await stop(r, terminal);
      }
      if (format === 'json') {
        expect(lines.filter((l) => !isJsonLine(l))).toEqual([]);
      } else {
        expect(lines.filter(isJsonLine)).toEqual([]);
        expect(lines).toContainEqual(
          expect.stringMatching(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO \(fetcher\): fetcher started$/),
        );
        expect(lines).toContainEqual(`    metrics: "http://127.0.0.1:${port}/metrics"`);
      }
    },
    40_000,
  );
});

describe('npm start (scripts/start.js) in a terminal', () => {
  const databaseUrl = (() => {
    const u = new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/cimd');
    u.pathname = `/cimd_test_start_${process.pid}`;
    return u.toString();
  })();

  afterAll(async () => {
    await dropDatabase(databaseUrl);
  });

  it('is readable: both apps, each line prefixed and pretty, no JSON; Ctrl-C stops both', async () => {
    const [port, fetcherPort, grpcPort] = [await freePort(), await freePort(), await freePort()];
    // As from a shell: no NODE_ENV, so start.js's development default applies.
    const r = run(
      [process.execPath, join(ROOT, 'scripts', 'start.js')],
      {
        PORT: String(port),
        FETCHER_PORT: String(fetcherPort),
        GRPC_PORT: String(grpcPort),
        DATABASE_URL: databaseUrl,
        TERM: 'xterm-256color',
      },
      true,
    );
    let code: number | null;
    try {
      await waitForOutput(r, 'gateway listening', 60_000);
      await waitForOutput(r, 'fetcher started');
    } finally {
      code = await stop(r, true);
    }
    const lines = r.lines();
    expect(lines).toContain('  logs     human-readable (LOG_FORMAT=json for JSON lines)');
    const logs = lines.filter((l) => /^\[(gateway|fetcher)\] /.test(l));
    expect(logs.filter((l) => isJsonLine(l.replace(/^\[\w+\] /, '')))).toEqual([]);
    expect(logs).toContainEqual(
      expect.stringMatching(/^\[gateway\] \[\d\d:\d\d:\d\d\.\d{3}\] INFO \(gateway\): gateway listening$/),
    );
    expect(logs).toContainEqual(`[gateway]     docs: "http://127.0.0.1:${port}/docs"`);
    expect(logs).toContainEqual(expect.stringMatching(/^\[fetcher\] \[[\d:.]+\] INFO \(fetcher\): fetcher started$/));
    // Colours, since the terminal has them, though the apps write to a pipe.
    expect(r.output()).toContain('\u001b[32mINFO');
    // On a failure, the end of what both apps printed says why.
    expect({ code, tail: code === 0 ? '' : lines.slice(-40).join('\n') }).toEqual({ code: 0, tail: '' });
    expect(lines).toContainEqual(expect.stringMatching(/^\[gateway\] exited/));
    expect(lines).toContainEqual(expect.stringMatching(/^\[fetcher\] exited/));
  }, 90_000);
});
