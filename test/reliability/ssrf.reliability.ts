import {
  clientKey,
  FETCH_JOB,
  FETCH_QUEUE,
  FetchDoneMessage,
  fetchJobId,
  FetchJobData,
  FetchJobResult,
  RedisKeys,
  WEBHOOK_JOB,
  WEBHOOK_QUEUE,
  WebhookJobData,
  WebhookJobResult,
} from '@cimd/contracts';
import { CacheEntry, checkAddress, parseCacheEntry, SPECIAL_USE_RANGES } from '@cimd/core';
import { createTestPki, freePort } from '@cimd/testing';
import { Queue } from 'bullmq';
import ipaddr from 'ipaddr.js';
import Redis from 'ioredis';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dropDatabase } from '../support/databases';
import { record } from './support/results';
import {
  getOverUnix,
  NamespaceAgent,
  NamespacedProcess,
  netnsSupport,
  NetworkNamespace,
  Route,
  unixForward,
} from './support/netns';
import { AppProcess, ownCleanup, ownedTempDir, PrivateRedis, sleep, stopAll } from './support/servers';

/**
 * SSRF: the real fetcher process runs inside a network namespace that has
 * nothing but its loopback device, with an address of every special-use range
 * (`SPECIAL_USE_RANGES`) on it and a TLS listener on port 443 of each (plus plain listeners on
 * port 80 of every address) that records every connection. Attacker-chosen URLs go through
 * the real paths: authorize checks at the gateway (running outside the namespace; its Redis is
 * shared with the fetcher through a unix socket), fetch jobs put straight on the queue (for the
 * client_ids the gateway already refuses, so that the fetcher's own guard is tried too),
 * documents whose logo_uri points inside, and webhooks (jobs on the webhook queue, and a
 * tenant policy's webhook delivered end to end). Names resolve through the fetcher's test
 * override (CIMD_FETCH_RESOLVE), through /etc/hosts, and through a DNS server inside the
 * namespace (the production resolver path, a rebinding name included). Every vector must end refused (as a client_id,
 * or as a blocked address or port, or as a redirect not followed) with no connection on any
 * listener; positive controls (a "public" address, and one special-use address exempted with
 * CIMD_FETCH_ALLOW_CIDRS) show that the listeners and the fetcher do connect when allowed.
 *
 * Skipped, with a message and a recorded detail, where network namespaces cannot be made.
 */
const FILE = __filename;
const ROOT = join(__dirname, '..', '..');
const DIST = process.env.CIMD_RELIABILITY_DIST ?? join(ROOT, 'dist');
const ADMIN_TOKEN = 'reliability-admin-token-0123456789';
const PREFIX = 'rel-ssrf';
const keys = new RedisKeys(PREFIX);

/** A "public" origin (outside every special-use range, so reachable with no exemption at all). */
const PUBLIC_V4 = '11.22.33.44';
const PUBLIC_V6 = '2a00:cafe::1';
/** A special-use address exempted by CIMD_FETCH_ALLOW_CIDRS: the positive control of the block itself. */
const ALLOWED = '198.51.100.7';

/** Representative addresses of ranges where the first address is not the interesting one. */
const PICKS: Record<string, string[]> = {
  '0.0.0.0/8': ['0.0.0.0'],
  '127.0.0.0/8': ['127.0.0.1', '127.0.0.2'],
  '169.254.0.0/16': ['169.254.169.254'],
  '192.0.0.0/24': ['192.0.0.192'],
  '240.0.0.0/4': ['240.0.0.1', '255.255.255.255'],
  '::/128': ['::'],
  '::ffff:0:0/96': ['::ffff:a9fe:a9fe'],
  '::/96': ['::a9fe:a9fe'],
  '64:ff9b::/96': ['64:ff9b::a9fe:a9fe'],
  '2002::/16': ['2002:a9fe:a9fe::1'],
  'fc00::/7': ['fc00::1', 'fd00:ec2::254'],
  'ff00::/8': ['ff02::1'],
};

/** One address per range (the first host unless picked above), for vectors and listeners. */
function rangeAddresses(): { cidr: string; address: string }[] {
  const out: { cidr: string; address: string }[] = [];
  for (const range of SPECIAL_USE_RANGES) {
    const picks = PICKS[range.cidr];
    if (picks) {
      for (const address of picks) out.push({ cidr: range.cidr, address });
      continue;
    }
    const [network] = ipaddr.parseCIDR(range.cidr);
    const bytes = network.toByteArray();
    if (range.cidr.endsWith('/32') || range.cidr.endsWith('/128')) {
      out.push({ cidr: range.cidr, address: network.toString() });
      continue;
    }
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) + 1;
    out.push({ cidr: range.cidr, address: ipaddr.fromByteArray(bytes).toString() });
  }
  // Outside IPv6 global unicast (2000::/3), which is blocked as a whole.
  out.push({ cidr: 'outside 2000::/3', address: '4000::1' });
  return out;
}

/** Addresses a listener cannot be bound to; connections to them would land elsewhere (or nowhere). */
function bindable(address: string): boolean {
  const ip = ipaddr.parse(address);
  if (ip.range() === 'multicast' || address === '255.255.255.255' || address === '0.0.0.0' || address === '::')
    return false;
  // IPv4-mapped addresses are the IPv4 listeners.
  return !(ip instanceof ipaddr.IPv6 && ip.isIPv4MappedAddress());
}

const host = (address: string) => (address.includes(':') ? `[${address}]` : address);

type Family =
  | 'range'
  | 'ipv4-notation'
  | 'ipv6-form'
  | 'multi-address'
  | 'dns'
  | 'localhost'
  | 'redirect'
  | 'scheme-port-userinfo'
  | 'logo'
  | 'webhook'
  | 'webhook-e2e';

