import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseRedisEnv } from '@cimd/runtime';
import { schemaProblems, strictFieldProblems } from './support/k8s-schema';
import {
  containers,
  kustomize,
  Manifest,
  named,
  ofKind,
  Overlay,
  OVERLAYS,
  podTemplate,
  renderOverlay,
  ROOT,
  selects,
  workloadByComponent,
  workloads,
} from './support/manifests';

/**
 * The Kubernetes manifests, rendered by the real Kustomize (`kubectl kustomize`) for each
 * overlay and read back: schema validity and the security properties docs/OPERATIONS.md promises.
 */

type Container = any;

/** The ConfigMap and Secret data a container's environment comes from, as far as the overlay renders them. */
function environment(manifests: Manifest[], container: Container): { env: Record<string, string>; sources: string[] } {
  const env: Record<string, string> = {};
  const sources: string[] = [];
  for (const from of container.envFrom ?? []) {
    const ref = from.configMapRef ?? from.secretRef;
    const kind = from.configMapRef ? 'ConfigMap' : 'Secret';
    sources.push(`${kind}/${ref.name}`);
    const found = manifests.find((m) => m.kind === kind && m.metadata.name === ref.name);
    Object.assign(env, found ? decoded(found) : {});
  }
  for (const e of container.env ?? []) {
    if (e.value !== undefined) env[e.name] = String(e.value);
    const ref = e.valueFrom?.configMapKeyRef ?? e.valueFrom?.secretKeyRef;
    if (ref) {
      const kind = e.valueFrom.configMapKeyRef ? 'ConfigMap' : 'Secret';
      sources.push(`${kind}/${ref.name}`);
      const found = manifests.find((m) => m.kind === kind && m.metadata.name === ref.name);
      if (found) env[e.name] = decoded(found)[ref.key] ?? '';
    }
  }
  return { env, sources };
}

function decoded(m: Manifest): Record<string, string> {
  const data: Record<string, string> = { ...(m.data ?? {}) };
  if (m.kind === 'Secret') {
    for (const [k, v] of Object.entries(data)) data[k] = Buffer.from(v.replace(/\s+/g, ''), 'base64').toString('utf8');
    Object.assign(data, m.stringData ?? {});
  }
  return data;
}

/** Secret names a pod can read: env, envFrom and volumes. */
function secretNames(workload: Manifest): string[] {
  const spec = podTemplate(workload).spec;
  const names = new Set<string>();
  for (const c of containers(workload)) {
    for (const from of c.envFrom ?? []) if (from.secretRef) names.add(from.secretRef.name);
    for (const e of c.env ?? []) if (e.valueFrom?.secretKeyRef) names.add(e.valueFrom.secretKeyRef.name);
  }
  for (const v of spec.volumes ?? []) {
    if (v.secret) names.add(v.secret.secretName);
    for (const s of v.projected?.sources ?? []) if (s.secret) names.add(s.secret.name);
  }
  return [...names];
}

const POSTGRES_VARIABLE = /^(DATABASE_URL|PG[A-Z_]*|POSTGRES[A-Z_]*)$/;
const POSTGRES_URL = /postgres(ql)?:\/\//i;

