import { checkAddress, FetchOutcome, RuleCode } from '@cimd/core';
import { fetchClientMetadata, fetchLogo, parseResolveMap, Resolver, SafeFetcher } from '@cimd/safe-fetch';
import { Canary, createTestPki, TestOrigin, TestPki } from '@cimd/testing';
import { lookup } from 'node:dns/promises';
import { networkInterfaces } from 'node:os';

/**
 * SSRF (SPEC-NOTES 5), as an attacker: client_id and logo URLs aimed at special-use
 * addresses, through the real SafeFetcher and fetchClientMetadata, with no allowCidrs
 * exemption. A Canary listening on [::]:P (dual stack: it receives connections to
 * 127.0.0.0/8, 0.0.0.0, ::1, :: and this machine's own interface addresses on port P)
 * proves that no connection was even attempted. The positive controls at the end show
 * that the same canary does see a connection the fetcher is allowed to make.
 */

let pki: TestPki;
let canary: Canary;
/** The canary's port, the only one the attacker fetcher allows. */
let P: number;
let attacker: SafeFetcher;
const fetchers: SafeFetcher[] = [];
const cleanups: (() => Promise<void>)[] = [];

const TIMEOUT_MS = 2000;

function fetcher(options: ConstructorParameters<typeof SafeFetcher>[0] = {}): SafeFetcher {
  const f = new SafeFetcher({ allowedPorts: [P], extraCa: pki.caPem, timeoutMs: TIMEOUT_MS, ...options });
  fetchers.push(f);
  return f;
}

/** `{P}` in a template is the canary's port. */
const at = (template: string): string => template.replaceAll('{P}', String(P));

/** Run one attempt and report how many connections the canary received meanwhile. */
async function watched<T>(
  attempt: () => Promise<T>,
  watch: Canary = canary,
): Promise<{ result: T; connections: number }> {
  const before = watch.connections;
  const result = await attempt();
  // A connection the kernel accepted is counted on the next turns of the event loop.
  await new Promise((resolve) => setTimeout(resolve, 25));
  return { result, connections: watch.connections - before };
}

function codes(o: FetchOutcome): RuleCode[] {
  return 'errors' in o ? o.errors.map((e) => e.code) : [];
}

function messages(o: FetchOutcome): string {
  return 'errors' in o ? o.errors.map((e) => e.message).join('\n') : '';
}

/** Names resolved through the resolve map (which replaces DNS; its answers are still checked). */
const MAPPED: { host: string; address: string; range: string }[] = [
  { host: 'private10.test', address: '10.0.0.1', range: '10.0.0.0/8' },
  { host: 'metadata.test', address: '169.254.169.254', range: '169.254.0.0/16' },
  { host: 'private192.test', address: '192.168.1.1', range: '192.168.0.0/16' },
  { host: 'private172.test', address: '172.16.0.1', range: '172.16.0.0/12' },
  { host: 'cgnat.test', address: '100.64.0.1', range: '100.64.0.0/10' },
  { host: 'ula.test', address: 'fc00::1', range: 'fc00::/7' },
  { host: 'linklocal6.test', address: 'fe80::1', range: 'fe80::/10' },
  { host: 'loopback6.test', address: '::1', range: '::1/128' },
  { host: 'loopback.test', address: '127.0.0.1', range: '127.0.0.0/8' },
  { host: 'loopback2.test', address: '127.0.0.2', range: '127.0.0.0/8' },
  { host: 'zero.test', address: '0.0.0.0', range: '0.0.0.0/8' },
  { host: 'unspecified6.test', address: '::', range: '::/128' },
  { host: 'mapped.test', address: '::ffff:127.0.0.1', range: '::ffff:0:0/96' },
  { host: 'nat64.test', address: '64:ff9b::7f00:1', range: '127.0.0.0/8' },
  { host: 'sixtofour.test', address: '2002:7f00:1::1', range: '127.0.0.0/8' },
  { host: 'awsv6.test', address: 'fd00:ec2::254', range: 'fc00::/7' },
  { host: 'azure.test', address: '168.63.129.16', range: '168.63.129.16/32' },
];