interface Outcome {
  family: Family;
  input: string;
  /** Where it was refused: gateway (client_id rules), fetcher, … */
  layer: string;
  outcome: string;
  codes: string[];
  connections: string[];
  passed: boolean;
}

// ---------------------------------------------------------------------------------------------
// The world inside the namespace
// ---------------------------------------------------------------------------------------------

const RANGES = rangeAddresses();
const RESOLVE: Record<string, string[]> = {
  'public.test': [PUBLIC_V4],
  'public6.test': [PUBLIC_V6],
  'allowed.test': [ALLOWED],
  'meta.test': ['169.254.169.254'],
  'mixed-public-first.test': [PUBLIC_V4, '10.0.0.1'],
  'mixed-private-first.test': ['192.168.0.1', PUBLIC_V4],
  'mixed-v6.test': [PUBLIC_V6, 'fc00::1'],
  'mixed-v4-v6loopback.test': [PUBLIC_V4, '::1'],
  'mixed-mapped.test': [PUBLIC_V4, '::ffff:169.254.169.254'],
  'mixed-nat64.test': [PUBLIC_V6, '64:ff9b::a9fe:a9fe'],
  'mixed-6to4.test': [PUBLIC_V4, '2002:a9fe:a9fe::1'],
  'mixed-allowed-and-neighbour.test': [ALLOWED, '198.51.100.1'],
  'mixed-many.test': [PUBLIC_V4, PUBLIC_V6, PUBLIC_V4, '100.64.0.1'],
  'mapped-allowed.test': [`::ffff:${ALLOWED}`],
  'nat64-allowed.test': ['64:ff9b::c633:6407'],
  'zero.test': ['0.0.0.0'],
  'unspecified6.test': ['::'],
  'compat.test': ['::a9fe:a9fe'],
  'azure.test': ['168.63.129.16'],
  'aws6.test': ['fd00:ec2::254'],
  '127.0.0.1.nip.io': ['127.0.0.1'],
  '169.254.169.254.nip.io': ['169.254.169.254'],
  '10.0.0.1.sslip.io': ['10.0.0.1'],
  'localtest.me': ['127.0.0.1'],
  'foo.localhost': ['127.0.0.1'],
  'localhost.': ['127.0.0.1'],
};
/**
 * Names answered by the agent's DNS server (not in CIMD_FETCH_RESOLVE), so the production
 * resolver path (getaddrinfo through the namespace's resolv.conf) is tried as well: the n-th
 * query of a name gets the n-th answer set (dns-rebind.test answers public, then private).
 */
const DNS: Record<string, string[][]> = {
  'dns-public.test': [[PUBLIC_V4]],
  'dns-rebind.test': [[PUBLIC_V4], ['169.254.169.254']],
  'dns-private.test': [['10.0.0.1']],
  'dns-metadata.test': [['169.254.169.254']],
  'dns-mixed.test': [[PUBLIC_V4, '10.0.0.1']],
  'dns-mixed-private-first.test': [['169.254.169.254', PUBLIC_V4]],
  'dns-mixed-families.test': [[PUBLIC_V4, 'fc00::1']],
  'dns-public6-loopback4.test': [[PUBLIC_V6, '127.0.0.1']],
  'dns-mapped.test': [['::ffff:169.254.169.254']],
  'dns-nat64.test': [['64:ff9b::a9fe:a9fe']],
  'dns-6to4.test': [['2002:a9fe:a9fe::1']],
  'dns-zero.test': [['0.0.0.0']],
  'dns-loopback6.test': [['::1']],
  'dns-cgnat.test': [['100.64.0.1']],
  'dns-many.test': [[PUBLIC_V4, PUBLIC_V6, '192.168.0.1', 'fe80::1']],
};
const DNS_VECTORS = Object.keys(DNS).filter((n) => n !== 'dns-public.test' && n !== 'dns-rebind.test');
const MIXED = Object.keys(RESOLVE).filter((n) => !['public.test', 'public6.test', 'allowed.test'].includes(n));
/**
 * Names the fetcher resolves through /etc/hosts inside the namespace (no DNS server is reachable
 * there): localhost and the machine's own names, as long as they are special-use addresses.
 */
