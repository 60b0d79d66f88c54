import type { ApiResponse, ProcessStack } from './stack';
import { sleep } from './servers';

/**
 * Steady load from the test itself, on loopback, bounded in time (it runs between start() and
 * stop()) and in count (`maxPerKind`): authorize checks of cached clients, session
 * registrations, and fetch jobs (admin refreshes of client_ids never fetched before, each
 * served by the origin under `/load/`), and when asked revocations of sessions it registered.
 * Every answer is kept with the phase it happened in, so a test can say what was answered
 * while a server was down and what was acknowledged before. With several gateways, each kind
 * goes to them in turn.
 */
export type LoadKind = 'check' | 'session' | 'refresh' | 'revoke';

export interface Sample {
  kind: LoadKind;
  phase: string;
  at: number;
  status: number;
  /** `decision` of a check, `error` of a refusal, or the network error (status 0). */
  what: string;
  ms: number;
}

export interface LoadOptions {
  tenant: string;
  /** Clients already cached and valid: every check of them should allow. */
  checkClients: string[];
  /** The client sessions are registered for. */
  sessionClient: string;
  /** A token for checks (the tenant's key, or the admin token when absent). */
  checkToken?: string;
  /** Pause between two requests of one kind (each kind is one sequential loop). */
  pauseMs?: number;
  maxPerKind?: number;
  /** Name prefix of session ids and of the refreshed paths, unique per test. */
  tag: string;
  /** What to send (default: checks, sessions and refreshes). */
  kinds?: LoadKind[];
  /** Gateways of the stack to spread requests over (default 1: the first). */
  gateways?: number;
}

/** A 5xx that is not the designed "retry shortly" answer (503 temporarily_unavailable). */
export function escaped5xx(r: { status: number; body?: unknown }): boolean {
  if (r.status < 500) return false;
  const error = (r.body as { error?: string } | undefined)?.error;
  return !(r.status === 503 && error === 'temporarily_unavailable');
}

export class SteadyLoad {
  readonly samples: Sample[] = [];
  /** Sessions the gateway acknowledged with 201, with the time of the answer. */
  readonly sessions: { id: string; at: number; phase: string }[] = [];
  /** Refreshes acknowledged with 202: client_ids that must be fetched afterwards. */
  readonly refreshes: { clientId: string; at: number; phase: string }[] = [];
  /** Revocations of registered sessions, with the answer: 204 must hold, 503 must have changed nothing. */
  readonly revocations: { id: string; status: number; phase: string }[] = [];
  /** Every 5xx that escaped, with its body. */
  readonly escaped: string[] = [];
  phase = 'before';
  private running = false;
  private loops: Promise<void>[] = [];
  private n = 0;

  constructor(
    private readonly stack: ProcessStack,
    private readonly options: LoadOptions,
  ) {}