/**
 * This machine's own interface addresses: the canary listens on them too, so for these a
 * zero count is a real proof even outside loopback (in a container, typically a private
 * or documentation IPv4 and a ULA IPv6).
 */
const LOCAL = Object.values(networkInterfaces())
  .flat()
  .filter((i) => i !== undefined)
  .map((i) => i.address)
  .filter((address, index, all) => all.indexOf(address) === index && checkAddress(address).blocked)
  .map((address, index) => ({ host: `local${index}.test`, address }));

beforeAll(async () => {
  pki = await createTestPki();
  canary = new Canary();
  P = await canary.listen('::');
  cleanups.push(() => canary.close());

  const resolve = new Map<string, string[]>();
  for (const m of [...MAPPED, ...LOCAL]) resolve.set(`${m.host}:${P}`, [m.address]);
  for (const [key, addresses] of parseResolveMap(
    at(
      'evil.test:{P}:8.8.8.8,127.0.0.1;evil-first.test:{P}:127.0.0.1,8.8.8.8;evil6.test:{P}:[2606:4700:4700::1111],[::1]',
    ),
  )) {
    resolve.set(key, addresses);
  }
  attacker = fetcher({ resolve });
});

afterAll(async () => {
  for (const f of fetchers) await f.close();
  for (const c of cleanups.reverse()) await c();
});

describe('SSRF: IP-literal client_ids (SPEC-NOTES 5)', () => {
  // `code` is what fetchClientMetadata answers: the URL rules of @cimd/core refuse
  // non-canonical hosts (client_id.invalid_host) before any fetch; the rest reach the
  // fetcher, which refuses the address (fetch.blocked_address).
  const cases: { name: string; url: string; code: RuleCode }[] = [
    { name: 'IPv4 127.0.0.1', url: 'https://127.0.0.1:{P}/x', code: 'fetch.blocked_address' },
    { name: 'IPv4 0.0.0.0', url: 'https://0.0.0.0:{P}/x', code: 'fetch.blocked_address' },
    { name: 'decimal 2130706433', url: 'https://2130706433:{P}/x', code: 'client_id.invalid_host' },
    { name: 'octal 0177.0.0.1', url: 'https://0177.0.0.1:{P}/x', code: 'client_id.invalid_host' },
    { name: 'hex 0x7f.0.0.1', url: 'https://0x7f.0.0.1:{P}/x', code: 'client_id.invalid_host' },
    { name: 'hex 0x7f000001', url: 'https://0x7f000001:{P}/x', code: 'client_id.invalid_host' },
    { name: 'short 127.1', url: 'https://127.1:{P}/x', code: 'client_id.invalid_host' },
    { name: 'short 0', url: 'https://0:{P}/x', code: 'client_id.invalid_host' },
    { name: 'IPv6 [::1]', url: 'https://[::1]:{P}/x', code: 'fetch.blocked_address' },
    { name: 'IPv6 [::]', url: 'https://[::]:{P}/x', code: 'fetch.blocked_address' },
    { name: 'IPv4-mapped [::ffff:127.0.0.1]', url: 'https://[::ffff:127.0.0.1]:{P}/x', code: 'client_id.invalid_host' },
    { name: 'IPv4-mapped [::ffff:7f00:1]', url: 'https://[::ffff:7f00:1]:{P}/x', code: 'fetch.blocked_address' },
    { name: 'uncompressed [0:0:0:0:0:0:0:1]', url: 'https://[0:0:0:0:0:0:0:1]:{P}/x', code: 'client_id.invalid_host' },
    { name: 'IPv4-compatible [::127.0.0.1]', url: 'https://[::127.0.0.1]:{P}/x', code: 'client_id.invalid_host' },
    { name: 'IPv4-compatible [::7f00:1]', url: 'https://[::7f00:1]:{P}/x', code: 'fetch.blocked_address' },
    { name: 'NAT64 [64:ff9b::7f00:1]', url: 'https://[64:ff9b::7f00:1]:{P}/x', code: 'fetch.blocked_address' },
    { name: '6to4 [2002:7f00:1::1]', url: 'https://[2002:7f00:1::1]:{P}/x', code: 'fetch.blocked_address' },
    { name: 'metadata 169.254.169.254', url: 'https://169.254.169.254:{P}/x', code: 'fetch.blocked_address' },
    { name: 'upper-case hex 0X7F.0.0.1', url: 'https://0X7F.0.0.1:{P}/x', code: 'client_id.invalid_host' },
  ];

  it.each(cases)('SPEC-NOTES 5: $name is refused with $code, no connection', async ({ url, code }) => {
    const { result, connections } = await watched(() => fetchClientMetadata(attacker, at(url)));
    expect(result.outcome).toBe('blocked');
    expect(codes(result)).toContain(code);
    if (code === 'fetch.blocked_address') expect(codes(result)).toEqual([code]);
    expect(connections).toBe(0);
  });

  // Logo URIs skip the client_id URL rules, so the fetcher itself must refuse every form.
  it.each(cases)('SPEC-NOTES 5: $name is refused by SafeFetcher.get itself, no connection', async ({ url }) => {
    const { result, connections } = await watched(() => attacker.get(at(url), { accept: '*/*' }));
    expect(result).toMatchObject({ kind: 'failure', outcome: 'blocked', code: 'fetch.blocked_address' });
    expect(connections).toBe(0);
  });
});

