import { REDIS_VARIABLES, type Env } from '@cimd/runtime';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FetcherEnv, loadFetcherConfig } from '../apps/fetcher/src/fetcher-config';
import { GatewayEnv, loadGatewayConfig } from '../apps/gateway/src/gateway-config';

/**
 * docs/OPERATIONS.md documents every environment variable the apps read. The list comes from the
 * code: the keys of the two zod schemas, the Redis topology variables, and every name the config
 * loaders actually look up in the environment they are given (recorded through a Proxy, so a
 * variable read outside a schema counts too).
 */
const ROOT = join(__dirname, '..');
const operations = readFileSync(join(ROOT, 'docs', 'OPERATIONS.md'), 'utf8');

/** The "## Configuration" section: its tables are the configuration tables. */
function configurationSection(): string {
  const start = operations.indexOf('\n## Configuration\n');
  expect(start).toBeGreaterThanOrEqual(0);
  const end = operations.indexOf('\n## ', start + 1);
  return operations.slice(start, end < 0 ? undefined : end);
}

/** Table rows whose first cell is one `VARIABLE`: name → the other cells. */
function documentedRows(section: string): Map<string, string[]> {
  const rows = new Map<string, string[]>();
  for (const line of section.split('\n')) {
    const cells = line
      .split('|')
      .slice(1, -1)
      .map((c) => c.trim());
    const name = /^`([A-Z][A-Z0-9_]*)`$/.exec(cells[0] ?? '')?.[1];
    if (name && !rows.has(name)) rows.set(name, cells.slice(1));
  }
  return rows;
}

/** The names a loader looks up in its environment, whether it accepts the environment or not. */
function namesRead(load: (env: Env) => unknown, base: Env): string[] {
  const read = new Set<string>();
  const env = new Proxy(base, {
    get(target, key, receiver) {
      if (typeof key === 'string') read.add(key);
      return Reflect.get(target, key, receiver) as unknown;
    },
    has(target, key) {
      if (typeof key === 'string') read.add(key);
      return Reflect.has(target, key);
    },
  });
  try {
    load(env);
  } catch {
    // A refused environment still shows what was looked up.
  }
  return [...read].filter((k) => /^[A-Z][A-Z0-9_]*$/.test(k));
}

function variablesTheAppsRead(): string[] {
  // Production, so that the fetcher also looks at its test overrides (it refuses them there).
  const production: Env = { NODE_ENV: 'production', CIMD_ADMIN_TOKEN: 'a-token-of-sixteen-chars' };
  return [
    ...new Set([
      ...Object.keys(GatewayEnv.shape),
      ...Object.keys(FetcherEnv.shape),
      ...REDIS_VARIABLES,
      ...namesRead(loadGatewayConfig, production),
      ...namesRead(loadFetcherConfig, production),
      ...namesRead(loadGatewayConfig, {}),
      ...namesRead(loadFetcherConfig, {}),
    ]),
  ].sort();
}

describe('docs/OPERATIONS.md, "Configuration"', () => {
  it('has a row, with a default and a meaning, for every variable the gateway and the fetcher read', () => {
    const rows = documentedRows(configurationSection());
    const variables = variablesTheAppsRead();
    // The recording works: names from each source are there.
    expect(variables).toEqual(
      expect.arrayContaining(['CIMD_ADMIN_TOKEN', 'CIMD_FETCH_JWKS_MAX_BYTES', 'REDIS_SENTINELS', 'LOG_FORMAT']),
    );
    const missing = variables.filter((v) => !rows.has(v));
    expect(missing).toEqual([]);
    const incomplete = variables.filter((v) => {
      const [defaultValue, meaning] = rows.get(v) ?? [];
      return !defaultValue || !meaning;
    });
    expect(incomplete).toEqual([]);
  });

  it('documents no variable that neither app reads', () => {
    const variables = new Set(variablesTheAppsRead());
    expect([...documentedRows(configurationSection()).keys()].filter((v) => !variables.has(v))).toEqual([]);
  });
});
