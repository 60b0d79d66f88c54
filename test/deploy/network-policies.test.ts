import { IPV6_GLOBAL_UNICAST, SPECIAL_USE_RANGES } from '@cimd/core';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  cidrContains,
  cidrsOverlap,
  kustomize,
  Manifest,
  ofKind,
  Overlay,
  OVERLAYS,
  parseCidr,
  parseYamlDocuments,
  podTemplate,
  renderOverlay,
  ROOT,
  Rule,
  rulesFor,
  selects,
  workloadByComponent,
} from './support/manifests';

/**
 * What each NetworkPolicy allows, checked on the rendered overlays by what applies to each
 * pod (policies add up), and the fetcher's internet egress against SPECIAL_USE_RANGES: the one
 * list the safe fetcher blocks.
 */

const GENERATED = 'k8s/base/fetcher-internet.generated.yaml';

type Peer = any;

function labelsOf(manifests: Manifest[], component: string): Record<string, string> {
  return podTemplate(workloadByComponent(manifests, component)).metadata.labels;
}

function ports(rule: Rule): string[] {
  return (rule.ports ?? []).map((p) => `${p.protocol ?? 'TCP'}/${p.port ?? '*'}${p.endPort ? `-${p.endPort}` : ''}`);
}

const isDns = (rule: Rule) =>
  ports(rule).sort().join() === 'TCP/53,UDP/53' &&
  (rule.peers ?? []).every(
    (p: Peer) =>
      p.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name'] === 'kube-system' &&
      p.podSelector?.matchLabels?.['k8s-app'] === 'kube-dns',
  );

/** An address range no public server is in (private, loopback, ...): inside a special-use range. */
const isPrivate = (cidr: string) => SPECIAL_USE_RANGES.some((r) => cidrContains(r.cidr, cidr));

/** The peer is in the cluster (a pod or namespace selector) or at a private address. */
const isInternal = (peer: Peer) =>
  peer.ipBlock === undefined
    ? peer.podSelector !== undefined || peer.namespaceSelector !== undefined
    : isPrivate(peer.ipBlock.cidr);

/** Redis's ports: the servers on 6379, and Sentinel on 26379 where the overlay uses it. */
const isRedisPorts = (rule: Rule) => ['TCP/6379', 'TCP/6379,TCP/26379'].includes(ports(rule).join());

/** What the fetcher may reach beyond DNS, Redis (6379, and 26379 for Sentinel) and public addresses on TCP 443. */
function fetcherEgressProblems(manifests: Manifest[]): string[] {
  const problems: string[] = [];
  let internet = 0;
  for (const rule of rulesFor(manifests, labelsOf(manifests, 'fetcher'), 'Egress')) {
    // A rule without peers or ports allows every destination or every port.
    if (!rule.peers?.length || !rule.ports?.length) problems.push(`${rule.policy}: a rule without peers or ports`);
    else if (isDns(rule)) continue;
    else if (isRedisPorts(rule) && rule.peers.every(isInternal)) continue;
    else if (ports(rule).join() === 'TCP/443' && rule.peers.every((p: Peer) => p.ipBlock)) {
      internet++;
      for (const { ipBlock } of rule.peers) {
        for (const e of ipBlock.except ?? [])
          if (!cidrContains(ipBlock.cidr, e)) problems.push(`${rule.policy}: except ${e} is outside ${ipBlock.cidr}`);
        for (const range of SPECIAL_USE_RANGES) {
          const reachable =
            cidrsOverlap(ipBlock.cidr, range.cidr) &&
            !(ipBlock.except ?? []).some((e: string) => cidrContains(e, range.cidr));
          if (reachable) problems.push(`${rule.policy}: ${range.cidr} (${range.name}) is reachable on 443`);
        }
      }
    } else problems.push(`${rule.policy}: ${JSON.stringify(rule)}`);
  }
  if (internet !== 1) problems.push(`${internet} internet rules instead of 1`);
  return problems;
}

/** Gateway egress rules reaching anything but cluster peers or private addresses. */
function gatewayEgressProblems(manifests: Manifest[]): string[] {
  return rulesFor(manifests, labelsOf(manifests, 'gateway'), 'Egress')
    .filter((rule) => !rule.peers?.length || !rule.peers.every(isInternal))
    .map((rule) => `${rule.policy}: ${JSON.stringify(rule.peers ?? 'every destination')}`);
}