describe('SSRF: names (SPEC-NOTES 5)', () => {
  it.each(['localhost', 'LOCALHOST', 'localhost.', 'foo.localhost', 'FOO.LOCALHOST.'])(
    'SPEC-NOTES 5: client_id host %s is refused by the URL rules (RFC 6761), no connection',
    async (host) => {
      const { result, connections } = await watched(() => fetchClientMetadata(attacker, at(`https://${host}:{P}/x`)));
      expect(result.outcome).toBe('blocked');
      expect(codes(result)).toContain('client_id.localhost');
      expect(connections).toBe(0);
    },
  );

  it('SPEC-NOTES 5: localhost through SafeFetcher.get (as for a logo) is blocked by its resolved address, no connection', async () => {
    const { result, connections } = await watched(() => attacker.get(at('https://localhost:{P}/x'), { accept: '*/*' }));
    expect(result).toMatchObject({ kind: 'failure', outcome: 'blocked', code: 'fetch.blocked_address' });
    if (result.kind === 'failure') expect(result.message).toMatch(/localhost resolves to (127\.0\.0\.1|::1)/);
    expect(connections).toBe(0);
  });

  // Whether the system resolver answers for these depends on the host (nss-myhostname,
  // systemd-resolved and /etc/hosts differ). Either it answers with loopback, which is
  // blocked, or it fails, which is transient; neither connects.
  it.each(['localhost.', 'foo.localhost', 'FOO.LOCALHOST.'])(
    'SPEC-NOTES 5: %s through SafeFetcher.get is blocked or does not resolve, no connection',
    async (host) => {
      const system = await lookup(host, { all: true }).catch(() => undefined);
      const { result, connections } = await watched(() => attacker.get(at(`https://${host}:{P}/x`), { accept: '*/*' }));
      expect(connections).toBe(0);
      expect(result.kind).toBe('failure');
      if (result.kind !== 'failure') return;
      if (system === undefined) expect(result).toMatchObject({ outcome: 'transient', code: 'fetch.dns_failed' });
      else expect(result).toMatchObject({ outcome: 'blocked', code: 'fetch.blocked_address' });
    },
  );

  it.each(MAPPED)(
    'SPEC-NOTES 5: $host resolving to $address is blocked ($range), no connection',
    async ({ host, address, range }) => {
      const { result, connections } = await watched(() => fetchClientMetadata(attacker, at(`https://${host}:{P}/x`)));
      expect(result.outcome).toBe('blocked');
      expect(codes(result)).toEqual(['fetch.blocked_address']);
      expect(messages(result)).toContain(`resolves to ${address}`);
      expect(messages(result)).toContain(range);
      expect(connections).toBe(0);
    },
  );

  it.each(LOCAL)(
    "SPEC-NOTES 5: $host resolving to this machine's own $address is blocked, no connection",
    async ({ host, address }) => {
      const { result, connections } = await watched(() => fetchClientMetadata(attacker, at(`https://${host}:{P}/x`)));
      expect(result.outcome).toBe('blocked');
      expect(codes(result)).toEqual(['fetch.blocked_address']);
      expect(messages(result)).toContain(address);
      expect(connections).toBe(0);
    },
  );

  it.each([
    { host: 'evil.test', blocked: '127.0.0.1', answer: '8.8.8.8, 127.0.0.1' },
    { host: 'evil-first.test', blocked: '127.0.0.1', answer: '127.0.0.1, 8.8.8.8' },
    { host: 'evil6.test', blocked: '::1', answer: '2606:4700:4700::1111, ::1' },
  ])(
    'SPEC-NOTES 5: $host answering [$answer] is blocked for $blocked, no connection to any',
    async ({ host, blocked }) => {
      const { result, connections } = await watched(() => fetchClientMetadata(attacker, at(`https://${host}:{P}/x`)));
      expect(result.outcome).toBe('blocked');
      expect(codes(result)).toEqual(['fetch.blocked_address']);
      expect(messages(result)).toContain(`resolves to ${blocked}`);
      expect(connections).toBe(0);
    },
  );

  it('SPEC-NOTES 5: a name with no resolve-map entry and no DNS answer fails as transient, no connection', async () => {
    const { result, connections } = await watched(() =>
      fetchClientMetadata(attacker, at('https://unmapped.invalid:{P}/x')),
    );
    expect(result.outcome).toBe('transient');
    expect(codes(result)).toEqual(['fetch.dns_failed']);
    expect(connections).toBe(0);
  });
});