  start(): this {
    this.running = true;
    this.loops = (this.options.kinds ?? (['check', 'session', 'refresh'] as const)).map((kind) => this.loop(kind));
    return this;
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  private async loop(kind: LoadKind): Promise<void> {
    const max = this.options.maxPerKind ?? 5000;
    for (let i = 0; this.running && i < max; i++) {
      const phase = this.phase;
      const r = await this.once(kind);
      if (!r) {
        // Nothing to send yet (no session left to revoke).
        await sleep(50);
        continue;
      }
      const body = r.body as { decision?: string; error?: string } | undefined;
      const what = kind === 'check' && r.status === 200 ? (body?.decision ?? '?') : (body?.error ?? '');
      this.samples.push({ kind, phase, at: Date.now(), status: r.status, what, ms: r.ms });
      if (escaped5xx(r)) this.escaped.push(`${kind} in ${phase}: ${r.status} ${JSON.stringify(r.body)}`);
      await sleep(r.status === 0 ? 100 : (this.options.pauseMs ?? 20));
    }
  }

  private async once(kind: LoadKind): Promise<ApiResponse | undefined> {
    const o = this.options;
    const n = this.n++;
    const gateway = n % (o.gateways ?? 1);
    if (kind === 'check') {
      const client = o.checkClients[n % o.checkClients.length] as string;
      return this.stack.check(o.tenant, client, o.checkToken, gateway);
    }
    if (kind === 'session') {
      const id = `${o.tag}-s${n}`;
      const r = await this.stack.api('POST', `/v1/tenants/${o.tenant}/sessions`, {
        body: { session_id: id, client_id: o.sessionClient, subject: 'load' },
        gateway,
      });
      if (r.status === 201) this.sessions.push({ id, at: Date.now(), phase: this.phase });
      return r;
    }
    if (kind === 'revoke') {
      // Every other registered session, oldest first, once.
      const asked = new Set(this.revocations.map((r) => r.id));
      const target = this.sessions.find((s, i) => i % 2 === 0 && !asked.has(s.id));
      if (!target) return undefined;
      const r = await this.stack.api('DELETE', `/v1/tenants/${o.tenant}/sessions/${target.id}`, { gateway });
      this.revocations.push({ id: target.id, status: r.status, phase: this.phase });
      return r;
    }
    const clientId = this.stack.clientId(`/load/${o.tag}-r${n}.json`);
    const r = await this.stack.api('POST', '/v1/clients/refresh', { body: { client_id: clientId }, gateway });
    if (r.status === 202) this.refreshes.push({ clientId, at: Date.now(), phase: this.phase });
    return r;
  }

  /** Counts of answers per kind, phase and `status what`: the report of a fault test. */
  table(): Record<string, Record<string, number>> {
    const t: Record<string, Record<string, number>> = {};
    for (const s of this.samples) {
      const row = (t[`${s.kind}@${s.phase}`] ??= {});
      const key = `${s.status}${s.what ? ` ${s.what}` : ''}`;
      row[key] = (row[key] ?? 0) + 1;
    }
    return t;
  }

  of(kind: LoadKind, phase?: string): Sample[] {
    return this.samples.filter((s) => s.kind === kind && (phase === undefined || s.phase === phase));
  }
}

/**
 * Sessions that must exist (PostgreSQL has them) and read as they were left (GET, on each
 * gateway in turn): active, or inactive when `revoked` says so. Returns the ones that do not.
 */
export async function verifySessions(
  stack: ProcessStack,
  tenant: string,
  sessions: { id: string; phase: string }[],
  options: { revoked?: ReadonlySet<string>; gateways?: number } = {},
): Promise<string[]> {
  const rows = await stack.query<{ session_id: string }>(
    'SELECT session_id FROM sessions WHERE tenant_id = $1 AND session_id = ANY($2)',
    [tenant, sessions.map((s) => s.id)],
  );
  const inDb = new Set(rows.map((r) => r.session_id));
  const lost: string[] = [];
  for (const [i, s] of sessions.entries()) {
    const r = await stack.api('GET', `/v1/tenants/${tenant}/sessions/${s.id}`, {
      gateway: i % (options.gateways ?? 1),
    });
    const active = !(options.revoked?.has(s.id) ?? false);
    if (r.status !== 200 || r.body?.active !== active || !inDb.has(s.id))
      lost.push(`${s.id} (${s.phase}${active ? '' : ', revoked'}): ${r.status} active=${r.body?.active}`);
  }
  return lost;
}

/** Client_ids whose fetch was acknowledged: each must get a valid cache entry within `waitMs`; returns the others. */
export async function verifyFetched(stack: ProcessStack, clientIds: string[], waitMs = 30_000): Promise<string[]> {
  const pending = new Set(clientIds);
  const deadline = Date.now() + waitMs;
  while (pending.size > 0) {
    const ids = [...pending];
    // One GET per key: on a cluster the entries lie in different slots.
    const entries = await Promise.all(ids.map((id) => stack.inspect.get(stack.keys.clientEntry(id)).catch(() => null)));
    ids.forEach((id, i) => {
      const raw = entries[i];
      if (raw && (JSON.parse(raw) as { status?: string }).status === 'valid') pending.delete(id);
    });
    if (pending.size === 0 || Date.now() > deadline) break;
    await sleep(250);
  }
  return [...pending];
}

/**
 * What the load acknowledged, checked after the fault: every 201 session (active, or inactive
 * if a revocation of it was answered 204), every 202 refresh. A revocation whose answer was
 * lost (status 0) is not counted: either outcome is right.
 */
export async function verifyAcknowledged(
  stack: ProcessStack,
  load: SteadyLoad,
  tenant: string,
  gateways = 1,
): Promise<{
  sessions: number;
  refreshes: number;
  revocations: number;
  lostSessions: string[];
  lostRefreshes: string[];
  lostRevocations: string[];
}> {
  const revoked = new Set(load.revocations.filter((r) => r.status === 204).map((r) => r.id));
  const unknown = new Set(load.revocations.filter((r) => r.status === 0).map((r) => r.id));
  const checked = load.sessions.filter((s) => !unknown.has(s.id) || revoked.has(s.id));
  const wrong = await verifySessions(stack, tenant, checked, { revoked, gateways });
  return {
    sessions: checked.length,
    refreshes: load.refreshes.length,
    revocations: revoked.size,
    lostSessions: wrong.filter((w) => !w.includes(', revoked)')),
    lostRevocations: wrong.filter((w) => w.includes(', revoked)')),
    lostRefreshes: await verifyFetched(
      stack,
      load.refreshes.map((r) => r.clientId),
    ),
  };
}