describe.each(OVERLAYS)('k8s/overlays/%s', (overlay: Overlay) => {
  let manifests: Manifest[];
  beforeAll(() => {
    manifests = renderOverlay(overlay);
  });

  it('renders with Kustomize, and every manifest validates against the Kubernetes (and Prometheus Operator) schemas', () => {
    expect(manifests.length).toBeGreaterThan(10);
    expect(manifests.flatMap(schemaProblems)).toEqual([]);
    // One namespace for everything but the Namespace itself.
    const namespaces = new Set(manifests.filter((m) => m.kind !== 'Namespace').map((m) => m.metadata.namespace));
    expect([...namespaces]).toEqual(['cimd']);
  });

  it('every pod runs as non-root, read-only root filesystem, no privilege escalation, all capabilities dropped, seccomp RuntimeDefault', () => {
    const problems: string[] = [];
    for (const w of workloads(manifests)) {
      const pod = podTemplate(w).spec;
      const where = `${w.kind} ${w.metadata.name}`;
      if (pod.securityContext?.seccompProfile?.type !== 'RuntimeDefault') problems.push(`${where}: seccomp`);
      if (pod.hostNetwork || pod.hostPID || pod.hostIPC) problems.push(`${where}: host namespaces`);
      for (const c of containers(w)) {
        const sc = { ...pod.securityContext, ...c.securityContext };
        const at = `${where} container ${c.name}`;
        if (sc.runAsNonRoot !== true) problems.push(`${at}: runAsNonRoot`);
        if (sc.runAsUser === undefined || sc.runAsUser === 0) problems.push(`${at}: runAsUser must be a non-zero uid`);
        if (c.securityContext?.readOnlyRootFilesystem !== true) problems.push(`${at}: readOnlyRootFilesystem`);
        if (c.securityContext?.allowPrivilegeEscalation !== false) problems.push(`${at}: allowPrivilegeEscalation`);
        if (c.securityContext?.privileged) problems.push(`${at}: privileged`);
        if (!(c.securityContext?.capabilities?.drop ?? []).includes('ALL'))
          problems.push(`${at}: capabilities.drop ALL`);
        if ((c.securityContext?.capabilities?.add ?? []).length > 0) problems.push(`${at}: capabilities.add`);
      }
    }
    expect(problems).toEqual([]);
    expect(workloads(manifests).length).toBeGreaterThanOrEqual(3);
  });

  it('every container has CPU and memory requests and limits, and an image with an explicit tag', () => {
    const problems: string[] = [];
    for (const w of workloads(manifests)) {
      for (const c of containers(w)) {
        const at = `${w.kind} ${w.metadata.name} container ${c.name}`;
        for (const kind of ['requests', 'limits'])
          for (const r of ['cpu', 'memory'])
            if (!c.resources?.[kind]?.[r]) problems.push(`${at}: resources.${kind}.${r}`);
        if (!/^[^@]+:[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(c.image) || /:latest$/.test(c.image))
          problems.push(`${at}: image ${c.image} needs an explicit tag`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('no pod mounts a service account token: nothing here calls the Kubernetes API', () => {
    for (const w of workloads(manifests)) {
      const pod = podTemplate(w).spec;
      const account = manifests.find(
        (m) => m.kind === 'ServiceAccount' && m.metadata.name === (pod.serviceAccountName ?? 'default'),
      );
      expect({ [w.metadata.name]: pod.automountServiceAccountToken }).toEqual({ [w.metadata.name]: false });
      expect(account?.automountServiceAccountToken).toBe(false);
    }
    expect(
      ofKind(manifests, 'Role').concat(ofKind(manifests, 'RoleBinding'), ofKind(manifests, 'ClusterRole')),
    ).toEqual([]);
  });

  it('the gateway and the fetcher probe /healthz (liveness) and /readyz (readiness) on the ports they listen on', () => {
    const expected = { gateway: { variable: 'PORT', port: 3000 }, fetcher: { variable: 'FETCHER_PORT', port: 3001 } };
    for (const [component, { variable, port }] of Object.entries(expected)) {
      const w = workloadByComponent(manifests, component);
      const [c] = containers(w);
      const { env } = environment(manifests, c);
      expect(env[variable]).toBe(String(port));
      const portNumber = (p: number | string) =>
        typeof p === 'number' ? p : c.ports.find((cp: { name: string }) => cp.name === p)?.containerPort;
      expect(c.livenessProbe.httpGet.path).toBe('/healthz');
      expect(portNumber(c.livenessProbe.httpGet.port)).toBe(port);
      expect(c.readinessProbe.httpGet.path).toBe('/readyz');
      expect(portNumber(c.readinessProbe.httpGet.port)).toBe(port);
      expect(c.args).toEqual([component]);
    }
    const gateway = containers(workloadByComponent(manifests, 'gateway'))[0];
    const { env } = environment(manifests, gateway);
    expect(gateway.ports.find((p: { name: string }) => p.name === 'grpc').containerPort).toBe(Number(env.GRPC_PORT));
  });

  it('the gateway has HTTP and gRPC Services, an HPA on CPU and a PDB; the fetcher its own replicas, a PDB and a metrics-only Service', () => {
    const labels = (component: string) => podTemplate(workloadByComponent(manifests, component)).metadata.labels;
    const servicesOf = (component: string) =>
      ofKind(manifests, 'Service').filter((s) => selects({ matchLabels: s.spec.selector }, labels(component)));
    const gatewayPorts = servicesOf('gateway').flatMap((s) =>
      s.spec.ports.map((p: any) => `${s.metadata.name}:${p.port}/${p.targetPort}`),
    );
    expect(gatewayPorts.sort()).toEqual(['cimd-gateway-grpc:50051/grpc', 'cimd-gateway:3000/http']);
    const fetcherServices = servicesOf('fetcher');

    expect(fetcherServices.map((s) => [s.spec.clusterIP, s.spec.ports.map((p: any) => p.targetPort)])).toEqual([
      ['None', ['metrics']],
    ]);

    const hpa = ofKind(manifests, 'HorizontalPodAutoscaler');
    expect(hpa.map((h) => h.spec.scaleTargetRef.name)).toEqual(['cimd-gateway']);
    expect(hpa[0]?.spec.metrics).toEqual([
      { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } },
    ]);
    expect(hpa[0]?.spec.minReplicas).toBeGreaterThanOrEqual(1);
    // The HPA owns the gateway's replica count; the fetcher has its own.
    expect(workloadByComponent(manifests, 'gateway').spec.replicas).toBeUndefined();
    expect(workloadByComponent(manifests, 'fetcher').spec.replicas).toBeGreaterThanOrEqual(1);
    for (const component of ['gateway', 'fetcher']) {
      const pdbs = ofKind(manifests, 'PodDisruptionBudget').filter((p) => selects(p.spec.selector, labels(component)));
      expect(pdbs.length).toBe(1);
    }
  });

  it('ServiceMonitors scrape /metrics of the gateway and of the fetcher', () => {
    const monitors = ofKind(manifests, 'ServiceMonitor');
    const scraped = monitors.flatMap((m) =>
      ofKind(manifests, 'Service')
        .filter((s) => selects(m.spec.selector, s.metadata.labels ?? {}))
        .flatMap((s) =>
          m.spec.endpoints.map((e: any) => {
            const port = s.spec.ports.find((p: any) => p.name === e.port);
            return port ? `${s.metadata.name}:${port.port}${e.path}` : `${s.metadata.name}: no port ${e.port}`;
          }),
        ),
    );
    expect(scraped.sort()).toEqual(['cimd-fetcher-metrics:3001/metrics', 'cimd-gateway:3000/metrics']);
  });

  it('the fetcher gets no PostgreSQL credentials (nor any Secret the gateway or the migrations read them from)', () => {
    const fetcher = workloadByComponent(manifests, 'fetcher');
    for (const c of containers(fetcher)) {
      const { env, sources } = environment(manifests, c);
      expect(Object.keys(env).filter((k) => POSTGRES_VARIABLE.test(k))).toEqual([]);
      expect(Object.values(env).filter((v) => POSTGRES_URL.test(v))).toEqual([]);
      expect(sources.length).toBeGreaterThan(0);
    }
    // Every Secret that carries DATABASE_URL to another workload is out of the fetcher's reach.
    const postgresSecrets = workloads(manifests)
      .filter((w) => w !== fetcher)
      .flatMap((w) =>
        containers(w).flatMap((c: Container) => [
          ...(c.env ?? [])
            .filter((e: Container) => POSTGRES_VARIABLE.test(e.name) && e.valueFrom?.secretKeyRef)
            .map((e: Container) => e.valueFrom.secretKeyRef.name as string),
          ...(c.envFrom ?? [])
            .filter((f: Container) => f.secretRef)
            .map((f: Container) => f.secretRef.name as string)
            .filter((name: string) => {
              const secret = manifests.find((m) => m.kind === 'Secret' && m.metadata.name === name);
              // Not rendered (prod: from the secret store): the gateway's, which holds DATABASE_URL.
              return !secret || Object.keys(decoded(secret)).some((k) => POSTGRES_VARIABLE.test(k));
            }),
        ]),
      );
    expect(postgresSecrets.length).toBeGreaterThan(0);
    const reachable = secretNames(fetcher);
    expect(reachable.filter((n) => postgresSecrets.includes(n))).toEqual([]);
    for (const name of reachable) {
      const secret = manifests.find((m) => m.kind === 'Secret' && m.metadata.name === name);
      if (!secret) continue;
      const data = decoded(secret);
      expect(Object.keys(data).filter((k) => POSTGRES_VARIABLE.test(k))).toEqual([]);
      expect(Object.values(data).filter((v) => POSTGRES_URL.test(v))).toEqual([]);
    }
  });

  it('configuration comes from ConfigMaps and credentials from Secrets; every variable set is one docs/OPERATIONS.md documents', () => {
    const operations = readFileSync(join(ROOT, 'docs', 'OPERATIONS.md'), 'utf8');
    const secretish = /TOKEN|PASSWORD|_URL$|SECRET/;
    const problems: string[] = [];
    for (const cm of ofKind(manifests, 'ConfigMap')) {
      if (cm.metadata.name.startsWith('redis-acl')) continue;
      for (const [k, v] of Object.entries(decoded(cm))) {
        if (secretish.test(k) && k !== 'CIMD_PUBLIC_URL')
          problems.push(`ConfigMap ${cm.metadata.name}: ${k} is a credential`);
        if (/:\/\/[^/]*:[^/]*@/.test(v)) problems.push(`ConfigMap ${cm.metadata.name}: ${k} holds a password`);
      }
    }
    for (const w of workloads(manifests).filter(
      (w) => podTemplate(w).metadata.labels['app.kubernetes.io/name'] === 'cimd-gateway',
    )) {
      for (const c of containers(w)) {
        for (const e of c.env ?? [])
          if (secretish.test(e.name) && e.value !== undefined) problems.push(`${w.metadata.name}: ${e.name} inline`);
        for (const k of Object.keys(environment(manifests, c).env))
          if (!operations.includes(`\`${k}\``))
            problems.push(`${w.metadata.name}: ${k} is not in the configuration tables of docs/OPERATIONS.md`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('NODE_ENV is production for the apps (the fetcher then refuses its test overrides)', () => {
    for (const component of ['gateway', 'fetcher', 'migrate']) {
      const [c] = containers(workloadByComponent(manifests, component));
      expect(environment(manifests, c).env.NODE_ENV).toBe('production');
    }
    const configMaps = ofKind(manifests, 'ConfigMap').flatMap((cm) => Object.keys(cm.data ?? {}));
    for (const override of ['CIMD_FETCH_RESOLVE', 'CIMD_FETCH_CA_FILE', 'CIMD_FETCH_ALLOW_CIDRS'])
      expect(configMaps).not.toContain(override);
  });
});

describe('docs/OPERATIONS.md, "Deployment"', () => {
  it('states the replica counts and the autoscaling the overlays render', () => {
    const operations = readFileSync(join(ROOT, 'docs', 'OPERATIONS.md'), 'utf8');
    const start = operations.indexOf('\n## Deployment\n');
    expect(start).toBeGreaterThanOrEqual(0);
    const end = operations.indexOf('\n## ', start + 1);
    // Whitespace-insensitive: the document is reflowed freely.
    const section = operations.slice(start, end < 0 ? undefined : end).replace(/\s+/g, ' ');
    const base = kustomize('k8s/base');
    const prod = renderOverlay('prod');
    const hpa = (m: Manifest[]) => ofKind(m, 'HorizontalPodAutoscaler')[0]?.spec;
    const fetcherReplicas = (m: Manifest[]) => workloadByComponent(m, 'fetcher').spec.replicas as number;
    expect(section).toContain(
      `on CPU (${hpa(base).metrics[0].resource.target.averageUtilization} %, ${hpa(base).minReplicas}-${hpa(base).maxReplicas} replicas in the base, ${hpa(prod).minReplicas}-${hpa(prod).maxReplicas} in prod)`,
    );
    expect(section).toContain(`(${fetcherReplicas(base)} in the base, ${fetcherReplicas(prod)} in prod)`);
    const grace = workloadByComponent(prod, 'gateway').spec.template.spec.terminationGracePeriodSeconds as number;
    expect(section).toContain(`within the ${grace} s grace period`);
  });
});

describe('k8s/overlays/dev in-cluster Redis', () => {
  it('loads the ACL template with the same key prefix the apps use', () => {
    const manifests = renderOverlay('dev');
    const redis = named(manifests, 'Deployment', 'redis');
    const [c] = containers(redis);
    const prefixRef = c.env.find((e: Container) => e.name === 'CIMD_REDIS_PREFIX').valueFrom.configMapKeyRef;
    const fetcher = containers(workloadByComponent(manifests, 'fetcher'))[0];
    const fetcherConfigMaps = fetcher.envFrom
      .filter((f: Container) => f.configMapRef)
      .map((f: Container) => f.configMapRef.name);
    expect(fetcherConfigMaps).toContain(prefixRef.name);
    expect(c.command).toEqual(['/bin/sh', '/etc/redis-acl/start-redis.sh']);
    const acl = named(
      manifests,
      'ConfigMap',
      redis.spec.template.spec.volumes.find((v: Container) => v.configMap).configMap.name,
    );
    expect(acl.data['users.acl.template']).toBe(
      readFileSync(join(ROOT, 'k8s/dependencies/redis/users.acl.template'), 'utf8'),
    );
    // The fetcher connects as the restricted ACL user.
    expect(environment(manifests, fetcher).env.REDIS_URL).toMatch(/^redis:\/\/cimd-fetcher:[^@]+@redis:6379$/);
  });
});

describe.each([
  ['redis-cluster', { mode: 'cluster' }],
  ['redis-sentinel', { mode: 'sentinel', master: 'mymaster' }],
] as const)('k8s/overlays/%s', (overlay, expected) => {
  it('gives the gateway and the fetcher one Redis topology (no REDIS_URL), which both parse at start-up', () => {
    const manifests = renderOverlay(overlay);
    for (const component of ['gateway', 'fetcher']) {
      const [c] = containers(workloadByComponent(manifests, component));
      const { env } = environment(manifests, c);
      expect(env.REDIS_URL).toBeUndefined();
      // The credentials come from the Secrets (the secret store's), as the overlay says: no REDIS_URL there either.
      const redis = parseRedisEnv({
        ...env,
        REDIS_USERNAME: `cimd-${component}`,
        REDIS_PASSWORD: 'from-the-secret-store',
      });
      expect(redis).toMatchObject(expected);
      expect(redis.mode === 'single' ? [] : redis.mode === 'cluster' ? redis.nodes : redis.sentinels).toHaveLength(3);
    }
    // Both apps read the topology from the one ConfigMap they share.
    const common = named(
      manifests,
      'ConfigMap',
      workloadByComponent(manifests, 'gateway').spec.template.spec.containers[0].envFrom[0].configMapRef.name,
    );
    expect(
      Object.keys(decoded(common))
        .filter((k) => k.startsWith('REDIS_'))
        .sort(),
    ).toEqual(overlay === 'redis-cluster' ? ['REDIS_CLUSTER_NODES'] : ['REDIS_SENTINELS', 'REDIS_SENTINEL_MASTER']);
  });
});

describe('k8s manifests, strictly', () => {
  it('have no unknown or mistyped fields (checked against the kubernetes-models TypeScript types)', () => {
    const all = OVERLAYS.flatMap((o) => renderOverlay(o)).filter(
      (m, i, list) => list.findIndex((x) => JSON.stringify(x) === JSON.stringify(m)) === i,
    );
    expect(strictFieldProblems(all)).toEqual([]);
  });

  it('catch a misspelt field and a wrong type (the checks are not vacuous)', () => {
    const manifests = structuredClone(renderOverlay('prod'));
    const deployment = workloadByComponent(manifests, 'fetcher');
    deployment.spec.template.spec.containers[0].securityContex = { runAsNonRoot: true };
    expect(strictFieldProblems([deployment]).join('\n')).toMatch(/securityContex/);
    deployment.spec.template.spec.containers[0].resources.limits.memory = 'lots';
    expect(schemaProblems(deployment).join('\n')).toMatch(/quantity/);
  });
});