describe('SSRF: DNS rebinding (SPEC-NOTES 5)', () => {
  it('SPEC-NOTES 5: an injected resolver answering 127.0.0.1 is checked: blocked, one lookup, no connection', async () => {
    const asked: string[] = [];
    const resolver: Resolver = (hostname) => {
      asked.push(hostname);
      return Promise.resolve([{ address: '127.0.0.1', family: 4 }]);
    };
    const f = fetcher({ resolver });
    const { result, connections } = await watched(() => fetchClientMetadata(f, at('https://rebind.test:{P}/x')));
    expect(result.outcome).toBe('blocked');
    expect(codes(result)).toEqual(['fetch.blocked_address']);
    expect(messages(result)).toContain('rebind.test resolves to 127.0.0.1');
    expect(asked).toEqual(['rebind.test']);
    expect(connections).toBe(0);
  });

  it('SPEC-NOTES 5: the checked answer is the one connected to: a second answer is never asked for', async () => {
    // Two canaries on one port: 127.0.0.2 stands in for a public address (the one exemption
    // in this test), 127.0.0.1 is the internal target. The resolver answers the permitted
    // address first and the internal one on every later call; a fetcher that checked one
    // lookup and connected with another would reach 127.0.0.1.
    const internal = new Canary();
    const Q = await internal.listen('127.0.0.1');
    cleanups.push(() => internal.close());
    const permitted = new Canary();
    await permitted.listen('127.0.0.2', Q);
    cleanups.push(() => permitted.close());

    let calls = 0;
    const resolver: Resolver = () => {
      calls++;
      return Promise.resolve([{ address: calls === 1 ? '127.0.0.2' : '127.0.0.1', family: 4 }]);
    };
    const f = fetcher({ resolver, allowedPorts: [Q], allowCidrs: ['127.0.0.2/32'] });
    const { result, connections } = await watched(() => fetchClientMetadata(f, `https://rebind.test:${Q}/x`), internal);
    expect(connections).toBe(0);
    expect(permitted.connections).toBe(1);
    expect(calls).toBe(1);
    // The permitted canary is not a TLS server.
    expect(result.outcome).toBe('transient');
  });
});