const HOSTS_FILE_NAMES = (() => {
  const names = new Set<string>(['localhost']);
  try {
    for (const line of readFileSync('/etc/hosts', 'utf8').split('\n')) {
      const [address, ...aliases] = line.replace(/#.*/, '').trim().split(/\s+/);
      if (address && checkAddress(address).blocked) for (const a of aliases) names.add(a.toLowerCase());
    }
  } catch {
    // no hosts file: localhost alone
  }
  return [...names].slice(0, 8);
})();

function doc(clientId: string, extra: Record<string, unknown> = {}) {
  return JSON.stringify({
    client_id: clientId,
    client_name: 'SSRF control',
    redirect_uris: ['https://public.test/callback'],
    token_endpoint_auth_method: 'none',
    ...extra,
  });
}
const json = (body: string, status = 200): Route => ({
  status,
  headers: { 'content-type': 'application/json' },
  body,
});

const REDIRECTS: { path: string; status: number; location: string }[] = [
  { path: '/redirect/302-metadata.json', status: 302, location: 'http://169.254.169.254/latest/meta-data/' },
  { path: '/redirect/307-metadata.json', status: 307, location: 'https://169.254.169.254/client.json' },
  { path: '/redirect/301-private.json', status: 301, location: 'https://10.0.0.1/client.json' },
  { path: '/redirect/308-ula.json', status: 308, location: 'https://[fc00::1]/client.json' },
  { path: '/redirect/303-localhost.json', status: 303, location: 'https://localhost/client.json' },
  { path: '/redirect/302-loopback.json', status: 302, location: 'http://127.0.0.1/' },
  { path: '/redirect/302-relative.json', status: 302, location: '//169.254.169.254/client.json' },
  { path: '/redirect/302-name.json', status: 302, location: 'https://meta.test/client.json' },
];

const LOGOS: string[] = [
  'https://169.254.169.254/logo.png',
  'https://10.0.0.1/logo.png',
  'https://[fc00::1]/logo.png',
  'https://[::ffff:a9fe:a9fe]/logo.png',
  'https://[64:ff9b::a9fe:a9fe]/logo.png',
  'https://meta.test/logo.png',
  'https://mixed-public-first.test/logo.png',
  'https://localhost/logo.png',
  'https://2130706433/logo.png',
  'http://169.254.169.254/logo.png',
  'https://169.254.169.254:80/logo.png',
];

function originRoutes(names: { v4: string; v6: string }): Record<string, Route> {
  const routes: Record<string, Route> = {
    '/client.json': json(doc('https://public.test/client.json')),
    '/v6/client.json': json(doc(`https://${names.v6}/v6/client.json`)),
    '/ip/client.json': json(doc(`https://${names.v4}/ip/client.json`)),
    '/hook': { status: 204 },
    '/dns/client.json': json(doc('https://dns-public.test/dns/client.json')),
    // Connection: close, so that the next fetch opens a new connection (and looks the name up again).
    '/rebind/client.json': {
      ...json(doc('https://dns-rebind.test/rebind/client.json')),
      headers: { 'content-type': 'application/json', connection: 'close' },
    },
    '/changing/client.json': {
      status: 200,
      sequence: [
        json(doc('https://public.test/changing/client.json')),
        json(doc('https://public.test/changing/client.json', { client_name: 'SSRF control, renamed' })),
      ],
    },
  };
  for (const r of REDIRECTS) routes[r.path] = { status: r.status, headers: { location: r.location } };
  LOGOS.forEach((logo, i) => {
    routes[`/logo/${i}.json`] = json(doc(`https://public.test/logo/${i}.json`, { logo_uri: logo }));
  });
  return routes;
}

// ---------------------------------------------------------------------------------------------
// Set-up
// ---------------------------------------------------------------------------------------------

let skipped: string | undefined;
let ns: NetworkNamespace;
let agent: NamespaceAgent;
let fetcher: NamespacedProcess;
let gateway: AppProcess;
let gatewayUrl: string;
let redis: PrivateRedis;
let inspect: Redis;
let subscriber: Redis;
let fetchQueue: Queue<FetchJobData, FetchJobResult>;
let webhookQueue: Queue<WebhookJobData, WebhookJobResult>;
let databaseUrl: string;
let healthSock: string;
const refusedAddresses = new Map<string, string>();
const done = new Map<string, FetchDoneMessage[]>();
const results: Outcome[] = [];

beforeAll(async () => {
  const support = await netnsSupport();
  if (!support.ok) {
    skipped = support.reason;
    return;
  }
  for (const app of ['gateway', 'fetcher']) {
    if (!existsSync(join(DIST, 'apps', app, 'src', 'main.js')))
      throw new Error(`${DIST} has no ${app}: run "npm run build" (npm run test:reliability does it first)`);
  }
  const dir = ownedTempDir('ssrf');
  ownCleanup(() => Promise.resolve(rmSync(dir, { recursive: true, force: true })));
  ns = await NetworkNamespace.create();

  // Addresses: one per special-use range, the public origin, the exempted one, and the NAT64
  // form of the exempted one (an exemption must not carry over to another form).
  const trapAddresses = [...new Set(RANGES.map((r) => r.address).filter(bindable))];
  const extra = [PUBLIC_V4, PUBLIC_V6, ALLOWED, '64:ff9b::c633:6407'];
  const toAdd = [...trapAddresses, ...extra].filter((a) => a !== '127.0.0.1' && a !== '::1' && a !== '127.0.0.2');
  for (const [address, why] of await ns.addAddresses(toAdd)) refusedAddresses.set(address, why);

  redis = await PrivateRedis.start();
  const redisSock = join(dir, 'redis.sock');
  healthSock = join(dir, 'health.sock');
  await unixForward(redisSock, '127.0.0.1', redis.port);
  const fetcherPort = 3001;

  const pki = await createTestPki('cimd reliability ssrf CA');
  const caFile = join(dir, 'ca.pem');
  writeFileSync(caFile, pki.caPem);
  const certNames = [
    ...Object.keys(RESOLVE).filter((n) => !n.endsWith('.')),
    ...Object.keys(DNS),
    ...trapAddresses,
    ...extra,
  ];
  // The fetcher's resolver inside the namespace asks the agent's DNS server, and only it.
  ns.setResolvConf('nameserver 127.0.0.1\noptions attempts:1 timeout:1\n');
  const tls = await pki.issue(['public.test', ...certNames.filter((n) => n !== 'public.test')]);

  const trapList = trapAddresses.filter((a) => !refusedAddresses.has(a) && a !== '64:ff9b::c633:6407');
  const routes = originRoutes({ v4: PUBLIC_V4, v6: `[${PUBLIC_V6}]` });
  agent = await NamespaceAgent.start(
    ns,
    {
      tls,
      traps: [
        ...trapList.map((address) => ({
          address: address.startsWith('fe80') ? `${address}%lo` : address,
          port: 443,
          tls: true,
        })),
        // Plain http on every address (a redirect to http:// followed, a port not refused).
        { address: '0.0.0.0', port: 80, tls: false },
        { address: '::', port: 80, tls: false },
        { address: '64:ff9b::c633:6407', port: 443, tls: true },
      ],
      origins: [
        { address: PUBLIC_V4, port: 443, routes },
        { address: PUBLIC_V6, port: 443, routes },
        {
          address: ALLOWED,
          port: 443,
          routes: {
            '/client.json': json(doc('https://allowed.test/client.json')),
            '/redirect.json': { status: 302, headers: { location: 'http://169.254.169.254/latest/meta-data/' } },
          },
        },
      ],
      dns: { address: '127.0.0.1', port: 53, names: DNS },
      forwards: [
        { from: { host: '127.0.0.1', port: redis.port }, to: { path: redisSock } },
        { from: { path: healthSock }, to: { host: '127.0.0.1', port: fetcherPort } },
      ],
      // The agent's own connections: every trap answers, also to the forms that land on it.
      probes: [
        ...trapList.map((address) => ({ host: address.startsWith('fe80') ? `${address}%lo` : address, port: 443 })),
        { host: '0.0.0.0', port: 443 },
        { host: '::', port: 443 },
        { host: '::ffff:169.254.169.254', port: 443 },
        { host: '169.254.169.254', port: 80 },
        { host: 'fc00::1', port: 80 },
      ],
    },
    dir,
  );

  fetcher = new NamespacedProcess(
    'fetcher',
    ns,
    join(DIST, 'apps', 'fetcher', 'src', 'main.js'),
    {
      NODE_ENV: 'test',
      LOG_LEVEL: 'info',
      HOST: '127.0.0.1',
      FETCHER_PORT: String(fetcherPort),
      REDIS_URL: `redis://127.0.0.1:${redis.port}`,
      CIMD_REDIS_PREFIX: PREFIX,
      CIMD_FETCH_ALLOWED_PORTS: '443',
      CIMD_FETCH_RESOLVE: Object.entries(RESOLVE)
        .map(([name, addresses]) => `${name}:443:${addresses.map(host).join(',')}`)
        .join(';'),
      CIMD_FETCH_CA_FILE: caFile,
      CIMD_FETCH_ALLOW_CIDRS: `${ALLOWED}/32`,
      CIMD_FETCH_TIMEOUT_MS: '2000',
      CIMD_ORIGIN_RATE_LIMIT: '100000',
    },
    dir,
  );
  fetcher.start();

  const database = `cimd_rel_ssrf_${process.pid}`;
  const base = new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/cimd');
  base.pathname = `/${database}`;
  databaseUrl = base.toString();
  await dropDatabase(databaseUrl);
  ownCleanup(() => dropDatabase(databaseUrl));
  const gatewayPort = await freePort();
  gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
  gateway = new AppProcess(
    'gateway',
    join(DIST, 'apps', 'gateway', 'src', 'main.js'),
    {
      NODE_ENV: 'test',
      LOG_LEVEL: 'info',
      REDIS_URL: redis.url,
      DATABASE_URL: databaseUrl,
      CIMD_REDIS_PREFIX: PREFIX,
      CIMD_ADMIN_TOKEN: ADMIN_TOKEN,
      HOST: '127.0.0.1',
      PORT: String(gatewayPort),
      GRPC_PORT: String(await freePort()),
      CIMD_AUTHORIZE_WAIT_MS: '3000',
    },
    dir,
  );
  gateway.start();

  inspect = new Redis(redis.url, { maxRetriesPerRequest: 3 });
  subscriber = new Redis(redis.url, { maxRetriesPerRequest: 3 });
  ownCleanup(async () => {
    inspect.disconnect();
    subscriber.disconnect();
    await Promise.all([fetchQueue?.close(), webhookQueue?.close()]);
  });
  await subscriber.subscribe(keys.fetchDone);
  subscriber.on('message', (_channel: string, message: string) => {
    const m = JSON.parse(message) as FetchDoneMessage;
    done.set(m.client_key, [...(done.get(m.client_key) ?? []), m]);
  });
  fetchQueue = new Queue(FETCH_QUEUE, {
    connection: { host: '127.0.0.1', port: redis.port },
    prefix: keys.queuePrefix,
  });
  webhookQueue = new Queue(WEBHOOK_QUEUE, {
    connection: { host: '127.0.0.1', port: redis.port },
    prefix: keys.queuePrefix,
  });

  await waitUntil(
    async () => (await getOverUnix(healthSock, '/readyz').catch(() => ({ status: 0 }))).status === 200,
    () => (fetcher.running ? 'the fetcher is not ready' : `the fetcher exited:\n${fetcher.tail()}`),
    30_000,
    () => !fetcher.running,
  );
  await waitUntil(
    async () => (await api('GET', '/readyz').catch(() => ({ status: 0 }))).status === 200,
    () => `the gateway is not ready:\n${gateway.tail()}`,
    30_000,
    () => !gateway.running,
  );
  for (const tenant of ['attacker', 'hooks-ok', 'hooks-metadata', 'hooks-mapped']) {
    const r = await api('POST', '/v1/tenants', { id: tenant });
    if (r.status !== 201) throw new Error(`creating tenant ${tenant}: ${r.status} ${JSON.stringify(r.body)}`);
  }
}, 120_000);

afterAll(async () => {
  if (!skipped) {
    const passed = results.filter((r) => r.passed).length;
    record(
      'ssrf',
      {
        tried: results.length,
        passed,
        details: lines(),
      },
      FILE,
    );
    if (process.env.CIMD_SSRF_VERBOSE) process.stdout.write(`${lines().join('\n')}\n`);
  }
  await stopAll();
}, 60_000);

function lines(): string[] {
  return results.map(
    (r) =>
      `${r.passed ? 'blocked' : 'REACHED/UNEXPECTED'} ${r.family} ${JSON.stringify(r.input)}: ${r.layer} → ${r.outcome}` +
      `${r.codes.length ? ` [${r.codes.join(', ')}]` : ''}${r.connections.length ? ` connections: ${r.connections.join('; ')}` : ''}`,
  );
}

let skipNoted = false;

/** True when network namespaces are not available here: said once on the console and in the results. */
function skip(): boolean {
  if (!skipped) return false;
  if (!skipNoted) {
    skipNoted = true;
    const message = `SSRF suite skipped: ${skipped} (it needs root and "ip netns")`;
    console.warn(message);
    record('ssrf', { tried: 0, passed: 0, details: [message] }, FILE);
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

async function waitUntil(
  ok: () => Promise<boolean>,
  why: () => string,
  timeoutMs: number,
  abort: () => boolean = () => false,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (abort() || Date.now() > deadline) throw new Error(why());
    await sleep(25);
  }
}

// Response bodies are arbitrary JSON that the test inspects.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function api(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${gatewayUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${ADMIN_TOKEN}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: res.status, body: parsed };
}

async function entry(clientId: string): Promise<CacheEntry | undefined> {
  return parseCacheEntry(await inspect.get(keys.clientEntry(clientId)));
}

/** The next fetch-done notice for a client after `seen` earlier ones. */
async function fetchDone(clientId: string, seen: number, timeoutMs: number): Promise<FetchDoneMessage | undefined> {
  const key = clientKey(clientId);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const list = done.get(key) ?? [];
    if (list.length > seen) return list[seen];
    if (Date.now() > deadline) return undefined;
    await sleep(10);
  }
}

