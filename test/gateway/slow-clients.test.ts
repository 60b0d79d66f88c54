import * as grpc from '@grpc/grpc-js';
import { connect as connectHttp2, constants as http2 } from 'node:http2';
import { connect, Socket } from 'node:net';
import { documentFor, GatewayStack, startGatewayStack } from '../support/gateway-stack';
import { loadGatewayClient, metadataFor } from '../support/grpc-client';

/**
 * Slow and idle clients against the gateway's ports (an outside probe held 4,000 half-sent
 * requests open for minutes and exhausted the file descriptors with 20,000): every request must
 * arrive whole within CIMD_HTTP_REQUEST_TIMEOUT_MS or be answered 408 and closed, idle
 * keep-alive connections end, and gRPC connections are bounded by idle time and age. Bounds are
 * short here so that the test is quick; the limits asserted only catch a connection left open.
 */
const REQUEST_TIMEOUT_MS = 2000;
const KEEP_ALIVE_MS = 1500;
const GRPC_IDLE_MS = 1500;
const GRPC_AGE_MS = 4000;
const GRPC_AGE_GRACE_MS = 1000;
const AUTHORIZE_WAIT_MS = 3000;
/** Time after a bound within which the close must be seen: Node checks deadlines every 250 ms here. */
const SLACK_MS = 1500;

let stack: GatewayStack;
let port: number;

beforeAll(async () => {
  stack = await startGatewayStack('slow-clients', {
    gatewayEnv: {
      CIMD_HTTP_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
      CIMD_HTTP_KEEP_ALIVE_TIMEOUT_MS: String(KEEP_ALIVE_MS),
      CIMD_GRPC_MAX_CONNECTION_IDLE_MS: String(GRPC_IDLE_MS),
      CIMD_GRPC_MAX_CONNECTION_AGE_MS: String(GRPC_AGE_MS),
      CIMD_GRPC_MAX_CONNECTION_AGE_GRACE_MS: String(GRPC_AGE_GRACE_MS),
      CIMD_AUTHORIZE_WAIT_MS: String(AUTHORIZE_WAIT_MS),
    },
    // A held fetch outlasts the authorize wait: the check answers "pending" after it.
    fetcherEnv: { CIMD_FETCH_TIMEOUT_MS: '10000' },
  });
  port = Number(new URL(stack.url).port);
  expect((await stack.request('POST', '/v1/tenants', { body: { id: 'acme' } })).status).toBe(201);
}, 60_000);

afterAll(async () => {
  await stack?.stop();
});

/** A raw connection to the gateway: what it received, and when the gateway closed it. */
interface Probe {
  name: string;
  socket: Socket;
  openedAt: number;
  received: string;
  closedAt?: number;
}

function probe(name: string, toPort: number, first = ''): Promise<Probe> {
  return new Promise((resolve, reject) => {
    const socket = connect(toPort, '127.0.0.1');
    const p: Probe = { name, socket, openedAt: 0, received: '' };
    socket.on('data', (d: Buffer) => (p.received += d.toString('latin1')));
    socket.on('close', () => (p.closedAt = Date.now()));
    socket.on('error', () => undefined);
    socket.once('connect', () => {
      p.openedAt = Date.now();
      if (first) socket.write(first);
      resolve(p);
    });
    socket.once('error', reject);
  });
}

const CHECK = '/v1/tenants/acme/authorize/check';
const PARTIAL_REQUESTS: Record<string, string> = {
  // Connected, nothing sent.
  nothing: '',
  // Headers never finished (slowloris).
  'half the headers': `POST ${CHECK} HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\n`,
  // Headers done, the body announced but only begun: no token needed to hold the connection.
  'part of the body': `POST ${CHECK} HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{"client_id":`,
  // A chunked body without its last chunk.
  'an unfinished chunked body': `POST ${CHECK} HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{"\r\n`,
};

async function counterValue(name: string): Promise<number> {
  const text = (await stack.request('GET', '/metrics', { token: null })).body as string;
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return Number(line?.split(' ')[1] ?? 0);
}