describe('SSRF: ports and schemes (SPEC-NOTES 5)', () => {
  it('SPEC-NOTES 5: port P+1 when only P is allowed is fetch.port_not_allowed', async () => {
    const { result, connections } = await watched(() =>
      fetchClientMetadata(attacker, `https://loopback.test:${P + 1}/x`),
    );
    expect(result.outcome).toBe('blocked');
    expect(codes(result)).toEqual(['fetch.port_not_allowed']);
    expect(messages(result)).toContain(`port ${P + 1} is not allowed`);
    expect(connections).toBe(0);
  });

  it('SPEC-NOTES 5: a disallowed port is refused even where the address is exempt (canary on that port sees nothing)', async () => {
    const other = new Canary();
    const Q = await other.listen('::');
    cleanups.push(() => other.close());
    const f = fetcher({ allowCidrs: ['127.0.0.0/8'], resolve: parseResolveMap(`canary.test:${Q}:127.0.0.1`) });
    const { result, connections } = await watched(() => fetchClientMetadata(f, `https://canary.test:${Q}/x`), other);
    expect(result.outcome).toBe('blocked');
    expect(codes(result)).toEqual(['fetch.port_not_allowed']);
    expect(connections).toBe(0);
  });

  it('SPEC-NOTES 5: an http:// client_id is refused as client_id.not_https before any fetch', async () => {
    const { result, connections } = await watched(() => fetchClientMetadata(attacker, at('http://127.0.0.1:{P}/x')));
    expect(result.outcome).toBe('blocked');
    expect(codes(result)).toEqual(['client_id.not_https']);
    expect(connections).toBe(0);
  });

  it('SPEC-NOTES 5: SafeFetcher.get refuses http:// itself, even to an exempt address', async () => {
    const f = fetcher({ allowCidrs: ['127.0.0.0/8'], resolve: parseResolveMap(at('canary.test:{P}:127.0.0.1')) });
    const { result, connections } = await watched(() => f.get(at('http://canary.test:{P}/x'), { accept: '*/*' }));
    expect(result).toMatchObject({ kind: 'failure', outcome: 'blocked', code: 'fetch.blocked_address' });
    expect(connections).toBe(0);
  });
});

describe('SSRF: redirects to internal addresses are not followed (SPEC-NOTES 4, 5)', () => {
  let origin: TestOrigin;
  let O: number;
  let viaOrigin: SafeFetcher;

  beforeAll(async () => {
    origin = new TestOrigin(await pki.issue(['origin.test']));
    O = await origin.listen('127.0.0.1');
    cleanups.push(() => origin.close());
    const redirect = (status: number, location: () => string) => () =>
      origin.route(`/r${status}`, (_req, res) => {
        res.writeHead(status, { location: location(), 'content-type': 'text/plain' }).end('moved');
      });
    redirect(302, () => at('https://127.0.0.2:{P}/x'))();
    redirect(307, () => at('https://[::1]:{P}/'))();
    // The origin's own address is the exempt one, and P is allowed: only the no-redirect
    // rule stands between this redirect and the canary.
    redirect(301, () => at('https://127.0.0.1:{P}/x'))();
    redirect(308, () => at('https://origin.test:{P}/x'))();
    origin.route('/client.json', (_req, res) => {
      const clientId = `https://origin.test:${O}/client.json`;
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          client_id: clientId,
          client_name: 'Test',
          redirect_uris: ['https://client.test/cb'],
          token_endpoint_auth_method: 'none',
        }),
      );
    });
    viaOrigin = fetcher({
      allowedPorts: [O, P],
      allowCidrs: ['127.0.0.1/32'],
      resolve: parseResolveMap(`origin.test:${O}:127.0.0.1;origin.test:${P}:127.0.0.1`),
    });
    expect(O).not.toBe(P);
  });

  it('control: the origin serves a valid document through this fetcher', async () => {
    const result = await fetchClientMetadata(viaOrigin, `https://origin.test:${O}/client.json`);
    expect(result.outcome).toBe('ok');
  });

  it.each([
    { status: 302, location: 'https://127.0.0.2:{P}/x' },
    { status: 307, location: 'https://[::1]:{P}/' },
    { status: 301, location: 'https://127.0.0.1:{P}/x' },
    { status: 308, location: 'https://origin.test:{P}/x' },
  ])(
    'SPEC-NOTES 5: $status to $location is outcome redirect, no connection to the target',
    async ({ status, location }) => {
      const { result, connections } = await watched(() =>
        fetchClientMetadata(viaOrigin, `https://origin.test:${O}/r${status}`),
      );
      expect(result).toMatchObject({ outcome: 'redirect', status, location: at(location) });
      expect(codes(result)).toEqual(['fetch.redirect']);
      expect(messages(result)).toContain(at(location));
      expect(origin.hits(`/r${status}`)).toBe(1);
      expect(connections).toBe(0);
    },
  );
});