/** Trap connections since `mark`, after a moment for the agent's report to arrive. */
async function trapped(mark: number): Promise<string[]> {
  await sleep(30);
  return agent.connections(mark, 'trap').map((c) => `${c.address}:${c.port} from ${c.remote}`);
}

const REFUSAL_CODES = /^(client_id\.|fetch\.blocked_address$|fetch\.port_not_allowed$)/;

/**
 * One client_id through the gateway's authorize check; when the gateway refuses it without
 * fetching, once more as a fetch job on the queue, so that the fetcher's own guard is tried.
 */
const triedClientIds = new Set<string>();

async function tryClientId(
  family: Family,
  clientId: string,
  expect: 'refused' | 'redirect' = 'refused',
): Promise<Outcome | undefined> {
  if (triedClientIds.has(clientId)) return undefined;
  triedClientIds.add(clientId);
  const mark = agent.mark;
  const key = clientKey(clientId);
  const before = done.get(key)?.length ?? 0;
  const check = await api('POST', '/v1/tenants/attacker/authorize/check', {
    client_id: clientId,
    redirect_uri: 'https://public.test/callback',
    code_challenge_method: 'S256',
  });
  const fromGateway =
    check.status === 200
      ? await fetchDone(clientId, before, check.body?.decision === 'pending' ? 5000 : 300)
      : undefined;
  let layer: string;
  let outcome: string;
  let codes: string[];
  if (fromGateway) {
    layer = 'gateway check → fetcher';
    outcome = fromGateway.outcome;
  } else {
    layer = `gateway check refused it (${check.status}${check.body?.decision ? ` ${check.body.decision}` : ''}, not fetched); queue → fetcher`;
    const seen = done.get(key)?.length ?? 0;
    await fetchQueue.add(
      FETCH_JOB,
      { client_id: clientId, reason: 'admin' },
      { jobId: `ssrf-${fetchJobId(clientId)}-${seen}`, attempts: 1, removeOnComplete: true, removeOnFail: true },
    );
    const direct = await fetchDone(clientId, seen, 10_000);
    outcome = direct?.outcome ?? 'no answer within 10 s';
  }
  const e = await entry(clientId);
  codes = (e?.errors ?? []).map((f) => f.code);
  if (outcome === 'transient') codes = ['(transient: the fetcher tried to connect)'];
  const connections = await trapped(mark);
  const refusedProperly =
    expect === 'redirect'
      ? outcome === 'redirect' && codes.includes('fetch.redirect')
      : outcome === 'blocked' && codes.length > 0 && codes.every((c) => REFUSAL_CODES.test(c));
  const result: Outcome = {
    family,
    input: clientId,
    layer,
    outcome,
    codes,
    connections,
    passed: refusedProperly && connections.length === 0,
  };
  results.push(result);
  return result;
}