describe('slow HTTP clients', () => {
  it('300 half-sent requests are answered 408 and closed within the request timeout while /healthz keeps answering', async () => {
    const timeoutsBefore = await counterValue('cimd_http_request_timeouts_total');
    const kinds = Object.entries(PARTIAL_REQUESTS);
    const probes: Probe[] = [];
    for (let i = 0; i < 300; i++) {
      const [name, bytes] = kinds[i % kinds.length] as [string, string];
      probes.push(await probe(name, port, bytes));
    }
    // One more keeps trickling a byte of its headers every 200 ms: activity does not extend the bound.
    const trickle = await probe('a byte every 200 ms', port);
    const line = `GET /healthz HTTP/1.1\r\nHost: gateway\r\nX-Padding: ${'x'.repeat(200)}`;
    let sent = 0;
    const dripping = setInterval(() => {
      if (!trickle.socket.destroyed && sent < line.length) trickle.socket.write(line[sent++] ?? '');
    }, 200);
    probes.push(trickle);
    // A slow but complete request is answered normally: the bound is the timeout, nothing shorter.
    const slowButInTime = await probe('a whole request over 1 s', port, 'GET /healthz HTTP/1.1\r\nHost: gateway\r\n');
    setTimeout(() => slowButInTime.socket.write('Connection: close\r\n\r\n'), 1000);

    // Meanwhile the gateway answers its health check, again and again.
    const health: { status: number; ms: number }[] = [];
    const healthLoop = (async () => {
      const until = Date.now() + REQUEST_TIMEOUT_MS + SLACK_MS;
      while (Date.now() < until) {
        const started = Date.now();
        const res = await fetch(`${stack.url}/healthz`, { signal: AbortSignal.timeout(2000) }).catch(() => undefined);
        health.push({ status: res?.status ?? 0, ms: Date.now() - started });
        await res?.text();
        await new Promise((r) => setTimeout(r, 100));
      }
    })();

    const deadline = Math.max(...probes.map((p) => p.openedAt)) + REQUEST_TIMEOUT_MS + SLACK_MS;
    while (Date.now() < deadline && probes.some((p) => p.closedAt === undefined)) {
      await new Promise((r) => setTimeout(r, 50));
    }
    clearInterval(dripping);
    await healthLoop;
    for (const p of probes) p.socket.destroy();
    slowButInTime.socket.destroy();

    const open = probes.filter((p) => p.closedAt === undefined).map((p) => p.name);
    expect(open).toEqual([]);
    const late = probes.filter((p) => (p.closedAt ?? Infinity) - p.openedAt > REQUEST_TIMEOUT_MS + SLACK_MS);
    expect(late.map((p) => `${p.name}: ${(p.closedAt ?? 0) - p.openedAt} ms`)).toEqual([]);
    // Not cut early either: nothing before the timeout.
    const early = probes.filter((p) => (p.closedAt ?? 0) - p.openedAt < REQUEST_TIMEOUT_MS - 100);
    expect(early.map((p) => p.name)).toEqual([]);
    for (const p of probes) {
      const [head = '', body = ''] = p.received.split('\r\n\r\n');
      expect({ name: p.name, status: head.split('\r\n')[0] }).toEqual({
        name: p.name,
        status: 'HTTP/1.1 408 Request Timeout',
      });
      expect(head).toMatch(/\r\nConnection: close(\r\n|$)/);
      expect(JSON.parse(body)).toEqual({
        error: 'invalid_request',
        error_description: 'the request did not arrive in time',
      });
    }
    expect(slowButInTime.received).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(health.length).toBeGreaterThan(5);
    expect(health.filter((h) => h.status !== 200)).toEqual([]);
    expect(await counterValue('cimd_http_request_timeouts_total')).toBe(timeoutsBefore + probes.length);
  }, 30_000);

  it('bounds receiving only: a check waiting longer than the timeout for the fetcher is answered', async () => {
    const id = stack.clientId('/held.json');
    const held: (() => void)[] = [];
    stack.origin.route('/held.json', (_req, res) =>
      held.push(() => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(documentFor(id)))),
    );
    const started = Date.now();
    const res = await stack.request('POST', CHECK, {
      body: { client_id: id, redirect_uri: 'https://client.test/callback', code_challenge_method: 'S256' },
    });
    const ms = Date.now() - started;
    for (const answer of held) answer();
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ decision: 'pending', error: 'temporarily_unavailable' });
    expect(ms).toBeGreaterThanOrEqual(AUTHORIZE_WAIT_MS);
  }, 20_000);

  it('closes an idle keep-alive connection after CIMD_HTTP_KEEP_ALIVE_TIMEOUT_MS, without an answer', async () => {
    const p = await probe('keep-alive', port, 'GET /healthz HTTP/1.1\r\nHost: gateway\r\n\r\n');
    await new Promise((r) => setTimeout(r, 300));
    expect(p.received).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(p.received).toMatch(/\r\nConnection: keep-alive\r\n/i);
    const answered = p.received;
    // Node adds a second to the keep-alive timeout before it closes the socket.
    const until = p.openedAt + KEEP_ALIVE_MS + 1000 + SLACK_MS;
    while (p.closedAt === undefined && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    p.socket.destroy();
    expect(p.closedAt).toBeDefined();
    expect((p.closedAt ?? 0) - p.openedAt).toBeGreaterThanOrEqual(KEEP_ALIVE_MS);
    expect(p.received).toBe(answered);
  }, 15_000);
});