describe('SSRF: logo fetches (SPEC-NOTES 5, 21)', () => {
  it.each([
    { url: 'https://169.254.169.254:{P}/logo.png', reason: '169.254.0.0/16' },
    { url: 'https://127.0.0.1:{P}/logo.png', reason: '127.0.0.0/8' },
    { url: 'https://0x7f000001:{P}/logo.png', reason: '127.0.0.0/8' },
    { url: 'https://[::ffff:127.0.0.1]:{P}/logo.png', reason: '::ffff:0:0/96' },
    { url: 'https://[::1]:{P}/logo.png', reason: '::1/128' },
    { url: 'https://metadata.test:{P}/logo.png', reason: '169.254.0.0/16' },
    { url: 'https://loopback.test:{P}/logo.png', reason: '127.0.0.0/8' },
    { url: 'http://127.0.0.1:{P}/logo.png', reason: 'only https' },
  ])('SPEC-NOTES 5: fetchLogo($url) is refused, no connection', async ({ url, reason }) => {
    const { result, connections } = await watched(() => fetchLogo(attacker, at(url)));
    expect(result).toEqual({ ok: false, reason: expect.stringContaining(reason), transient: false });
    expect(connections).toBe(0);
  });
});

describe('positive controls: the canary does see connections the fetcher may make', () => {
  it('with allowCidrs 127.0.0.0/8, https://canary.test:P/x mapped to 127.0.0.1 reaches the canary', async () => {
    const f = fetcher({ allowCidrs: ['127.0.0.0/8'], resolve: parseResolveMap(at('canary.test:{P}:127.0.0.1')) });
    const { result, connections } = await watched(() => fetchClientMetadata(f, at('https://canary.test:{P}/x')));
    expect(connections).toBe(1);
    // The canary is not a TLS server: it accepts and closes.
    expect(result.outcome).toBe('transient');
  });

  it('with allowCidrs ::1/128, https://[::1]:P/x reaches the canary', async () => {
    const f = fetcher({ allowCidrs: ['::1/128'] });
    const { result, connections } = await watched(() => f.get(at('https://[::1]:{P}/x'), { accept: '*/*' }));
    expect(connections).toBe(1);
    expect(result).toMatchObject({ kind: 'failure', outcome: 'transient' });
  });

  const reachable = LOCAL.filter(
    (l) => !l.address.startsWith('fe80:') && !l.address.startsWith('127.') && l.address !== '::1',
  );
  if (reachable.length > 0) {
    it.each(reachable)("this machine's own $address, exempted, reaches the canary", async ({ host, address }) => {
      const f = fetcher({
        allowCidrs: [`${address}/${address.includes(':') ? 128 : 32}`],
        resolve: new Map([[`${host}:${P}`, [address]]]),
      });
      const { result, connections } = await watched(() => f.get(at(`https://${host}:{P}/x`), { accept: '*/*' }));
      expect(connections).toBe(1);
      expect(result).toMatchObject({ kind: 'failure', outcome: 'transient' });
    });
  }
});
