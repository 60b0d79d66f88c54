import { DEFAULT_MAX_DOCUMENT_BYTES, FetchOutcome } from '@cimd/core';
import { fetchClientMetadata, fetchLogo, SafeFetcher } from '@cimd/safe-fetch';
import { createTestPki, freePort, TestOrigin, TestPki } from '@cimd/testing';
import { createHash } from 'node:crypto';
import { AddressInfo, createServer as createTcpServer, Server as TcpServer, Socket } from 'node:net';
import { crc32, deflateSync, gunzipSync } from 'node:zlib';
import {
  documentFor,
  FETCH_BEHAVIOUR_CASES,
  LARGE_GZIP_BOMB,
  MAX_BYTES,
  SMALL_GZIP_BOMB,
} from './fetch-behaviour.cases';

/**
 * The fetcher against a real local HTTPS origin (SPEC-NOTES 4-8, 14-15): the table rows in
 * fetch-behaviour.cases.ts, then the cases that need timing, other certificates or no server.
 */
const TIMEOUT_MS = 1500;
const TABLE = FETCH_BEHAVIOUR_CASES.map((c, index) => ({ ...c, index }));

let pki: TestPki;
let origin: TestOrigin;
let fetcher: SafeFetcher;
let port: number;
/** Origins with a bad certificate, and the fetcher allowed to reach them and a closed port. */
const edge = { wrongName: 0, unknownCa: 0, expired: 0, refused: 0, stall: 0 };
let edgeOrigins: TestOrigin[] = [];
/** Accepts connections and never answers the TLS ClientHello. */
let stallServer: TcpServer | undefined;
const stalled = new Set<Socket>();
let edgeFetcher: SafeFetcher;
/** Timers of handlers that trickle forever; cleared when their response closes, and in afterAll. */
const timers = new Set<NodeJS.Timeout>();

const url = (path: string, p = port, host = 'client.test') => `https://${host}:${p}${path}`;
const clientIdOf = (index: number) => url(`/case-${index}.json`);
const codes = (o: FetchOutcome) => ('errors' in o ? o.errors.map((e) => e.code) : []);
const warningCodes = (o: FetchOutcome) => ('warnings' in o ? o.warnings.map((w) => w.code) : []);

async function startOrigin(tls: { certPem: string; keyPem: string }): Promise<[TestOrigin, number]> {
  const o = new TestOrigin(tls);
  edgeOrigins.push(o);
  return [o, await o.listen('127.0.0.1')];
}

beforeAll(async () => {
  pki = await createTestPki();
  origin = new TestOrigin(await pki.issue(['client.test']));
  port = await origin.listen('127.0.0.1');
  fetcher = new SafeFetcher({
    allowedPorts: [port],
    resolve: new Map([[`client.test:${port}`, ['127.0.0.1']]]),
    allowCidrs: ['127.0.0.1/32'],
    extraCa: pki.caPem,
    timeoutMs: TIMEOUT_MS,
  });
  for (const c of TABLE) origin.route(`/case-${c.index}.json`, c.serve(clientIdOf(c.index)));

  const otherPki = await createTestPki('unknown test CA');
  const threeDaysAgo = new Date(Date.now() - 3 * 86_400_000);
  [, edge.wrongName] = await startOrigin(await pki.issue(['other.test']));
  [, edge.unknownCa] = await startOrigin(await otherPki.issue(['client.test']));
  [, edge.expired] = await startOrigin(await pki.issue(['client.test'], { notBefore: threeDaysAgo, validDays: 1 }));
  edge.refused = await freePort();
  stallServer = createTcpServer((s) => {
    stalled.add(s);
    s.on('error', () => undefined);
    s.on('close', () => stalled.delete(s));
  });
  await new Promise<void>((resolve) => stallServer?.listen(0, '127.0.0.1', resolve));
  edge.stall = (stallServer.address() as AddressInfo).port;
  for (const o of edgeOrigins) o.json('/c.json', { ok: true });
  const ports = Object.values(edge);
  edgeFetcher = new SafeFetcher({
    allowedPorts: ports,
    resolve: new Map(ports.map((p) => [`client.test:${p}`, ['127.0.0.1']])),
    allowCidrs: ['127.0.0.1/32'],
    extraCa: pki.caPem,
    timeoutMs: TIMEOUT_MS,
  });
});