/** One webhook delivery job with `url`; the fetcher must refuse it without connecting. */
async function tryWebhook(url: string, expectDelivered = false): Promise<Outcome> {
  const mark = agent.mark;
  const deliveryId = `ssrf-${results.length}-${Date.now()}`;
  const job = await webhookQueue.add(
    WEBHOOK_JOB,
    {
      delivery_id: deliveryId,
      tenant_id: 'attacker',
      url,
      body: '{"type":"ssrf.test"}',
      headers: { 'content-type': 'application/json' },
    },
    { jobId: deliveryId, attempts: 1, removeOnComplete: false, removeOnFail: false },
  );
  let state = 'unknown';
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    state = await webhookQueue.getJobState(job.id ?? deliveryId);
    if (state === 'completed' || state === 'failed') break;
    await sleep(10);
  }
  const finished = await webhookQueue.getJob(job.id ?? deliveryId);
  // The fetcher's log line for the attempt names the refusal's code (it may reach the file a moment later).
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  let logged: any[] = [];
  for (let i = 0; i < 50 && logged.length === 0; i++) {
    logged = fetcher.logLines().filter((l) => l.delivery_id === deliveryId);
    if (logged.length === 0) await sleep(20);
  }
  const codes = logged
    .map((l) => (l.code as string | undefined) ?? (l.status ? `status ${l.status}` : ''))
    .filter(Boolean);
  const connections = await trapped(mark);
  const outcome = state === 'failed' ? `failed: ${finished?.failedReason ?? ''}` : state;
  const passed = expectDelivered
    ? state === 'completed'
    : state === 'failed' &&
      connections.length === 0 &&
      (codes.some((c) => REFUSAL_CODES.test(c)) || /is not a URL/.test(finished?.failedReason ?? ''));
  const result: Outcome = {
    family: 'webhook',
    input: url,
    layer: 'webhook queue → fetcher',
    outcome,
    codes,
    connections,
    passed,
  };
  if (!expectDelivered) results.push(result);
  return result;
}

