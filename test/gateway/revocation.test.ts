import { parseCacheEntry } from '@cimd/core';
import { eventFields, parseEventFields, WEBHOOK_QUEUE } from '@cimd/contracts';
import { waitFor } from '@cimd/testing';
import { Queue } from 'bullmq';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { Client } from 'pg';
import { Webhook } from 'standardwebhooks';
import { documentFor, GatewayStack, startGatewayStack } from '../support/gateway-stack';

/**
 * The life of a client as its document comes and goes, end to end: the gateway, the fetcher
 * process, real Redis and PostgreSQL, a local HTTPS origin that also receives the webhooks.
 */
let stack: GatewayStack;
/** acme's secret is any string (its bytes are the key); beta's and gamma's are Standard Webhooks secrets. */
const SECRETS: Record<string, string> = {
  acme: 'webhook-secret-0123456789abcdef',
  beta: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  gamma: 'whsec_QmK4kRkV0zJ9bXbpnmY6rN8n3tDQxqyhEqfVbfP4e1o=',
};
const SECRET = SECRETS.acme as string;
const hooks: {
  tenant: string;
  body: string;
  headers: Record<string, string | string[] | undefined>;
  /** What the standardwebhooks library said when the delivery arrived (its timestamp is checked against then). */
  verified: true | string;
}[] = [];

function hook(tenant: string): { url: string; secret: string } {
  return { url: stack.clientId(`/hooks/${tenant}`), secret: SECRETS[tenant] ?? SECRET };
}

/** A receiver as a tenant would write one with the standardwebhooks package. */
function standardVerifier(tenant: string): Webhook {
  const secret = SECRETS[tenant] ?? SECRET;
  return secret.startsWith('whsec_')
    ? new Webhook(secret)
    : new Webhook(Buffer.from(secret, 'utf8'), { format: 'raw' });
}

function receive(tenant: string, answer: () => number = () => 204) {
  stack.origin.route(`/hooks/${tenant}`, (req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      let verified: true | string = true;
      try {
        standardVerifier(tenant).verify(body, req.headers as Record<string, string>);
      } catch (e) {
        verified = (e as Error).message;
      }
      hooks.push({ tenant, body, headers: req.headers, verified });
      res.writeHead(answer()).end();
    });
  });
}

function check(tenant: string, clientId: string, redirect = `https://${new URL(clientId).host}/callback`) {
  return stack.request('POST', `/v1/tenants/${tenant}/authorize/check`, {
    body: { client_id: clientId, redirect_uri: redirect, code_challenge_method: 'S256' },
  });
}

async function register(tenant: string, sessionId: string, clientId: string) {
  const r = await stack.request('POST', `/v1/tenants/${tenant}/sessions`, {
    body: { session_id: sessionId, client_id: clientId, subject: 'alice' },
  });
  expect(r.status).toBe(201);
  return r.body as { active: boolean };
}

async function session(tenant: string, sessionId: string) {
  const r = await stack.request('GET', `/v1/tenants/${tenant}/sessions/${sessionId}`);
  expect(r.status).toBe(200);
  return r.body as { active: boolean; reason?: string; revoked_at?: string };
}

async function events(tenant: string) {
  return (await stack.request('GET', `/v1/tenants/${tenant}/events?after=0&limit=1000`)).body.events as {
    id: string;
    type: string;
    client_id: string;
    data: Record<string, unknown>;
  }[];
}

/** Make the fetcher look at the client again now, as the scheduled revalidation would at refresh_at. */
async function dueNow(clientId: string): Promise<void> {
  const key = stack.keys.clientEntry(clientId);
  const entry = parseCacheEntry(await stack.redis.get(key));
  if (!entry) throw new Error(`no entry for ${clientId}`);
  await stack.redis.set(key, JSON.stringify({ ...entry, refresh_at: Date.now() - 1 }), 'KEEPTTL');
}

/** The deprecated X-CIMD-Signature, keyed with the secret string as given. */
function verifySignature(body: string, header: string, secret = SECRET): boolean {
  const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header);
  if (!m) return false;
  const expected = createHmac('sha256', secret).update(`${m[1]}.${body}`).digest();
  return timingSafeEqual(expected, Buffer.from(m[2] ?? '', 'hex'));
}