afterAll(async () => {
  for (const t of timers) clearInterval(t);
  await Promise.all([fetcher?.close(), edgeFetcher?.close()]);
  await Promise.all([origin?.close(), ...edgeOrigins.map((o) => o.close())]);
  edgeOrigins = [];
  for (const s of stalled) s.destroy();
  await new Promise<void>((resolve) => (stallServer ? stallServer.close(() => resolve()) : resolve()));
});

describe('fetchClientMetadata against a real HTTPS origin: table', () => {
  it.each(TABLE)('[$rule] $name → $outcome', async ({ index, outcome, errors, warnings = [], validators, check }) => {
    const clientId = clientIdOf(index);
    const result = await fetchClientMetadata(fetcher, clientId, validators ? { validators } : {});
    expect({ outcome: result.outcome, errors: codes(result) }).toEqual({ outcome, errors });
    expect(warningCodes(result)).toEqual(expect.arrayContaining(warnings));
    check?.(result, clientId);
  });

  it('every row names a SPEC-NOTES item or an RFC section', () => {
    for (const c of FETCH_BEHAVIOUR_CASES) expect(c.rule).toMatch(/^(\d+(-\d+)?(, \d+(-\d+)?)*|RFC \d+ §[\d.]+)$/);
  });

  it('runs under the default document size cap', () => {
    expect(MAX_BYTES).toBe(DEFAULT_MAX_DOCUMENT_BYTES);
    expect(fetcher.options.maxBytes).toBe(MAX_BYTES);
  });

  it('the gzip bombs are what their rows claim', () => {
    expect(SMALL_GZIP_BOMB.length).toBeLessThan(MAX_BYTES);
    expect(LARGE_GZIP_BOMB.length).toBeGreaterThan(MAX_BYTES);
    expect(gunzipSync(SMALL_GZIP_BOMB).length).toBe(2 * 1024 * 1024);
  });
});

describe('fetchClientMetadata: deadline (SPEC-NOTES 7)', () => {
  async function timed(path: string): Promise<{ result: FetchOutcome; ms: number }> {
    const start = Date.now();
    const result = await fetchClientMetadata(fetcher, url(path));
    return { result, ms: Date.now() - start };
  }

  it('an origin that never sends headers times out within about the deadline', async () => {
    origin.route('/slow-headers.json', () => undefined);
    const { result, ms } = await timed('/slow-headers.json');
    expect(result.outcome).toBe('transient');
    expect(codes(result)).toEqual(['fetch.timeout']);
    expect(ms).toBeLessThan(TIMEOUT_MS + 3000);
  });

  it('a body trickling one byte every 200 ms times out: the deadline covers the body too', async () => {
    origin.route('/trickle.json', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{');
      const t = setInterval(() => res.write(' '), 200);
      timers.add(t);
      res.on('close', () => {
        clearInterval(t);
        timers.delete(t);
      });
    });
    const { result, ms } = await timed('/trickle.json');
    expect(result.outcome).toBe('transient');
    expect(codes(result)).toEqual(['fetch.timeout']);
    expect(ms).toBeLessThan(TIMEOUT_MS + 3000);
  });

  it('a TLS handshake that stalls ends at the deadline, not at the connect timeout after it', async () => {
    const start = Date.now();
    const result = await fetchClientMetadata(edgeFetcher, url('/c.json', edge.stall));
    const ms = Date.now() - start;
    expect(result.outcome).toBe('transient');
    expect(codes(result)).toEqual(['fetch.timeout']);
    // undici ends a request waiting for its connection only at the connector's timeout, about
    // 500 ms late: the fetcher's own deadline must not wait for that.
    expect(ms).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
    expect(ms).toBeLessThan(TIMEOUT_MS + 300);
  });

  it('a 404 whose body never ends is still gone (the body of a non-200 is dropped, not awaited forever)', async () => {
    origin.route('/gone-trickle.json', (_req, res) => {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.write('not');
    });
    const { result, ms } = await timed('/gone-trickle.json');
    expect(result.outcome).toBe('gone');
    expect(ms).toBeLessThan(TIMEOUT_MS + 3000);
  });
});