function expectAllPassed(list: (Outcome | undefined)[]): void {
  const failed = list.filter((r) => r !== undefined && !r.passed);
  expect(failed).toEqual([]);
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

describe('SSRF: the fetcher in a namespace of special-use addresses', () => {
  it('has only a loopback device, a listener on every range that answers, and a working positive control', async () => {
    if (skip()) return;
    expect(await ns.devices()).toEqual(['lo']);
    const listening = agent.events.filter((e) => e.ev === 'listening' && e.role === 'trap').map((e) => e.address);
    const failedListen = agent.events.filter((e) => e.ev === 'listen_error');
    expect(failedListen).toEqual([]);
    // Every range has a vector; every bindable one a listener (unless the kernel refused the address).
    for (const { address } of RANGES) {
      if (bindable(address) && !refusedAddresses.has(address))
        expect(listening).toContain(address.startsWith('fe80') ? `${address}%lo` : address);
    }
    expect(new Set(RANGES.map((r) => r.cidr)).size).toBe(SPECIAL_USE_RANGES.length + 1);
    // The traps answer, also to 0.0.0.0, :: and an IPv4-mapped address.
    const probes = agent.events.filter((e) => e.ev === 'probe');
    expect(probes.filter((p) => !p.ok)).toEqual([]);
    expect(agent.connections(0, 'trap').length).toBeGreaterThanOrEqual(probes.length);

    // Positive controls through the fetcher: a public address, a public IPv6 literal and
    // the exempted special-use address are reached and their documents accepted.
    const controls = [
      'https://public.test/client.json',
      `https://[${PUBLIC_V6}]/v6/client.json`,
      `https://${PUBLIC_V4}/ip/client.json`,
      'https://allowed.test/client.json',
      'https://dns-public.test/dns/client.json',
    ];
    for (const clientId of controls) {
      const mark = agent.mark;
      const check = await api('POST', '/v1/tenants/attacker/authorize/check', {
        client_id: clientId,
        redirect_uri: 'https://public.test/callback',
        code_challenge_method: 'S256',
      });
      expect({ clientId, status: check.status, decision: check.body?.decision }).toEqual({
        clientId,
        status: 200,
        decision: 'allow',
      });
      expect(agent.connections(mark, 'origin').length).toBeGreaterThan(0);
      expect(await trapped(mark)).toEqual([]);
    }
    const hook = await tryWebhook('https://public.test/hook', true);
    expect(hook.outcome).toBe('completed');
    const messages = [
      `listeners on port 443 of ${listening.length} addresses (plain ones on port 80 of all); kernel refused: ${[...refusedAddresses.keys()].join(', ') || 'none'}`,
      `positive controls reached and accepted: ${controls.join(', ')}, webhook https://public.test/hook`,
    ];
    record('ssrf', { tried: 0, passed: 0, details: messages }, FILE);
  });

  it('refuses a client_id in every special-use range', async () => {
    if (skip()) return;
    const list: (Outcome | undefined)[] = [];
    for (const { address } of RANGES) list.push(await tryClientId('range', `https://${host(address)}/client.json`));
    // An exemption is for the address as written: not its IPv4-mapped or NAT64 forms.
    list.push(await tryClientId('range', `https://[::ffff:c633:6407]/client.json`));
    list.push(await tryClientId('range', `https://[64:ff9b::c633:6407]/client.json`));
    list.push(await tryClientId('range', `https://198.51.100.1/client.json`));
    expectAllPassed(list);
  });

  it('refuses alternate IPv4 notations and IPv6 forms', async () => {
    if (skip()) return;
    const ipv4 = [
      '2130706433',
      '0177.0.0.1',
      '0x7f.1',
      '0x7f.0.0.1',
      '0x7f000001',
      '017700000001',
      '127.1',
      '127.0.1',
      '10.1',
      '012.0.0.1',
      '0xa9.0xfe.0xa9.0xfe',
      '0251.0376.0251.0376',
      '169.254.43518',
      '2852039166',
      '0',
      '127.0.0.1.',
      '0x0a.0.0.1',
      '00000000000000000000000127.0.0.1',
    ];
    const ipv6 = [
      '[::ffff:169.254.169.254]',
      '[::ffff:a9fe:a9fe]',
      '[::FFFF:A9FE:A9FE]',
      '[0:0:0:0:0:ffff:a9fe:a9fe]',
      '[0000:0000:0000:0000:0000:ffff:a9fe:a9fe]',
      '[64:ff9b::169.254.169.254]',
      '[64:ff9b::a9fe:a9fe]',
      '[64:ff9b:0:0:0:0:a9fe:a9fe]',
      '[64:ff9b:1::a9fe:a9fe]',
      '[2002:a9fe:a9fe::]',
      '[2002:a9fe:a9fe:0:0:0:0:0]',
      '[2002:7f00:1::]',
      '[64:ff9b::7f00:1]',
      '[::127.0.0.1]',
      '[::7f00:1]',
      '[0:0:0:0:0:0:0:1]',
      '[0000:0000:0000:0000:0000:0000:0000:0001]',
      '[::0:1]',
      '[::ffff:7f00:1]',
      '[::ffff:10.0.0.1]',
      '[::ffff:0:a9fe:a9fe]',
      '[FC00::1]',
      '[fc00:0:0:0:0:0:0:1]',
      '[fe80::1%25lo]',
      '[fe80::1%lo]',
      '[fe80::1]',
      '[::]',
      '[::1]',
    ];
    const list: (Outcome | undefined)[] = [];
    for (const h of ipv4) list.push(await tryClientId('ipv4-notation', `https://${h}/client.json`));
    for (const h of ipv6) list.push(await tryClientId('ipv6-form', `https://${h}/client.json`));
    expectAllPassed(list);
  });

  it('refuses names whose answers include a special-use address, and localhost spellings', async () => {
    if (skip()) return;
    const list: (Outcome | undefined)[] = [];
    for (const name of MIXED.filter((n) => !n.endsWith('.') && !n.endsWith('.localhost')))
      list.push(await tryClientId('multi-address', `https://${name}/client.json`));
    const spellings = [
      'localhost',
      'LOCALHOST',
      'localhost.',
      'LocalHost.',
      'foo.localhost',
      'FOO.LOCALHOST.',
      'localhost:443',
      ...HOSTS_FILE_NAMES.filter((n) => n !== 'localhost'),
    ];
    for (const name of spellings) list.push(await tryClientId('localhost', `https://${name}/client.json`));
    expectAllPassed(list);
  });

  it('checks every address of a real DNS answer, and resolves once per connection (no rebinding)', async () => {
    if (skip()) return;
    const list: (Outcome | undefined)[] = [];
    for (const name of DNS_VECTORS) list.push(await tryClientId('dns', `https://${name}/client.json`));

    // Rebinding: the first answer is public (fetched from there), every later one private. A
    // fetcher that looked the name up twice (check, then connect) would connect to the second.
    const clientId = 'https://dns-rebind.test/rebind/client.json';
    const mark = agent.mark;
    const first = await api('POST', '/v1/tenants/attacker/authorize/check', {
      client_id: clientId,
      redirect_uri: 'https://public.test/callback',
      code_challenge_method: 'S256',
    });
    const firstQueries = agent.events.slice(mark).filter((e) => e.ev === 'dns' && e.name === 'dns-rebind.test');
    const reachedOrigin = agent.connections(mark, 'origin').length > 0;
    const before = done.get(clientKey(clientId))?.length ?? 0;
    expect((await api('POST', '/v1/clients/refresh', { client_id: clientId })).status).toBe(202);
    const second = await fetchDone(clientId, before, 10_000);
    const e = await entry(clientId);
    const connections = await trapped(mark);
    const aQueries = firstQueries.filter((q) => q.type === 'A').length;
    const allQueries = agent.events
      .slice(mark)
      .filter((ev) => ev.ev === 'dns' && ev.name === 'dns-rebind.test' && ev.type === 'A')
      .map((q) => JSON.stringify(q.answer));
    const result: Outcome = {
      family: 'dns',
      input: `${clientId} (rebinding: ${PUBLIC_V4}, then 169.254.169.254)`,
      layer: 'gateway check → fetcher, then admin refresh → fetcher',
      outcome: `first ${first.body?.decision} (${aQueries} A query, origin reached: ${reachedOrigin}), then ${second?.outcome}; A answers: ${allQueries.join(', ')} [${(e?.suspect?.errors ?? e?.errors ?? []).map((f) => f.code).join(', ')}]`,
      codes: [],
      connections,
      passed:
        first.body?.decision === 'allow' &&
        aQueries === 1 &&
        reachedOrigin &&
        second?.outcome === 'blocked' &&
        connections.length === 0,
    };
    results.push(result);
    list.push(result);
    expectAllPassed(list);
  });

  it('never follows a redirect, refuses other schemes, ports and credentials', async () => {
    if (skip()) return;
    const list: (Outcome | undefined)[] = [];
    for (const r of REDIRECTS) list.push(await tryClientId('redirect', `https://public.test${r.path}`, 'redirect'));
    list.push(await tryClientId('redirect', 'https://allowed.test/redirect.json', 'redirect'));
    for (const clientId of [
      'http://169.254.169.254/client.json',
      'https://169.254.169.254:80/client.json',
      'https://public.test:80/client.json',
      'https://public.test:8443/client.json',
      'https://public.test@169.254.169.254/client.json',
      'https://169.254.169.254@public.test/client.json',
      'https://public.test:443@10.0.0.1/client.json',
      'https://169.254.169.254\\@public.test/client.json',
    ])
      list.push(await tryClientId('scheme-port-userinfo', clientId));
    expectAllPassed(list);
  });

  it('never fetches a logo_uri that points at a special-use address', async () => {
    if (skip()) return;
    const list: (Outcome | undefined)[] = [];
    for (const [i, logo] of LOGOS.entries()) {
      const clientId = `https://public.test/logo/${i}.json`;
      const mark = agent.mark;
      const check = await api('POST', '/v1/tenants/attacker/authorize/check', {
        client_id: clientId,
        redirect_uri: 'https://public.test/callback',
        code_challenge_method: 'S256',
      });
      const e = await entry(clientId);
      const connections = await trapped(mark);
      // Why the fetcher stored no logo: its safe client refused the URL (or the document rules did first).
      const refusal = fetcher
        .logLines()
        .filter((l) => l.msg === 'logo not stored' && l.logo_uri === logo)
        .map((l) => String(l.reason));
      const outcome = `${check.body?.decision ?? check.status}, entry ${e?.status ?? 'none'}${e?.logo ? ' WITH A LOGO' : ', no logo'}${refusal.length ? ` (${refusal[0]})` : ''}`;
      const codes = [...(e?.warnings ?? []), ...(e?.errors ?? []).map((f) => f.code)];
      const refused =
        refusal.some((r) => /is in |form of|outside IPv6|resolves to|not allowed|only https|credentials/.test(r)) ||
        (e?.status === 'invalid' && codes.includes('logo_uri.invalid'));
      const result: Outcome = {
        family: 'logo',
        input: logo,
        layer: 'gateway check → fetcher (document) → logo prefetch',
        outcome,
        codes,
        connections,
        passed: e !== undefined && !e.logo && refused && connections.length === 0,
      };
      results.push(result);
      list.push(result);
    }
    expectAllPassed(list);
  });

  it('refuses webhook URLs at special-use addresses (queue jobs and a tenant policy end to end)', async () => {
    if (skip()) return;
    const list: (Outcome | undefined)[] = [];
    const urls = [
      ...RANGES.map(({ address }) => `https://${host(address)}/hook`),
      'https://2130706433/hook',
      'https://0177.0.0.1/hook',
      'https://0x7f.1/hook',
      'https://127.1/hook',
      'https://10.1/hook',
      'https://0xa9.0xfe.0xa9.0xfe/hook',
      'https://169.254.43518/hook',
      'https://0/hook',
      'https://[::ffff:169.254.169.254]/hook',
      'https://[0:0:0:0:0:ffff:a9fe:a9fe]/hook',
      'https://[64:ff9b::169.254.169.254]/hook',
      'https://[2002:a9fe:a9fe::]/hook',
      'https://[::127.0.0.1]/hook',
      'https://[0000::1]/hook',
      'https://[fe80::1%25lo]/hook',
      'https://[::ffff:c633:6407]/hook',
      ...MIXED.map((name) => `https://${name}/hook`),
      ...DNS_VECTORS.map((name) => `https://${name}/hook`),
      ...HOSTS_FILE_NAMES.map((name) => `https://${name}/hook`),
      'https://LOCALHOST./hook',
      'http://169.254.169.254/hook',
      'https://169.254.169.254:80/hook',
      'https://public.test:80/hook',
      'https://user:pass@169.254.169.254/hook',
      'https://public.test@169.254.169.254/hook',
    ];
    for (const url of urls) list.push(await tryWebhook(url));

    // End to end: tenants whose policy webhook points inside get their events through the
    // gateway, the fetcher refuses the delivery, the gateway's log says it is dead.
    const secret = 'ssrf-webhook-secret-0123456789';
    // Names, which a policy save cannot judge, resolving to the metadata address (through the
    // fetcher's override, and through the namespace's DNS server as an IPv4-mapped address).
    const tenantHooks: Record<string, string> = {
      'hooks-ok': 'https://public.test/hook',
      'hooks-metadata': 'https://169.254.169.254.nip.io/latest/meta-data/',
      'hooks-mapped': 'https://dns-mapped.test/hook',
    };
    // Their IP literals are refused when the policy is saved, with the rule named.
    for (const url of ['https://169.254.169.254/latest/meta-data/', 'https://[::ffff:a9fe:a9fe]/hook']) {
      const p = await api('PUT', '/v1/tenants/hooks-metadata/policy', { webhook: { url, secret } });
      const description = String(p.body?.error_description ?? '');
      const result: Outcome = {
        family: 'webhook-e2e',
        input: url,
        layer: 'tenant policy save (gateway)',
        outcome: `${p.status}: ${description}`,
        codes: [],
        connections: [],
        passed: p.status === 400 && description.endsWith('(rule webhook_url.special_use_address)'),
      };
      results.push(result);
      list.push(result);
    }
    const clientId = 'https://public.test/changing/client.json';
    const mark = agent.mark;
    // First fetch: the document as it was (served once; every later fetch gets the renamed one).
    const first = await api('POST', '/v1/tenants/hooks-ok/authorize/check', {
      client_id: clientId,
      redirect_uri: 'https://public.test/callback',
      code_challenge_method: 'S256',
    });
    expect(first.body?.decision).toBe('allow');
    for (const [tenant, url] of Object.entries(tenantHooks)) {
      const p = await api('PUT', `/v1/tenants/${tenant}/policy`, { webhook: { url, secret } });
      expect([p.status, p.body]).toEqual([200, expect.anything()]);
      const s = await api('POST', `/v1/tenants/${tenant}/sessions`, { session_id: `s-${tenant}`, client_id: clientId });
      expect([s.status, s.body]).toEqual([201, expect.anything()]);
    }
    // The document changes (its name): every tenant with a session gets client.changed.
    expect((await api('POST', '/v1/clients/refresh', { client_id: clientId })).status).toBe(202);
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const deliveries: Record<string, any[]> = {};
    await waitUntil(
      async () => {
        for (const tenant of Object.keys(tenantHooks)) {
          const r = await api('GET', `/v1/tenants/${tenant}/webhooks/deliveries`);
          deliveries[tenant] = (r.body?.deliveries ?? r.body ?? []) as unknown[];
        }
        return Object.values(deliveries).every((d) => Array.isArray(d) && d.some((x) => x.status !== 'pending'));
      },
      () => `webhook deliveries not settled: ${JSON.stringify(deliveries)}`,
      15_000,
    );
    const connections = await trapped(mark);
    expect(deliveries['hooks-ok']?.[0]?.status).toBe('delivered');
    expect(agent.events.slice(mark).some((e) => e.ev === 'request' && e.path === '/hook' && e.method === 'POST')).toBe(
      true,
    );
    for (const tenant of ['hooks-metadata', 'hooks-mapped']) {
      const d = deliveries[tenant]?.[0];
      const result: Outcome = {
        family: 'webhook-e2e',
        input: tenantHooks[tenant] ?? '',
        layer: 'tenant policy → gateway → webhook queue → fetcher',
        outcome: `delivery ${d?.status} after ${d?.attempts} attempt(s): ${d?.last_error ?? ''}`,
        codes: [],
        connections,
        // Refused for good on the first attempt (the fetcher does not retry a refused URL).
        passed:
          d?.status === 'dead' &&
          d?.attempts === 1 &&
          /is in |form of/.test(String(d?.last_error)) &&
          connections.length === 0,
      };
      results.push(result);
      list.push(result);
    }
    expectAllPassed(list);
  });

  it('left no connection on any listener', async () => {
    if (skip()) return;
    await sleep(300);
    const probes = agent.events.filter((e) => e.ev === 'probe').length;
    const trapConnections = agent.connections(0, 'trap');
    // The agent's own probes (one connection each) are the only connections the traps ever saw.
    expect(trapConnections.length).toBe(probes);
  });
});
