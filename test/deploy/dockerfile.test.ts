import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './support/manifests';

/**
 * The Dockerfile and .dockerignore, read statically (no Docker engine here): a multi-stage
 * build whose final stage has production dependencies only, runs as a numeric non-root user,
 * and starts each role through docker/entrypoint.js.
 */

interface Instruction {
  op: string;
  args: string;
}
interface Stage {
  from: string;
  name?: string;
  instructions: Instruction[];
}

/** Dockerfile instructions: continuation lines joined, comments dropped. */
function parseDockerfile(text: string): { args: Record<string, string>; stages: Stage[]; comments: string } {
  const lines = text.split('\n');
  const comments = lines.filter((l) => l.trim().startsWith('#')).join('\n');
  const logical: string[] = [];
  let current = '';
  for (const raw of lines) {
    const line = raw.trim();
    if (line.startsWith('#') || line === '') continue;
    current += `${current ? ' ' : ''}${line.replace(/\\$/, '').trim()}`;
    if (!line.endsWith('\\')) {
      logical.push(current);
      current = '';
    }
  }
  const args: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const l of logical) {
    const [, op = '', rest = ''] = /^(\S+)\s*(.*)$/.exec(l) ?? [];
    const instruction = { op: op.toUpperCase(), args: rest };
    if (instruction.op === 'FROM') {
      const [, image = '', name] = /^(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?/i.exec(rest) ?? [];
      stages.push({ from: image.replace(/^\$\{(\w+)\}$/, (_m, a: string) => args[a] ?? _m), name, instructions: [] });
    } else if (stages.length === 0 && instruction.op === 'ARG') {
      const [k = '', v = ''] = rest.split('=');
      args[k] = v;
    } else stages.at(-1)?.instructions.push(instruction);
  }
  return { args, stages, comments };
}

const { stages, comments } = parseDockerfile(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));
const final = stages.at(-1) as Stage;
const stage = (name: string) => stages.find((s) => s.name === name) as Stage;
const runs = (s: Stage) => s.instructions.filter((i) => i.op === 'RUN').map((i) => i.args);
const copies = (s: Stage) => s.instructions.filter((i) => i.op === 'COPY').map((i) => i.args);