describe('fetchClientMetadata: connection failures are transient (SPEC-NOTES 8)', () => {
  it.each([
    ['a certificate for another name', () => edge.wrongName],
    ['a certificate from an unknown CA', () => edge.unknownCa],
    ['an expired certificate', () => edge.expired],
  ])('TLS: %s → fetch.tls_failed', async (_name, portOf) => {
    const result = await fetchClientMetadata(edgeFetcher, url('/c.json', portOf()));
    expect(result.outcome).toBe('transient');
    expect(codes(result)).toEqual(['fetch.tls_failed']);
  });

  it('nothing listening on an allowed port → fetch.connect_failed', async () => {
    const result = await fetchClientMetadata(edgeFetcher, url('/c.json', edge.refused));
    expect(result.outcome).toBe('transient');
    expect(codes(result)).toEqual(['fetch.connect_failed']);
  });

  it('the connection is reset before any response → transient', async () => {
    origin.route('/reset.json', (req) => req.socket.destroy());
    const result = await fetchClientMetadata(fetcher, url('/reset.json'));
    expect(result.outcome).toBe('transient');
    expect(codes(result)).toEqual(['fetch.connect_failed']);
  });

  it('the connection is reset in the middle of the headers → transient', async () => {
    origin.route('/reset-mid-headers.json', (_req, res) => {
      res.socket?.write('HTTP/1.1 200 OK\r\ncontent-type: appl', () => res.socket?.destroy());
    });
    const result = await fetchClientMetadata(fetcher, url('/reset-mid-headers.json'));
    expect(result.outcome).toBe('transient');
    expect(codes(result)).toEqual(['fetch.connect_failed']);
  });

  it('a name that does not resolve → fetch.dns_failed', async () => {
    const result = await fetchClientMetadata(fetcher, url('/c.json', port, 'nx.invalid'));
    expect(result.outcome).toBe('transient');
    expect(codes(result)).toEqual(['fetch.dns_failed']);
  });
});

describe('fetchClientMetadata: what is sent and what is kept', () => {
  it('sends Accept: application/json, its User-Agent and Accept-Encoding: identity', async () => {
    const path = '/headers.json';
    origin.route(path, (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(documentFor(url(path))));
    });
    expect((await fetchClientMetadata(fetcher, url(path))).outcome).toBe('ok');
    const sent = origin.requests.filter((r) => r.path === path);
    expect(sent).toHaveLength(1);
    expect(sent[0]?.method).toBe('GET');
    expect(sent[0]?.headers).toMatchObject({ accept: 'application/json', 'accept-encoding': 'identity' });
    expect(sent[0]?.headers['user-agent']).toContain('cimd-gateway');
    expect(sent[0]?.headers['if-none-match']).toBeUndefined();
    expect(sent[0]?.headers['if-modified-since']).toBeUndefined();
  });

  it('a conditional fetch sends If-None-Match and If-Modified-Since', async () => {
    const path = '/conditional.json';
    const lastModified = 'Wed, 21 Oct 2015 07:28:00 GMT';
    origin.route(path, (_req, res) => res.writeHead(304).end());
    const result = await fetchClientMetadata(fetcher, url(path), { validators: { etag: '"abc"', lastModified } });
    expect(result.outcome).toBe('not_modified');
    const sent = origin.requests.filter((r) => r.path === path);
    expect(sent).toHaveLength(1);
    expect(sent[0]?.headers).toMatchObject({ 'if-none-match': '"abc"', 'if-modified-since': lastModified });
    // The 304 carried no validators: the ones sent are kept.
    expect(result.outcome === 'not_modified' && result.validators).toEqual({ etag: '"abc"', lastModified });
  });

  it.each([
    ['cache-control: max-age=600', { 'cache-control': 'max-age=600' }, { ttlSeconds: 600, source: 'headers' }],
    ['no caching headers', {}, { ttlSeconds: 3600, source: 'default' }],
    [
      'max-age=5 (below the minimum)',
      { 'cache-control': 'max-age=5' },
      { ttlSeconds: 60, source: 'headers', clamped: 'min' },
    ],
    [
      'max-age=1000000 (above the maximum)',
      { 'cache-control': 'max-age=1000000' },
      { ttlSeconds: 86_400, clamped: 'max' },
    ],
  ])('cache lifetime (SPEC-NOTES 14): %s', async (name, headers, expected) => {
    const path = `/lifetime-${name.replace(/\W+/g, '-')}.json`;
    origin.route(path, (_req, res) => {
      res
        .writeHead(200, { 'content-type': 'application/json', ...headers })
        .end(JSON.stringify(documentFor(url(path))));
    });
    const now = Date.now();
    const result = await fetchClientMetadata(fetcher, url(path), { now });
    expect(result.outcome).toBe('ok');
    if (result.outcome !== 'ok') return;
    expect(result.lifetime).toMatchObject(expected);
    if (!('clamped' in expected)) expect(result.lifetime.clamped).toBeUndefined();
    expect(result.lifetime.fetchedAt).toBe(now);
    expect(result.lifetime.expiresAt).toBe(now + result.lifetime.ttlSeconds * 1000);
  });

  it('returns the ETag and Last-Modified validators, and the sha256 of the body', async () => {
    const path = '/validators.json';
    const body = Buffer.from(JSON.stringify(documentFor(url(path)), null, 2));
    const lastModified = 'Tue, 01 Jul 2025 10:00:00 GMT';
    origin.route(path, (_req, res) => {
      res
        .writeHead(200, { 'content-type': 'application/json', etag: 'W/"xyz"', 'last-modified': lastModified })
        .end(body);
    });
    const result = await fetchClientMetadata(fetcher, url(path));
    expect(result.outcome).toBe('ok');
    if (result.outcome !== 'ok') return;
    expect(result.validators).toEqual({ etag: 'W/"xyz"', lastModified });
    expect(result.rawHash).toBe(createHash('sha256').update(body).digest('hex'));
    expect(result.bytes).toBe(body.length);
  });
});

