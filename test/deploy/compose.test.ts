import { DCLinter } from 'dclint';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ROOT } from './support/manifests';

/**
 * docker-compose.yml, validated without a Docker engine:
 *
 * - against the Compose Specification's JSON schema (the copy dclint ships, validated with
 *   ajv): Debian's docker-compose 1.29 bundles a 2021 schema that refuses the `name:` key, and
 *   Compose v2 (the Go compose-go validator) is not packaged here;
 * - by dclint's correctness and security rules;
 * - by the checks `docker compose config` makes beyond the schema (references between
 *   services, networks and volumes; interpolation), and the isolation docs/OPERATIONS.md promises.
 */
const FILE = join(ROOT, 'docker-compose.yml');

/** dclint rules that only concern the order of keys (a reader-friendly order is kept instead). */
const STYLE_ONLY = [
  'service-keys-order',
  'services-alphabetical-order',
  'top-level-properties-order',
  'service-dependencies-alphabetical-order',
  'service-ports-alphabetical-order',
];

function lint(file: string) {
  const rules: Record<string, 0 | 2> = Object.fromEntries(STYLE_ONLY.map((r) => [r, 0]));
  // `build` with `image` names the image built here; that is the point, not a mistake.
  rules['no-build-and-image'] = 0;
  const linter = new DCLinter({ rules, quiet: false, debug: false, exclude: [] });
  // Everything else is an error.
  for (const rule of (linter as unknown as { rules: { type: string }[] }).rules) rule.type = 'error';
  return linter
    .lintFiles([file], false)
    .flatMap((r) => r.messages.map((m) => `${m.rule}: ${m.message} (line ${m.line})`));
}

/** What the Compose schema (and YAML parsing) refuses; dclint reports it before any rule. */
function schemaProblems(file: string): string[] {
  return new DCLinter({ rules: {}, quiet: true, debug: false, exclude: [] })
    .lintFiles([file], false)
    .flatMap((r) => r.messages)
    .filter((m) => ['invalid-yaml', 'invalid-schema', 'unknown-error'].includes(m.rule))
    .map((m) => `${m.rule}: ${m.message}`);
}

type Service = Record<string, any>;

type Compose = {
  name?: string;
  services: Record<string, Service>;
  networks?: Record<string, any>;
  volumes?: Record<string, any>;
};

const text = readFileSync(FILE, 'utf8');
/** The file as Compose reads it: merge keys applied, `${VAR:-default}` interpolated with its default. */
const compose = parse(text.replace(/(?<!\$)\$\{[A-Z0-9_]+:-([^}]*)\}/g, '$1'), { merge: true }) as Compose;
const services = compose.services;

function env(service: string): Record<string, string> {
  const e = services[service]?.environment ?? {};
  return Array.isArray(e) ? Object.fromEntries(e.map((kv: string) => kv.split(/=(.*)/s).slice(0, 2))) : e;
}

