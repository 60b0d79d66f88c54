import * as grpc from '@grpc/grpc-js';
import { loadGatewayClient } from '../../support/grpc-client';
import { escaped5xx } from './load';
import { ADMIN_TOKEN, ProcessStack } from './stack';

/**
 * Every route of the gateway, HTTP and gRPC, called once (while a backend is down): what each
 * answered, and which answers were 5xx other than the designed 503 `temporarily_unavailable`
 * (gRPC: INTERNAL or UNKNOWN instead of UNAVAILABLE).
 */
export interface SweepContext {
  tenant: string;
  /** A cached client. */
  clientId: string;
  /** A registered session (checked), and one the sweep may revoke. */
  sessionId: string;
  revocableSessionId: string;
  /** A key id of the tenant the sweep may revoke. */
  keyId: string;
  tag: string;
}

export interface SweepResult {
  route: string;
  status: number | string;
  error?: string;
  description?: string;
  escaped: boolean;
}

export async function sweepRoutes(stack: ProcessStack, c: SweepContext): Promise<SweepResult[]> {
  const t = c.tenant;
  const calls: [string, string, string, unknown?][] = [
    [
      'POST check',
      'POST',
      `/v1/tenants/${t}/authorize/check`,
      {
        client_id: c.clientId,
        redirect_uri: `https://${new URL(c.clientId).host}/callback`,
        code_challenge_method: 'S256',
      },
    ],
    ['GET client', 'GET', `/v1/clients?client_id=${encodeURIComponent(c.clientId)}`],
    ['POST refresh', 'POST', '/v1/clients/refresh', { client_id: c.clientId }],
    ['GET logo', 'GET', `/v1/logos/${'0'.repeat(64)}`],
    ['POST session', 'POST', `/v1/tenants/${t}/sessions`, { session_id: `${c.tag}-sweep`, client_id: c.clientId }],
    ['GET session', 'GET', `/v1/tenants/${t}/sessions/${c.sessionId}`],
    ['DELETE session', 'DELETE', `/v1/tenants/${t}/sessions/${c.revocableSessionId}`],
    ['GET events', 'GET', `/v1/tenants/${t}/events?after=0`],
    ['GET deliveries', 'GET', `/v1/tenants/${t}/webhooks/deliveries`],
    ['POST tenant', 'POST', '/v1/tenants', { id: `${c.tag}-new` }],
    ['GET policy', 'GET', `/v1/tenants/${t}/policy`],
    ['PUT policy', 'PUT', `/v1/tenants/${t}/policy`, {}],
    ['POST key', 'POST', `/v1/tenants/${t}/keys`],
    ['DELETE key', 'DELETE', `/v1/tenants/${t}/keys/${c.keyId}`],
    ['GET healthz', 'GET', '/healthz'],
    ['GET metrics', 'GET', '/metrics'],
  ];
  const results: SweepResult[] = [];
  for (const [route, method, path, body] of calls) {
    const r = await stack.api(method, path, body === undefined ? {} : { body });
    results.push({
      route,
      status: r.status,
      ...(r.body?.error ? { error: String(r.body.error) } : {}),
      ...(r.body?.error_description ? { description: String(r.body.error_description) } : {}),
      escaped: escaped5xx(r) || r.status === 0,
    });
  }
  results.push(...(await sweepGrpc(stack, c)));
  return results;
}

async function sweepGrpc(stack: ProcessStack, c: SweepContext): Promise<SweepResult[]> {
  const Gateway = loadGatewayClient();
  const client = new Gateway(`127.0.0.1:${stack.grpcPort}`, grpc.credentials.createInsecure());
  const metadata = new grpc.Metadata();
  metadata.set('authorization', `Bearer ${ADMIN_TOKEN}`);
  const host = new URL(c.clientId).host;
  const calls: [string, object][] = [
    [
      'CheckAuthorization',
      {
        tenant: c.tenant,
        client_id: c.clientId,
        redirect_uri: `https://${host}/callback`,
        code_challenge_method: 'S256',
      },
    ],
    ['GetClient', { client_id: c.clientId }],
    ['RegisterSession', { tenant: c.tenant, session_id: `${c.tag}-grpc`, client_id: c.clientId }],
    ['CheckSession', { tenant: c.tenant, session_id: c.sessionId }],
  ];
  const results: SweepResult[] = [];
  try {
    for (const [method, request] of calls) {
      const code = await new Promise<number | string>((resolve) => {
        const fn = (client as unknown as Record<string, (...a: unknown[]) => void>)[method] as (
          ...a: unknown[]
        ) => void;
        fn.call(client, request, metadata, { deadline: Date.now() + 10_000 }, (error: grpc.ServiceError | null) =>
          resolve(error ? error.code : 'OK'),
        );
      });
      const name = typeof code === 'number' ? (grpc.status[code] ?? String(code)) : code;
      results.push({
        route: `gRPC ${method}`,
        status: name,
        escaped:
          code === grpc.status.INTERNAL || code === grpc.status.UNKNOWN || code === grpc.status.DEADLINE_EXCEEDED,
      });
    }
  } finally {
    client.close();
  }
  return results;
}

/** `route status error` per line, for a test's notes. */
export function describeSweep(results: SweepResult[]): string {
  return results.map((r) => `${r.route} ${r.status}${r.error ? ` ${r.error}` : ''}`).join(', ');
}