describe('slow gRPC clients', () => {
  it('closes a connection that sends nothing, and an HTTP/2 connection without calls, after the idle bound', async () => {
    const raw = await probe('nothing', stack.grpcPort);
    const session = connectHttp2(`http://127.0.0.1:${stack.grpcPort}`);
    session.on('error', () => undefined);
    const idle = {
      openedAt: Date.now(),
      goaway: undefined as number | undefined,
      closedAt: undefined as number | undefined,
    };
    session.on('goaway', (code: number) => (idle.goaway = code));
    session.on('close', () => (idle.closedAt = Date.now()));
    const until = Date.now() + GRPC_IDLE_MS + SLACK_MS;
    while ((raw.closedAt === undefined || idle.closedAt === undefined) && Date.now() < until)
      await new Promise((r) => setTimeout(r, 50));
    raw.socket.destroy();
    session.destroy();
    expect(raw.closedAt).toBeDefined();
    expect((raw.closedAt ?? 0) - raw.openedAt).toBeGreaterThanOrEqual(GRPC_IDLE_MS - 100);
    expect(idle.goaway).toBe(http2.NGHTTP2_NO_ERROR);
    expect(idle.closedAt).toBeDefined();
  }, 15_000);

  it('cuts a half-sent call once its connection is past the maximum age and the grace period', async () => {
    const session = connectHttp2(`http://127.0.0.1:${stack.grpcPort}`);
    session.on('error', () => undefined);
    const openedAt = Date.now();
    const stream = session.request(
      {
        ':method': 'POST',
        ':path': '/cimd.v1.Gateway/CheckAuthorization',
        'content-type': 'application/grpc',
        te: 'trailers',
      },
      { endStream: false },
    );
    stream.on('error', () => undefined);
    // A message announced as 100 bytes, of which 2 are sent.
    stream.write(Buffer.from([0, 0, 0, 0, 100, 0x0a, 0x04]));
    const call = { goaway: false, closedAt: undefined as number | undefined };
    session.on('goaway', () => (call.goaway = true));
    stream.on('close', () => (call.closedAt = Date.now()));
    const bound = GRPC_AGE_MS * 1.1 + GRPC_AGE_GRACE_MS;
    const until = openedAt + bound + SLACK_MS;
    while (call.closedAt === undefined && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    session.destroy();
    expect(call.goaway).toBe(true);
    expect(call.closedAt).toBeDefined();
    // Held at least until the age (less its jitter): a call is not cut at the idle bound.
    expect((call.closedAt ?? 0) - openedAt).toBeGreaterThanOrEqual(GRPC_AGE_MS * 0.9);
  }, 20_000);

  it('ends a WatchEvents stream at the maximum age plus grace with a status a caller resumes after', async () => {
    const Gateway = loadGatewayClient();
    const client = new Gateway(`127.0.0.1:${stack.grpcPort}`, grpc.credentials.createInsecure());
    try {
      const openedAt = Date.now();
      const stream = (
        client as unknown as Record<string, (r: object, m: grpc.Metadata) => grpc.ClientReadableStream<unknown>>
      ).WatchEvents?.({ tenant: 'acme' }, metadataFor(stack.adminToken)) as grpc.ClientReadableStream<unknown>;
      stream.on('data', () => undefined);
      const ended = await new Promise<{ code: grpc.status; at: number }>((resolve) => {
        stream.on('error', (e: grpc.ServiceError) => resolve({ code: e.code, at: Date.now() }));
        stream.on('status', (st: grpc.StatusObject) => resolve({ code: st.code, at: Date.now() }));
      });
      // Not at the idle bound: a stream is a call in flight.
      expect(ended.at - openedAt).toBeGreaterThanOrEqual(GRPC_AGE_MS * 0.9);
      expect(ended.at - openedAt).toBeLessThanOrEqual(GRPC_AGE_MS * 1.1 + GRPC_AGE_GRACE_MS + SLACK_MS);
      // As at a gateway shutdown: the caller calls again with after_id.
      expect(grpc.status[ended.code]).toBe('UNAVAILABLE');
    } finally {
      client.close();
    }
  }, 20_000);
});
