import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import ipaddr from 'ipaddr.js';
import { parseAllDocuments } from 'yaml';

/** What the deploy tests read: the rendered manifests, as plain objects. */
export const ROOT = join(__dirname, '..', '..', '..');
export const OVERLAYS = ['dev', 'prod', 'redis-cluster', 'redis-sentinel'] as const;
export type Overlay = (typeof OVERLAYS)[number];

// Manifests are YAML of any shape; the tests navigate them with explicit checks.

export type Manifest = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; [k: string]: any };
  [k: string]: any;
};

const KUSTOMIZE_MISSING =
  'kubectl (with its built-in Kustomize v5) is needed to render k8s/: it is on this kind of machine; ' +
  '.ci/run checks for it (see .ci/run, "deployment tools")';

const rendered = new Map<string, Manifest[]>();

/** `kubectl kustomize <dir>`: the real Kustomize (v5, built into kubectl), offline. */
export function kustomize(dir: string): Manifest[] {
  const cached = rendered.get(dir);
  if (cached) return cached;
  let out: string;
  try {
    out = execFileSync('kubectl', ['kustomize', join(ROOT, dir)], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: string };
    if (err.code === 'ENOENT') throw new Error(KUSTOMIZE_MISSING);
    throw new Error(`kubectl kustomize ${dir} failed: ${err.stderr ?? err.message}`);
  }
  const manifests = parseYamlDocuments(out, dir);
  rendered.set(dir, manifests);
  return manifests;
}

export function renderOverlay(overlay: Overlay): Manifest[] {
  return kustomize(`k8s/overlays/${overlay}`);
}

export function parseYamlDocuments(text: string, source: string): Manifest[] {
  return parseAllDocuments(text).map((doc) => {
    if (doc.errors.length > 0) throw new Error(`${source}: ${doc.errors[0]?.message}`);
    return doc.toJS() as Manifest;
  });
}

export function ofKind(manifests: Manifest[], kind: string): Manifest[] {
  return manifests.filter((m) => m.kind === kind);
}

export function named(manifests: Manifest[], kind: string, name: string): Manifest {
  const found = manifests.find((m) => m.kind === kind && m.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name}`);
  return found;
}

/** Workloads and their pod templates (Deployments, StatefulSets, DaemonSets, Jobs). */
export function workloads(manifests: Manifest[]): Manifest[] {
  return manifests.filter((m) => ['Deployment', 'StatefulSet', 'DaemonSet', 'Job'].includes(m.kind));
}

export function podTemplate(workload: Manifest): { metadata: { labels: Record<string, string> }; spec: any } {
  return workload.spec.template;
}

export function containers(workload: Manifest): any[] {
  const spec = podTemplate(workload).spec;
  return [...(spec.initContainers ?? []), ...(spec.containers ?? [])];
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values?: string[] }[];
}

/** Kubernetes label selector semantics; an empty selector selects everything. */
export function selects(selector: LabelSelector | undefined, labels: Record<string, string>): boolean {
  if (!selector) return true;
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(labels, e.key);
    const value = labels[e.key];
    const ok =
      e.operator === 'In'
        ? has && (e.values ?? []).includes(value as string)
        : e.operator === 'NotIn'
          ? !has || !(e.values ?? []).includes(value as string)
          : e.operator === 'Exists'
            ? has
            : !has;
    if (!ok) return false;
  }
  return true;
}

export function workloadByComponent(manifests: Manifest[], component: string): Manifest {
  const found = workloads(manifests).filter(
    (w) =>
      podTemplate(w).metadata.labels['app.kubernetes.io/name'] === 'cimd-gateway' &&
      podTemplate(w).metadata.labels['app.kubernetes.io/component'] === component,
  );
  if (found.length !== 1) throw new Error(`expected one ${component} workload, found ${found.length}`);
  return found[0] as Manifest;
}

/** The NetworkPolicies that apply to a pod with these labels, for one direction. */
export function policiesFor(manifests: Manifest[], labels: Record<string, string>, type: 'Ingress' | 'Egress') {
  return ofKind(manifests, 'NetworkPolicy').filter(
    (p) => selects(p.spec.podSelector, labels) && policyTypes(p).includes(type),
  );
}

export function policyTypes(policy: Manifest): string[] {
  if (policy.spec.policyTypes) return policy.spec.policyTypes as string[];
  return policy.spec.egress ? ['Ingress', 'Egress'] : ['Ingress'];
}

export interface Rule {
  policy: string;

  peers: any[] | undefined;
  ports: { protocol?: string; port?: number | string; endPort?: number }[] | undefined;
}

/** Every rule allowing traffic to or from a pod with these labels (NetworkPolicies add up). */
export function rulesFor(manifests: Manifest[], labels: Record<string, string>, type: 'Ingress' | 'Egress'): Rule[] {
  return policiesFor(manifests, labels, type).flatMap((p) =>
    ((type === 'Ingress' ? p.spec.ingress : p.spec.egress) ?? []).map((r: any) => ({
      policy: p.metadata.name,
      peers: type === 'Ingress' ? r.from : r.to,
      ports: r.ports,
    })),
  );
}

type Cidr = [ipaddr.IPv4 | ipaddr.IPv6, number];

export function parseCidr(cidr: string): Cidr {
  return ipaddr.parseCIDR(cidr);
}

/** `inner` lies inside `outer`. */
export function cidrContains(outer: string, inner: string): boolean {
  const [o, ol] = parseCidr(outer);
  const [i, il] = parseCidr(inner);
  return o.kind() === i.kind() && il >= ol && i.match(o, ol);
}

export function cidrsOverlap(a: string, b: string): boolean {
  return cidrContains(a, b) || cidrContains(b, a);
}
