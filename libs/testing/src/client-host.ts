import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTestPki, TestPki } from './test-pki';
import { TestOrigin } from './test-origin';

/** A local HTTPS client host: `origin` serving `hosts` on 127.0.0.1, with a certificate from its own test CA `pki`. */
export interface ClientHost {
  origin: TestOrigin;
  port: number;
  pki: TestPki;
  hosts: string[];
}

export async function startClientHost(hosts: string[] = ['client.test'], caName?: string): Promise<ClientHost> {
  const pki = await createTestPki(caName);
  const origin = new TestOrigin(await pki.issue(hosts));
  const port = await origin.listen('127.0.0.1');
  return { origin, port, pki, hosts };
}

/**
 * The fetch overrides that let a fetcher reach a client host and nothing else: its port
 * allowed, its names resolved to 127.0.0.1, that address exempt from the block, its CA trusted.
 */
export function clientHostFetchOptions(host: ClientHost): {
  allowedPorts: number[];
  resolve: Map<string, string[]>;
  allowCidrs: string[];
  extraCa: string;
} {
  return {
    allowedPorts: [host.port],
    resolve: new Map(host.hosts.map((name) => [`${name}:${host.port}`, ['127.0.0.1']])),
    allowCidrs: ['127.0.0.1/32'],
    extraCa: host.pki.caPem,
  };
}

/**
 * The same overrides as a fetcher process reads them (CIMD_FETCH_*), its CA written to
 * `<dir>/ca.pem`.
 */
export function clientHostFetcherEnv(host: ClientHost, dir: string): Record<string, string> {
  const caFile = join(dir, 'ca.pem');
  writeFileSync(caFile, host.pki.caPem);
  return {
    CIMD_FETCH_ALLOWED_PORTS: String(host.port),
    CIMD_FETCH_RESOLVE: host.hosts.map((name) => `${name}:${host.port}:127.0.0.1`).join(';'),
    CIMD_FETCH_CA_FILE: caFile,
    CIMD_FETCH_ALLOW_CIDRS: '127.0.0.1/32',
  };
}