describe('fetchLogo (SPEC-NOTES 21)', () => {
  const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

  /** A valid 1×1 transparent RGBA PNG. */
  function onePixelPng(): Buffer {
    const chunk = (type: string, data: Buffer): Buffer => {
      const typed = Buffer.concat([Buffer.from(type, 'latin1'), data]);
      const length = Buffer.alloc(4);
      length.writeUInt32BE(data.length);
      const crc = Buffer.alloc(4);
      crc.writeUInt32BE(crc32(typed));
      return Buffer.concat([length, typed, crc]);
    };
    const ihdr = Buffer.alloc(13);
    ihdr.writeUInt32BE(1, 0); // width
    ihdr.writeUInt32BE(1, 4); // height
    ihdr[8] = 8; // bit depth
    ihdr[9] = 6; // RGBA
    const scanline = Buffer.from([0, 0, 0, 0, 0]); // filter 0, one transparent pixel
    return Buffer.concat([
      PNG_SIGNATURE,
      chunk('IHDR', ihdr),
      chunk('IDAT', deflateSync(scanline)),
      chunk('IEND', Buffer.alloc(0)),
    ]);
  }

  const serve = (path: string, status: number, contentType: string, body: Buffer | string) => {
    origin.route(path, (_req, res) => res.writeHead(status, { 'content-type': contentType }).end(body));
    return url(path);
  };

  it('a PNG served as image/png is accepted', async () => {
    const png = onePixelPng();
    const result = await fetchLogo(fetcher, serve('/logo.png', 200, 'image/png', png));
    expect(result).toEqual({
      ok: true,
      contentType: 'image/png',
      body: png,
      sha256: createHash('sha256').update(png).digest('hex'),
    });
    const sent = origin.requests.filter((r) => r.path === '/logo.png');
    expect(sent[0]?.headers.accept).toMatch(/image\/png/);
  });

  it('HTML served as image/png is refused on its first bytes', async () => {
    const result = await fetchLogo(
      fetcher,
      serve('/fake.png', 200, 'image/png', '<html><script>alert(1)</script></html>'),
    );
    expect(result).toMatchObject({ ok: false, transient: false });
  });

  it('SVG is refused even when it is a real image', async () => {
    const svg = '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>';
    const result = await fetchLogo(fetcher, serve('/logo.svg', 200, 'image/svg+xml', svg));
    expect(result).toMatchObject({ ok: false, transient: false });
  });

  it('a PNG body under a non-image content type is refused', async () => {
    const result = await fetchLogo(fetcher, serve('/logo-html.png', 200, 'text/html', onePixelPng()));
    expect(result).toMatchObject({ ok: false, transient: false });
  });

  it('a logo over the cap is refused', async () => {
    const big = Buffer.concat([PNG_SIGNATURE, Buffer.alloc(2000 - PNG_SIGNATURE.length, 7)]);
    const result = await fetchLogo(fetcher, serve('/big.png', 200, 'image/png', big), 1024);
    expect(result).toMatchObject({ ok: false, transient: false });
  });

  it('404 is not transient', async () => {
    const result = await fetchLogo(fetcher, serve('/missing.png', 404, 'text/plain', 'no'));
    expect(result).toMatchObject({ ok: false, transient: false });
  });

  it('503 is transient', async () => {
    const result = await fetchLogo(fetcher, serve('/busy.png', 503, 'text/plain', 'later'));
    expect(result).toMatchObject({ ok: false, transient: true });
  });
});