describe('the fetcher internet egress (one list: SPECIAL_USE_RANGES)', () => {
  it(`${GENERATED} is what npm run k8s:render makes of the list today`, () => {
    const out = execFileSync(process.execPath, [join(ROOT, 'scripts/render-k8s.js'), '--check'], { encoding: 'utf8' });
    expect(out).toContain('up to date');
  });

  it('excepts exactly the listed ranges inside 0.0.0.0/0 and 2000::/3, and every except lies strictly inside its cidr', () => {
    const [policy] = parseYamlDocuments(readFileSync(join(ROOT, GENERATED), 'utf8'), GENERATED);
    const blocks = (policy?.spec.egress[0].to as Peer[]).map((p) => p.ipBlock as { cidr: string; except: string[] });
    expect(blocks.map((b) => b.cidr)).toEqual(['0.0.0.0/0', IPV6_GLOBAL_UNICAST]);
    for (const block of blocks) {
      const inside = SPECIAL_USE_RANGES.filter((r) => cidrContains(block.cidr, r.cidr)).map((r) => r.cidr);
      expect(block.except).toEqual(inside);
      // Kubernetes refuses an except outside its cidr; an except equal to it would allow nothing.
      for (const e of block.except) {
        expect(cidrContains(block.cidr, e)).toBe(true);
        expect(parseCidr(e)[1]).toBeGreaterThan(parseCidr(block.cidr)[1]);
      }
    }
    // The NAT64 and 6to4 prefixes are excluded whole (an ipBlock cannot look inside them).
    for (const r of SPECIAL_USE_RANGES.filter((r) => r.embedsIPv4))
      expect(blocks.some((b) => b.except.includes(r.cidr)) || !blocks.some((b) => cidrsOverlap(b.cidr, r.cidr))).toBe(
        true,
      );
  });
});

describe('the fetcher internet egress and the cloud metadata addresses', () => {
  it.each([
    '169.254.169.254',
    '168.63.129.16',
    '100.100.100.200',
    '192.0.0.192',
    'fd00:ec2::254',
    '::ffff:169.254.169.254',
  ])('%s is not reachable', (address) => {
    const [policy] = parseYamlDocuments(readFileSync(join(ROOT, GENERATED), 'utf8'), GENERATED);
    const host = address.includes(':') ? `${address}/128` : `${address}/32`;
    const allowed = (policy?.spec.egress[0].to as Peer[]).some(
      ({ ipBlock }) =>
        cidrContains(ipBlock.cidr, host) && !(ipBlock.except as string[]).some((e) => cidrContains(e, host)),
    );
    expect(allowed).toBe(false);
  });
});