/** .dockerignore semantics: patterns in order, `!` re-includes, the last match wins. */
function ignored(path: string): boolean {
  const patterns = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  let result = false;
  for (const p of patterns) {
    const negate = p.startsWith('!');
    const glob = negate ? p.slice(1) : p;
    const source = glob
      .split('/')
      .map((seg) =>
        seg === '**'
          ? '.*'
          : seg
              .replace(/[.+^$()|[\]{}]/g, '\\$&')
              .replace(/\*/g, '[^/]*')
              .replace(/\?/g, '[^/]'),
      )
      .join('/')
      .replace(/\.\*\//g, '(?:.*/)?');
    // A pattern matching a directory matches everything below it.
    if (new RegExp(`^${source}(?:/.*)?$`).test(path)) result = !negate;
  }
  return result;
}

describe('Dockerfile', () => {
  it('is multi-stage on Node 20: build with every dependency, final stage with production dependencies only', () => {
    expect(stages.map((s) => s.name)).toEqual(['build', 'deps', 'runtime']);
    for (const s of stages) expect(s.from).toMatch(/^node:20-bookworm-slim$/);
    expect(runs(stage('build')).join('\n')).toMatch(/npm ci --no-audit --no-fund\b/);
    expect(runs(stage('build')).join('\n')).toMatch(/npm run build/);
    expect(runs(stage('deps')).join('\n')).toMatch(/npm ci --omit=dev\b/);
    // node_modules reach the final stage from the production-only stage, never from the build.
    const finalCopies = copies(final);
    expect(finalCopies.filter((c) => c.includes('node_modules'))).toEqual([
      '--from=deps /app/node_modules ./node_modules',
    ]);
    expect(finalCopies.filter((c) => c.startsWith('--from=build')).map((c) => c.split(/\s+/)[1])).toEqual([
      '/app/dist',
    ]);
    expect(runs(final).join('\n')).not.toMatch(/npm (ci|install|i)\b/);
    // The test helpers are compiled with the libraries; they do not ship.
    expect(runs(stage('build')).join('\n')).toMatch(/rm -rf dist\/libs\/testing/);
    expect(final.instructions.find((i) => i.op === 'ENV')?.args).toBe('NODE_ENV=production');
  });

  it('runs as a numeric non-root user, set after every RUN of the final stage', () => {
    const users = final.instructions.filter((i) => i.op === 'USER');
    expect(users.length).toBe(1);
    const [uid, gid] = (users[0]?.args ?? '').split(':');
    expect(Number(uid)).toBeGreaterThan(0);
    expect(Number(gid)).toBeGreaterThan(0);
    const lastRun = final.instructions.map((i) => i.op).lastIndexOf('RUN');
    expect(final.instructions.findIndex((i) => i.op === 'USER')).toBeGreaterThan(lastRun);
    // Kubernetes runs it with the same uid (runAsNonRoot needs a numeric USER to verify).
    const k8s = readFileSync(join(ROOT, 'k8s/base/gateway.yaml'), 'utf8');
    expect(k8s).toContain(`runAsUser: ${uid}`);
  });

  it('starts a role through docker/entrypoint.js (gateway by default), with health documented as probes', () => {
    expect(final.instructions.find((i) => i.op === 'ENTRYPOINT')?.args).toBe('["node", "docker/entrypoint.js"]');
    expect(final.instructions.find((i) => i.op === 'CMD')?.args).toBe('["gateway"]');
    const healthcheck = final.instructions.find((i) => i.op === 'HEALTHCHECK');
    if (!healthcheck) {
      expect(comments).toMatch(/\/healthz/);
      expect(comments).toMatch(/\/readyz/);
      expect(comments).toMatch(/docker-compose\.yml/);
      expect(comments).toMatch(/k8s\//);
    }
  });

  it('the entrypoint runs each role from the built dist/ (the proto file included)', () => {
    const entrypoint = readFileSync(join(ROOT, 'docker/entrypoint.js'), 'utf8');
    const roles = Object.fromEntries([...entrypoint.matchAll(/^\s+(\w+): '([^']+)',$/gm)].map((m) => [m[1], m[2]]));
    expect(Object.keys(roles)).toEqual(['gateway', 'fetcher', 'migrate', 'cimd']);
    for (const file of Object.values(roles))
      expect({ file, built: existsSync(join(ROOT, file as string)) }).toEqual({ file, built: true });
    expect(existsSync(join(ROOT, 'dist/proto/cimd/v1/gateway.proto'))).toBe(true);
    const cli = spawnSync(
      process.execPath,
      ['docker/entrypoint.js', 'cimd', 'check-url', 'https://example.com/c.json', '--json'],
      {
        cwd: ROOT,
        encoding: 'utf8',
      },
    );
    expect(cli.status).toBe(0);
    expect(JSON.parse(cli.stdout)).toMatchObject({ valid: true });
    const wrong = spawnSync(process.execPath, ['docker/entrypoint.js', 'bogus'], { cwd: ROOT, encoding: 'utf8' });
    expect(wrong.status).toBe(2);
    expect(wrong.stderr).toContain('gateway | fetcher | migrate | cimd');
  });

  it('.dockerignore sends the build only what it copies', () => {
    for (const path of [
      'node_modules/x/index.js',
      'dist/apps/gateway/src/main.js',
      '.git/HEAD',
      '.env',
      'test/cli.test.ts',
      'k8s/base/gateway.yaml',
      'apps/gateway/src/gateway-config.spec.ts',
      'libs/core/src/document/validate-document.cases.ts',
      'README.md',
    ])
      expect({ path, ignored: ignored(path) }).toEqual({ path, ignored: true });
    const copied = stages
      .flatMap(copies)
      .filter((c) => !c.startsWith('--from'))
      .flatMap((c) => c.split(/\s+/).slice(0, -1));
    for (const source of copied) {
      expect({ source, exists: existsSync(join(ROOT, source)) }).toEqual({ source, exists: true });
      const sample = source.includes('.') ? source : `${source}/${source === 'docker' ? 'entrypoint.js' : 'x.ts'}`;
      expect({ sample, ignored: ignored(sample) }).toEqual({ sample, ignored: false });
    }
    for (const path of [
      'apps/gateway/src/main.ts',
      'libs/core/src/index.ts',
      'proto/cimd/v1/gateway.proto',
      'bin/cimd.js',
    ])
      expect({ path, ignored: ignored(path) }).toEqual({ path, ignored: false });
  });
});