describe('docker-compose.yml', () => {
  it('validates against the Compose Specification schema (name:, healthcheck, depends_on conditions)', () => {
    expect(schemaProblems(FILE)).toEqual([]);
    expect(compose.name).toBe('cimd-gateway');
    expect(Object.keys(services).sort()).toEqual(['fetcher', 'gateway', 'migrate', 'postgres', 'redis']);
  });

  it('a broken file is refused (the schema check is not vacuous)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cimd-compose-'));
    try {
      const broken = join(dir, 'docker-compose.yml');
      writeFileSync(broken, text.replace('condition: service_healthy', 'condition: service_ready'));
      expect(schemaProblems(broken)).toEqual([
        expect.stringMatching(/^invalid-schema: .*services\/migrate\/depends_on/),
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("passes dclint's correctness and security rules (explicit image tags, bound port interfaces, unique ports, ...)", () => {
    expect(lint(FILE)).toEqual([]);
  });

  it('references only what it declares, and needs no environment to start', () => {
    const problems: string[] = [];
    for (const [name, s] of Object.entries(services)) {
      for (const n of s.networks ?? []) if (!compose.networks?.[n]) problems.push(`${name}: network ${n} undeclared`);
      for (const [dep, { condition }] of Object.entries<{ condition: string }>(s.depends_on ?? {})) {
        const target = services[dep];
        if (!target) problems.push(`${name}: depends on unknown ${dep}`);
        else if (condition === 'service_healthy' && !target.healthcheck) problems.push(`${dep} has no healthcheck`);
        else if (condition === 'service_completed_successfully' && !['on-failure', 'no'].includes(target.restart))
          problems.push(`${dep} must be a one-shot for ${name} to wait for it`);
      }
      for (const v of s.volumes ?? []) {
        const [source] = String(v).split(':');
        if (source?.startsWith('.')) {
          if (!existsSync(join(ROOT, source))) problems.push(`${name}: ${source} does not exist`);
        } else if (source && !compose.volumes?.[source]) problems.push(`${name}: volume ${source} undeclared`);
      }
      if (s.build && !existsSync(join(ROOT, s.build.context ?? s.build, 'Dockerfile')))
        problems.push(`${name}: no Dockerfile in the build context`);
    }
    expect(problems).toEqual([]);
    // `docker compose up` works without any variable set: every interpolation has a default.
    const bare = [...text.matchAll(/(?<!\$)\$\{([A-Za-z0-9_]+)(:-[^}]*)?\}/g)].filter((m) => !m[2]).map((m) => m[0]);
    expect(bare).toEqual([]);
    expect(text).not.toMatch(/(?<![$])\$[A-Za-z_]/);
  });

  it('keeps the fetcher away from PostgreSQL: no shared network, no credentials, the restricted Redis user', () => {
    const networksOf = (s: string) => new Set<string>(services[s]?.networks ?? []);
    const fetcherNets = networksOf('fetcher');
    expect([...networksOf('postgres')].filter((n) => fetcherNets.has(n))).toEqual([]);
    // Its networks hold Redis and nobody but the fetcher otherwise.
    for (const n of fetcherNets) {
      const members = Object.keys(services).filter((s) => networksOf(s).has(n));
      expect(members.filter((m) => !['fetcher', 'redis', 'gateway'].includes(m))).toEqual([]);
    }
    expect(Object.keys(services).filter((s) => s !== 'fetcher' && networksOf(s).has('fetcher-egress'))).toEqual([]);
    const fetcherEnv = env('fetcher');
    expect(Object.keys(fetcherEnv).filter((k) => /^(DATABASE_URL|PG|POSTGRES)/.test(k))).toEqual([]);
    expect(Object.values(fetcherEnv).filter((v) => /postgres(ql)?:\/\//.test(String(v)))).toEqual([]);
    expect(services.fetcher?.env_file).toBeUndefined();
    expect(fetcherEnv.REDIS_URL).toMatch(/^redis:\/\/cimd-fetcher:[^@]+@redis:6379$/);
    expect(env('gateway').REDIS_URL).toMatch(/^redis:\/\/default:[^@]+@redis:6379$/);
    // Redis runs the same ACL template as the Kubernetes dev overlay, with the apps' key prefix.
    expect(services.redis?.entrypoint).toEqual(['/bin/sh', '/etc/redis-acl/start-redis.sh']);
    expect(services.redis?.volumes).toEqual(['./k8s/dependencies/redis:/etc/redis-acl:ro']);
    expect(new Set(['redis', 'gateway', 'fetcher'].map((s) => env(s).CIMD_REDIS_PREFIX))).toEqual(new Set(['cimd']));
  });

  it('runs every service as non-root with a read-only root filesystem, no capabilities and no-new-privileges', () => {
    for (const [name, s] of Object.entries(services)) {
      const [uid] = String(s.user ?? 'root').split(':');
      expect({ name, uid: uid === '0' || uid === 'root' ? 'root' : 'non-root' }).toEqual({ name, uid: 'non-root' });
      expect({ name, read_only: s.read_only }).toEqual({ name, read_only: true });
      expect({ name, cap_drop: s.cap_drop }).toEqual({ name, cap_drop: ['ALL'] });
      expect({ name, security_opt: s.security_opt }).toEqual({ name, security_opt: ['no-new-privileges:true'] });
    }
    // The app containers run as the image's own user.
    const dockerfileUser = /^USER (\S+)$/m.exec(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'))?.[1];
    for (const s of ['gateway', 'fetcher', 'migrate']) expect(services[s]?.user).toBe(dockerfileUser);
  });

  it('publishes ports on 127.0.0.1 only, and health-checks the apps on /readyz of the ports they listen on', () => {
    for (const s of Object.values(services)) for (const p of s.ports ?? []) expect(String(p)).toMatch(/^127\.0\.0\.1:/);
    const probe = (s: string) => (services[s]?.healthcheck.test as string[]).join(' ');
    expect(probe('gateway')).toContain("fetch('http://127.0.0.1:3000/readyz')");
    expect(probe('fetcher')).toContain("fetch('http://127.0.0.1:3001/readyz')");
    expect(services.gateway?.command).toEqual(['gateway']);
    expect(services.fetcher?.command).toEqual(['fetcher']);
    expect(services.migrate?.command).toEqual(['migrate']);
    // Migrations run once before the gateway, which does not run them itself.
    expect(env('gateway').CIMD_MIGRATE).toBe('off');
  });
});
