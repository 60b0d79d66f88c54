import { clientHostFetchOptions, ClientHost } from '@cimd/testing';
import { Env } from '@cimd/runtime';
import { FetcherConfig, loadFetcherConfig } from '../../apps/fetcher/src/fetcher-config';

/**
 * The configuration of a fetcher run inside the test process: `env` read as the fetcher reads
 * it (NODE_ENV=test, quiet logs unless `env` says otherwise), the client host its only
 * reachable origin with a 2 s fetch timeout, its health server on a free port of 127.0.0.1.
 */
export function fetcherConfigFor(host: ClientHost, env: Env): FetcherConfig {
  const base = loadFetcherConfig({ NODE_ENV: 'test', LOG_LEVEL: 'fatal', ...env });
  return {
    ...base,
    fetch: { ...base.fetch, ...clientHostFetchOptions(host), timeoutMs: 2000 },
    host: '127.0.0.1',
    port: 0,
  };
}