describe.each(OVERLAYS)('NetworkPolicies of k8s/overlays/%s', (overlay: Overlay) => {
  let manifests: Manifest[];
  beforeAll(() => {
    manifests = renderOverlay(overlay);
  });

  it('deny everything by default in the namespace', () => {
    const denyAll = ofKind(manifests, 'NetworkPolicy').filter(
      (p) =>
        Object.keys(p.spec.podSelector ?? {}).length === 0 &&
        [...(p.spec.policyTypes ?? [])].sort().join() === 'Egress,Ingress' &&
        !p.spec.ingress &&
        !p.spec.egress,
    );
    expect(denyAll.map((p) => p.metadata.name)).toEqual(['default-deny']);
  });

  it('fetcher egress: DNS, Redis on 6379 (and Sentinel on 26379), and TCP 443 to public addresses only, never a special-use range', () => {
    expect(fetcherEgressProblems(manifests)).toEqual([]);
  });

  it('fetcher ingress: Prometheus on the metrics port only', () => {
    const rules = rulesFor(manifests, labelsOf(manifests, 'fetcher'), 'Ingress');
    expect(rules.map((r) => [ports(r), r.peers])).toEqual([
      [['TCP/3001'], [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }]],
    ]);
  });

  it('gateway egress: DNS, Redis and PostgreSQL, no internet rule', () => {
    expect(gatewayEgressProblems(manifests)).toEqual([]);
    const rules = rulesFor(manifests, labelsOf(manifests, 'gateway'), 'Egress');
    const redis = overlay === 'redis-sentinel' ? ['TCP/6379', 'TCP/26379'] : ['TCP/6379'];
    expect(rules.map(ports).sort()).toEqual([['TCP/5432'], redis, ['UDP/53', 'TCP/53']].sort());
  });

  it('the egress checks catch an internet rule for the gateway and a hole in the fetcher excepts (not vacuous)', () => {
    const mutated = structuredClone(manifests);
    const policy = (name: string) => mutated.find((m) => m.kind === 'NetworkPolicy' && m.metadata.name === name);
    policy('cimd-postgres-egress')?.spec.egress.push({ to: [{ ipBlock: { cidr: '0.0.0.0/0' } }] });
    expect(gatewayEgressProblems(mutated)).toEqual([expect.stringContaining('0.0.0.0/0')]);
    const internet = policy('cimd-fetcher-internet')?.spec.egress[0].to[0].ipBlock;
    internet.except = internet.except.filter((e: string) => e !== '169.254.0.0/16');
    expect(fetcherEgressProblems(mutated)).toEqual([expect.stringContaining('169.254.0.0/16')]);
  });

  it('gateway ingress: the platform namespaces on HTTP and gRPC, Prometheus on HTTP', () => {
    const rules = rulesFor(manifests, labelsOf(manifests, 'gateway'), 'Ingress');
    expect(rules.map((r) => [ports(r), r.peers])).toEqual([
      [['TCP/3000', 'TCP/50051'], [{ namespaceSelector: { matchLabels: { 'cimd-gateway/client': 'true' } } }]],
      [['TCP/3000'], [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }]],
    ]);
  });

  it('migrations: DNS and PostgreSQL only, no ingress', () => {
    const labels = labelsOf(manifests, 'migrate');
    expect(rulesFor(manifests, labels, 'Egress').map(ports).sort()).toEqual(
      [['TCP/5432'], ['UDP/53', 'TCP/53']].sort(),
    );
    expect(rulesFor(manifests, labels, 'Ingress')).toEqual([]);
  });

  it('docs/OPERATIONS.md names every NetworkPolicy under "Deployment"', () => {
    const operations = readFileSync(join(ROOT, 'docs', 'OPERATIONS.md'), 'utf8');
    const start = operations.indexOf('\n## Deployment\n');
    expect(start).toBeGreaterThanOrEqual(0);
    const end = operations.indexOf('\n## ', start + 1);
    const section = operations.slice(start, end < 0 ? undefined : end);
    const missing = ofKind(manifests, 'NetworkPolicy')
      .map((p) => p.metadata.name)
      .filter((name) => !section.includes(`\`${name}\``));
    expect(missing).toEqual([]);
  });
});

describe('in-cluster Redis and PostgreSQL of the dev overlay', () => {
  it('answer only the components that need them: never the fetcher for PostgreSQL', () => {
    const manifests = renderOverlay('dev');
    const labelsOfDeployment = (name: string) =>
      podTemplate(manifests.find((m) => m.kind === 'Deployment' && m.metadata.name === name) as Manifest).metadata
        .labels;
    /** The components whose pods an in-namespace podSelector peer of `name`'s ingress selects. */
    const clients = (name: string) => {
      const rules = rulesFor(manifests, labelsOfDeployment(name), 'Ingress');
      for (const r of rules) for (const p of r.peers ?? []) expect(p.namespaceSelector ?? p.ipBlock).toBeUndefined();
      return ['gateway', 'fetcher', 'migrate'].filter((c) =>
        rules.some((r) => (r.peers ?? []).some((p: Peer) => selects(p.podSelector, labelsOf(manifests, c)))),
      );
    };
    expect(clients('redis')).toEqual(['gateway', 'fetcher']);
    expect(clients('postgresql')).toEqual(['gateway', 'migrate']);
    // The dependencies reach nothing themselves but DNS.
    for (const name of ['redis', 'postgresql'])
      expect(rulesFor(manifests, labelsOfDeployment(name), 'Egress').filter((r) => !isDns(r))).toEqual([]);
  });

  it('the base alone renders too (for a cluster with its own Redis and PostgreSQL)', () => {
    expect(ofKind(kustomize('k8s/base'), 'NetworkPolicy').length).toBeGreaterThanOrEqual(7);
  });
});