beforeAll(async () => {
  stack = await startGatewayStack('revocation', {
    resolve: { 'metadata.test': '169.254.169.254' },
    fetcherEnv: { CIMD_GONE_CONFIRM_DELAY_MS: '500' },
    gatewayEnv: { CIMD_REVALIDATE_INTERVAL_MS: '1000' },
  });
  for (const tenant of ['acme', 'beta']) receive(tenant);
  expect(
    (await stack.request('POST', '/v1/tenants', { body: { id: 'acme', policy: { webhook: hook('acme') } } })).status,
  ).toBe(201);
  const beta = { webhook: hook('beta'), on_change: { redirect_uris_removed: 'notify' } };
  expect((await stack.request('POST', '/v1/tenants', { body: { id: 'beta', policy: beta } })).status).toBe(201);
}, 60_000);

afterAll(async () => {
  await stack?.stop();
});

describe('a client whose document disappears', () => {
  let id: string;
  let other: string;

  beforeAll(async () => {
    id = stack.clientId('/vanishing.json');
    other = stack.clientId('/staying.json');
    stack.origin.json('/vanishing.json', documentFor(id), { 'cache-control': 'max-age=600' });
    stack.origin.json('/staying.json', documentFor(other), { 'cache-control': 'max-age=600' });
    expect((await check('acme', id)).body.decision).toBe('allow');
    expect((await check('beta', id)).body.decision).toBe('allow');
    expect((await check('acme', other)).body.decision).toBe('allow');
    await register('acme', 'acme-1', id);
    await register('acme', 'acme-2', id);
    await register('beta', 'beta-1', id);
    await register('acme', 'acme-other', other);
  });

  it('sessions are active, and registering one again is idempotent', async () => {
    expect(await session('acme', 'acme-1')).toMatchObject({ active: true, client_id: id });
    expect((await register('acme', 'acme-1', id)).active).toBe(true);
    const clash = await stack.request('POST', '/v1/tenants/acme/sessions', {
      body: { session_id: 'acme-1', client_id: other },
    });
    expect(clash.status).toBe(409);
  });

  it('after a 404 the client is only suspect: still allowed, sessions untouched, until the confirmation', async () => {
    stack.origin.route('/vanishing.json', (_req, res) => res.writeHead(404).end());
    await dueNow(id); // the scheduled revalidation (every second here) picks it up
    await waitFor(
      async () => parseCacheEntry(await stack.redis.get(stack.keys.clientEntry(id)))?.suspect,
      'the suspect mark',
    );
    expect((await check('acme', id)).body.decision).toBe('allow');
    expect((await session('acme', 'acme-1')).active).toBe(true);
  });

  it('once confirmed gone: new checks deny at once, and every session of it in both tenants ends', async () => {
    await waitFor(async () => (await check('acme', id)).body.reason === 'document.gone', 'the confirmed gone', 20_000);
    const denied = (await check('beta', id)).body;
    expect(denied).toMatchObject({ decision: 'deny', error: 'invalid_client', reason: 'document.gone' });
    expect(denied.error_description).toContain('disappeared');
    await waitFor(async () => !(await session('beta', 'beta-1')).active, 'the revocation');
    for (const [tenant, s] of [
      ['acme', 'acme-1'],
      ['acme', 'acme-2'],
      ['beta', 'beta-1'],
    ] as const) {
      expect(await session(tenant, s)).toMatchObject({ active: false, reason: 'client.gone' });
    }
    expect(await session('acme', 'acme-other')).toMatchObject({ active: true });
    // No new session for a client that is gone.
    expect(
      (await stack.request('POST', '/v1/tenants/acme/sessions', { body: { session_id: 'late', client_id: id } }))
        .status,
    ).toBe(409);
  });

  it('records why in PostgreSQL, with one bulk revocation per tenant', async () => {
    const db = new Client({ connectionString: stack.databaseUrl });
    await db.connect();
    try {
      const sessions = await db.query(
        'SELECT tenant_id, revoke_reason FROM sessions WHERE client_id = $1 ORDER BY session_id',
        [id],
      );
      expect(sessions.rows).toEqual([
        { tenant_id: 'acme', revoke_reason: 'client.gone' },
        { tenant_id: 'acme', revoke_reason: 'client.gone' },
        { tenant_id: 'beta', revoke_reason: 'client.gone' },
      ]);
      const revocations = await db.query(
        'SELECT tenant_id, sessions, reason FROM revocations WHERE client_id = $1 ORDER BY tenant_id',
        [id],
      );
      expect(revocations.rows).toEqual([
        { tenant_id: 'acme', sessions: 2, reason: 'client.gone' },
        { tenant_id: 'beta', sessions: 1, reason: 'client.gone' },
      ]);
    } finally {
      await db.end();
    }
  });

  it('each tenant gets a session.revoked event and a signed webhook', async () => {
    for (const [tenant, count] of [
      ['acme', 2],
      ['beta', 1],
    ] as const) {
      const revoked = (await events(tenant)).filter((e) => e.type === 'session.revoked' && e.client_id === id);
      expect(revoked).toHaveLength(1);
      expect(revoked[0]?.data).toMatchObject({ sessions: count, reason: 'client.gone' });
      const delivered = await waitFor(
        () => hooks.find((h) => h.tenant === tenant && (JSON.parse(h.body) as { id: string }).id === revoked[0]?.id),
        `the webhook to ${tenant}`,
      );
      // Standard Webhooks, verified by its reference library on arrival; webhook-id is the delivery id.
      expect(delivered.verified).toBe(true);
      expect(delivered.headers['webhook-id']).toBe(delivered.headers['x-cimd-delivery-id']);
      // The deprecated signature still comes along, keyed with the secret string as before.
      expect(verifySignature(delivered.body, String(delivered.headers['x-cimd-signature']), SECRETS[tenant])).toBe(
        true,
      );
      expect(delivered.headers['x-cimd-event-id']).toBe(revoked[0]?.id);
      expect(JSON.parse(delivered.body)).toMatchObject({
        tenant,
        type: 'session.revoked',
        client_id: id,
        data: { sessions: count },
      });
      await waitFor(async () => {
        const log = (await stack.request('GET', `/v1/tenants/${tenant}/webhooks/deliveries`)).body.deliveries as {
          status: string;
        }[];
        return log.some((d) => d.status === 'delivered');
      }, `the delivery log of ${tenant}`);
    }
  });

  it('the same event delivered twice revokes nothing twice (at least once in, once in effect)', async () => {
    const entries = await stack.redis.xrange(stack.keys.events, '-', '+');
    const gone = entries
      .map(([, f]) => parseEventFields(f))
      .find((e) => e?.type === 'client.gone' && e.client_id === id);
    expect(gone).toBeDefined();
    if (!gone) return;
    await stack.redis.xadd(stack.keys.events, '*', ...eventFields(gone));
    const before = (await events('acme')).length;
    await new Promise((r) => setTimeout(r, 1500));
    expect((await events('acme')).length).toBe(before);
  });

  it('the same event delivered again after a crash before the webhooks were enqueued enqueues them then', async () => {
    const entries = await stack.redis.xrange(stack.keys.events, '-', '+');
    const gone = entries
      .map(([, f]) => parseEventFields(f))
      .find((e) => e?.type === 'client.gone' && e.client_id === id);
    if (!gone) throw new Error('no client.gone event');
    // As a gateway killed between the commit and the enqueue leaves it: the delivery is pending
    // in PostgreSQL and not on the queue (the sweep would take a minute or more to notice).
    const db = new Client({ connectionString: stack.databaseUrl });
    await db.connect();
    const queue = new Queue(WEBHOOK_QUEUE, {
      connection: { url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' },
      prefix: stack.keys.queuePrefix,
    });
    try {
      const { rows } = await db.query<{ id: string; event_id: string }>(
        `SELECT d.id, e.id AS event_id FROM webhook_deliveries d JOIN tenant_events e ON e.id = d.tenant_event_id
         WHERE d.tenant_id = 'beta' AND e.data->>'cause_event_id' = $1`,
        [gone.id],
      );
      const delivery = rows[0];
      expect(rows).toHaveLength(1);
      if (!delivery) return;
      await db.query("UPDATE webhook_deliveries SET status = 'pending', delivered_at = NULL WHERE id = $1", [
        delivery.id,
      ]);
      await queue.remove(delivery.id);
      const before = hooks.filter((h) => h.headers['x-cimd-delivery-id'] === delivery.id).length;
      await stack.redis.xadd(stack.keys.events, '*', ...eventFields(gone));
      const again = await waitFor(
        () => hooks.filter((h) => h.headers['x-cimd-delivery-id'] === delivery.id).length > before,
        'the webhook enqueued again',
        10_000,
      );
      expect(again).toBe(true);
      const last = hooks.filter((h) => h.headers['x-cimd-delivery-id'] === delivery.id).pop();
      expect(last?.headers['x-cimd-event-id']).toBe(String(delivery.event_id));
      expect(last?.verified).toBe(true);
      expect(verifySignature(last?.body ?? '', String(last?.headers['x-cimd-signature']), SECRETS.beta)).toBe(true);
      // Nothing was revoked or recorded twice.
      const revocations = await db.query('SELECT 1 FROM revocations WHERE cause_event_id = $1', [gone.id]);
      expect(revocations.rows).toHaveLength(2);
    } finally {
      await queue.close();
      await db.end();
    }
  });

  it('comes back: client.restored, new checks allow again, revoked sessions stay revoked', async () => {
    stack.origin.json('/vanishing.json', documentFor(id), { 'cache-control': 'max-age=600' });
    expect((await stack.request('POST', '/v1/clients/refresh', { body: { client_id: id } })).status).toBe(202);
    await waitFor(async () => (await check('acme', id)).body.decision === 'allow', 'the restored client');
    expect(await session('acme', 'acme-1')).toMatchObject({ active: false, reason: 'client.gone' });
    await waitFor(
      async () => (await events('beta')).some((e) => e.type === 'client.restored' && e.client_id === id),
      'client.restored',
    );
    // A new session of the restored client is active.
    await register('acme', 'acme-3', id);
    expect((await session('acme', 'acme-3')).active).toBe(true);
  });
});

describe('an origin that fails transiently for longer than the cache lifetime', () => {
  it('revokes nothing, and checks are answered from the stale copy inside the window', async () => {
    const id = stack.clientId('/flaky.json');
    stack.origin.json('/flaky.json', documentFor(id), { 'cache-control': 'max-age=600' });
    expect((await check('acme', id)).body.decision).toBe('allow');
    await register('acme', 'flaky-1', id);
    stack.origin.route('/flaky.json', (_req, res) => res.writeHead(503, { 'retry-after': '1' }).end());
    // Past its lifetime, so both the scheduled revalidation and checks try the origin again.
    const key = stack.keys.clientEntry(id);
    const entry = parseCacheEntry(await stack.redis.get(key));
    await stack.redis.set(
      key,
      JSON.stringify({ ...entry, refresh_at: Date.now() - 2000, expires_at: Date.now() - 1000 }),
      'KEEPTTL',
    );
    const r = await check('acme', id);
    expect(r.body).toMatchObject({ decision: 'allow', cache: { status: 'stale' } });
    expect(r.body.trust.warnings).toContain('client.stale');
    await waitFor(() => stack.origin.hits('/flaky.json') >= 3, 'several failed fetches');
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect((await session('acme', 'flaky-1')).active).toBe(true);
    expect((await events('acme')).filter((e) => e.client_id === id)).toEqual([]);
    expect(parseCacheEntry(await stack.redis.get(key))?.status).toBe('valid');
  });
});

describe('a client whose document changes (SPEC-NOTES 23)', () => {
  it('a removed redirect URI revokes under the default policy and only notifies under a notify policy', async () => {
    const id = stack.clientId('/changing.json');
    const host = new URL(id).host;
    const both = [`https://${host}/callback`, `https://${host}/other`];
    stack.origin.json('/changing.json', documentFor(id, { redirect_uris: both }), { 'cache-control': 'max-age=600' });
    expect((await check('acme', id)).body.decision).toBe('allow');
    await register('acme', 'change-acme', id);
    await register('beta', 'change-beta', id);
    stack.origin.json(
      '/changing.json',
      documentFor(id, { redirect_uris: [`https://${host}/callback`], client_name: 'Renamed' }),
    );
    expect((await stack.request('POST', '/v1/clients/refresh', { body: { client_id: id } })).status).toBe(202);

    await waitFor(async () => !(await session('acme', 'change-acme')).active, 'the revocation in acme');
    expect(await session('acme', 'change-acme')).toMatchObject({ reason: 'client.changed:redirect_uris_removed' });
    expect(await session('beta', 'change-beta')).toMatchObject({ active: true });
    // The Redis mark ends the sessions just before the transaction that records the event commits.
    const acme = await waitFor(async () => {
      const list = (await events('acme')).filter((e) => e.client_id === id);
      return list.length > 0 ? list : undefined;
    }, 'the acme event');
    expect(acme).toEqual([
      expect.objectContaining({
        type: 'session.revoked',
        data: expect.objectContaining({ sessions: 1, changes: ['redirect_uris_removed', 'client_name'] }),
      }),
    ]);
    const beta = await waitFor(
      async () => (await events('beta')).filter((e) => e.client_id === id).at(0),
      'beta notified',
    );
    expect(beta).toMatchObject({ type: 'client.changed', data: { changes: ['redirect_uris_removed', 'client_name'] } });
    await waitFor(
      () => hooks.find((h) => h.tenant === 'beta' && (JSON.parse(h.body) as { id: string }).id === beta.id),
      'the notify webhook',
    );
    // The client itself stays valid: only the removed redirect is refused.
    expect((await check('acme', id)).body.decision).toBe('allow');
    expect((await check('acme', id, `https://${host}/other`)).body.reason).toBe('redirect_uri.not_registered');
  });
});

describe('a tenant whose webhook URL the fetcher refuses', () => {
  it('the delivery is dead after its one attempt, not pending until the sweep', async () => {
    // A name (the policy save cannot refuse it) that resolves to the metadata address, on the
    // one port the fetcher allows here: the address is what the delivery guard refuses.
    const policy = { webhook: { url: stack.clientId('/latest/meta-data/', 'metadata.test'), secret: SECRET } };
    expect((await stack.request('POST', '/v1/tenants', { body: { id: 'metadata', policy } })).status).toBe(201);
    const id = stack.clientId('/renamed.json');
    stack.origin.json('/renamed.json', documentFor(id), { 'cache-control': 'max-age=600' });
    expect((await check('metadata', id)).body.decision).toBe('allow');
    await register('metadata', 'renamed-1', id);
    stack.origin.json('/renamed.json', documentFor(id, { client_name: 'Renamed' }));
    expect((await stack.request('POST', '/v1/clients/refresh', { body: { client_id: id } })).status).toBe(202);

    const delivery = await waitFor(async () => {
      const list = (await stack.request('GET', '/v1/tenants/metadata/webhooks/deliveries')).body.deliveries as {
        status: string;
        attempts: number;
        last_error: string | null;
      }[];
      return list.find((d) => d.status !== 'pending');
    }, 'the refused delivery settled');
    expect(delivery).toMatchObject({ status: 'dead', attempts: 1 });
    expect(delivery.last_error).toContain('169.254.0.0/16');
  });
});

describe('a webhook receiver that fails the first attempt (Standard Webhooks)', () => {
  it('gets the retry with the same webhook-id, signed again for the time it was sent', async () => {
    let answers = 0;
    receive('gamma', () => (++answers === 1 ? 503 : 204));
    expect(
      (await stack.request('POST', '/v1/tenants', { body: { id: 'gamma', policy: { webhook: hook('gamma') } } }))
        .status,
    ).toBe(201);
    const id = stack.clientId('/retried.json');
    stack.origin.json('/retried.json', documentFor(id), { 'cache-control': 'max-age=600' });
    expect((await check('gamma', id)).body.decision).toBe('allow');
    await register('gamma', 'retried-1', id);
    stack.origin.json('/retried.json', documentFor(id, { client_name: 'Renamed' }));
    expect((await stack.request('POST', '/v1/clients/refresh', { body: { client_id: id } })).status).toBe(202);

    // The first attempt fails; BullMQ retries after its 5 s backoff.
    const [first, second] = await waitFor(
      () => {
        const got = hooks.filter((h) => h.tenant === 'gamma');
        return got.length >= 2 ? got : undefined;
      },
      'two attempts',
      20_000,
    );
    expect(first?.verified).toBe(true);
    expect(second?.verified).toBe(true);
    expect(second?.body).toBe(first?.body);
    expect(second?.headers['webhook-id']).toBe(first?.headers['webhook-id']);
    const sentAt = (h: typeof first) => Number(h?.headers['webhook-timestamp']);
    expect(sentAt(second) - sentAt(first)).toBeGreaterThanOrEqual(4);
    // The deprecated header keeps its bytes on every retry.
    expect(second?.headers['x-cimd-signature']).toBe(first?.headers['x-cimd-signature']);
    expect(JSON.parse(second?.body ?? '{}')).toMatchObject({ tenant: 'gamma', type: 'client.changed', client_id: id });
    await waitFor(async () => {
      const list = (await stack.request('GET', '/v1/tenants/gamma/webhooks/deliveries')).body.deliveries as {
        status: string;
      }[];
      return list.some((d) => d.status === 'delivered');
    }, 'the delivery logged as delivered');
  }, 40_000);
});
