import fc from 'fast-check';
import { Agent, request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import type { ProcessStack } from './stack';

/**
 * Bad input for the fuzz and isolation tests: the client_id traps of SPEC-NOTES 1-3 and
 * friends, bad bearer tokens, fast-check arbitraries built on them, an HTTP sender that can put
 * any bytes on the wire (bodies, paths, headers), and the judgement of an answer: never a 5xx,
 * and every refusal a 4xx with an OAuth-style JSON body whose description a person can read.
 */

/** `FUZZ_SEED=<n>` replays a run; otherwise a new seed each run, printed by the tests. */
export const FUZZ_SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : Date.now() % 2_147_483_647;

/**
 * Bounds of every fast-check run: its numRuns, but never more than 45 s on a slow machine (what
 * ran is still checked and counted; the time limit is not a failure).
 */
export const FUZZ_LIMITS = { interruptAfterTimeLimit: 45_000, markInterruptAsFailure: false } as const;

/** Every client_id trap: each must be refused (or, where the draft allows it, accepted) without a 5xx. */
export function clientIdTraps(host = 'client.test'): string[] {
  const base = `https://${host}`;
  return [
    // SPEC-NOTES 1: scheme, path, dot segments, fragment, userinfo, query, port
    `http://${host}/c.json`,
    `HTTPS://${host}/c.json`,
    `https:/${host}/c.json`,
    `https:${host}/c.json`,
    `//${host}/c.json`,
    `${host}/c.json`,
    `ftp://${host}/c.json`,
    'javascript:alert(1)//',
    'data:application/json,{"client_id":"x"}',
    'file:///etc/passwd',
    `${base}`,
    `${base}?x=1`,
    `${base}/`,
    `${base}/a/./c.json`,
    `${base}/a/../c.json`,
    `${base}/.`,
    `${base}/..`,
    `${base}/a/..`,
    `${base}/a/%2e/c.json`,
    `${base}/a/%2E%2E/c.json`,
    `${base}/a/.%2e/c.json`,
    `${base}/a/%2e%2E/c.json`,
    `${base}/a/%252e%252e/c.json`,
    `${base}/a/..%2f..%2fetc/passwd`,
    `${base}\\..\\c.json`,
    `https:\\\\${host}\\c.json`,
    `${base}/c.json#`,
    `${base}/c.json#frag`,
    `${base}/c.json?q=1#f`,
    `https://user@${host}/c.json`,
    `https://user:pw@${host}/c.json`,
    `https://:@${host}/c.json`,
    `https://${host}@evil.test/c.json`,
    `https://evil.test\\@${host}/c.json`,
    `${base}/c.json?client_id=x&y`,
    `https://${host}:443/c.json`,
    `https://${host}:8443/c.json`,
    `https://${host}:0/c.json`,
    `https://${host}:65536/c.json`,
    `https://${host}:99999999999/c.json`,
    `https://${host}:-1/c.json`,
    `https://${host}:abc/c.json`,
    `https://${host}:/c.json`,
    // SPEC-NOTES 3: ordinary segments
    `${base}/.well-known/c.json`,
    `${base}/..foo/c.json`,
    // IP literals and alternate notations (SPEC-NOTES 5)
    'https://127.0.0.1/c.json',
    'https://127.1/c.json',
    'https://0x7f000001/c.json',
    'https://2130706433/c.json',
    'https://0177.0.0.1/c.json',
    'https://10.0.0.1/c.json',
    'https://169.254.169.254/latest/meta-data/',
    'https://[::1]/c.json',
    'https://[::ffff:127.0.0.1]/c.json',
    'https://[fe80::1%25eth0]/c.json',
    'https://[64:ff9b::7f00:1]/c.json',
    'https://[::1/c.json',
    'https://0.0.0.0/c.json',
    'https://localhost/c.json',
    'https://localhost./c.json',
    'https://LOCALHOST/c.json',
    // percent-encoding tricks
    `${base}/c%00.json`,
    `${base}/c%2fjson`,
    `${base}/c%5cjson`,
    `${base}/c%ZZ.json`,
    `${base}/c%.json`,
    `${base}/c%e2%80%ae.json`,
    `https://${host.replace('.', '%2e')}/c.json`,
    'https://%63lient.test/c.json',
    // control characters, spaces, bidi and invisible characters
    `${base}/c\u0000.json`,
    `${base}/c\t.json`,
    `${base}/c\n.json`,
    `${base}/c\r\n.json`,
    `${base}/c\u007f.json`,
    `${base}/c .json`,
    ` ${base}/c.json`,
    `${base}/c.json `,
    `${base}/c\u202e.json`,
    `https://${host}\u200b/c.json`,
    `${base}/\ud800.json`,
    // IDN and odd hosts
    'https://xn--e1afmkfd.xn--p1ai/c.json',
    'https://\u0435xample.test/c.json',
    `https://${'a'.repeat(64)}.test/c.json`,
    'https://under_score.test/c.json',
    'https://-dash.test/c.json',
    'https://.test/c.json',
    'https://host..test/c.json',
    // sizes and emptiness
    '',
    ' ',
    'https://',
    'https:///c.json',
    `${base}/${'a'.repeat(9000)}`,
    `${base}/${'a'.repeat(100_000)}`,
    `${base}/${'%2e%2e/'.repeat(2000)}`,
  ];
}

/** Bad bearer tokens (the Authorization header value, or null for none). */
export function tokenTraps(admin: string, key?: string): (string | null)[] {
  const keyId = key ? key.split('_')[1] : '00000000-0000-4000-8000-000000000000';
  return [
    null,
    '',
    'Bearer',
    'Bearer ',
    'bearer',
    `Basic ${Buffer.from(`x:${admin}`).toString('base64')}`,
    `Token ${admin}`,
    `Bearer ${admin}x`,
    `Bearer x${admin}`,
    `Bearer ${admin.slice(0, -1)}`,
    `Bearer ${admin} ${admin}`,
    `Bearer\t${admin}`,
    `Bearer:${admin}`,
    `Bearer ${'a'.repeat(513)}`,
    `Bearer ${'a'.repeat(20_000)}`,
    'Bearer cimd_',
    'Bearer cimd__',
    'Bearer cimd_x_y',
    `Bearer cimd_${keyId}_`,
    `Bearer cimd_${keyId}_${'A'.repeat(43)}`,
    `Bearer cimd_${keyId?.toUpperCase()}_${'A'.repeat(43)}`,
    `Bearer cimd_${'-'.repeat(36)}_${'A'.repeat(43)}`,
    `Bearer cimd_00000000-0000-0000-0000-000000000000_${'A'.repeat(43)}`,
    ...(key ? [`Bearer ${key}x`, `Bearer ${key.slice(0, -1)}`, `Bearer ${key.toUpperCase()}`] : []),
    'Bearer \u00e9t\u00e9',
    'Bearer null',
    'Bearer undefined',
    'Bearer {"kind":"admin"}',
    'Bearer ../../etc/passwd',
  ];
}

/** Strings that are wrong as identifiers (tenant, session, key, logo, event ids). */
export const weirdStrings: string[] = [
  '',
  ' ',
  '.',
  '..',
  '%2e%2e',
  '%2F',
  '%00',
  '%',
  '%ZZ',
  '%C0%AE',
  '%FF%FE',
  'A',
  '-a',
  'a-',
  'a_b',
  'a'.repeat(63),
  'a'.repeat(64),
  'a'.repeat(511),
  'a'.repeat(513),
  'a'.repeat(5000),
  '0',
  '-1',
  '1e3',
  '99999999999999999999',
  'null',
  'undefined',
  '__proto__',
  'constructor',
  "' OR 1=1 --",
  '"; DROP TABLE tenants; --',
  '${jndi:ldap://x}',
  '<script>',
  '------------------------------------',
  '00000000-0000-0000-0000-000000000000',
  'ffffffff-ffff-ffff-ffff-ffffffffffff',
  'FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF',
  '0'.repeat(64),
  'g'.repeat(64),
  'é',
  '%C3%A9',
  '\u{1F600}',
];

/** A valid-shaped client_id on a reserved test host (never resolved on the internet). */
export const arbSafeClientId = (origin: string): fc.Arbitrary<string> =>
  fc.oneof(
    fc.constantFrom(`${origin}/a.json`, `${origin}/b/c.json`),
    fc
      .tuple(
        fc.constantFrom('a.invalid', 'b.test', 'client.example', 'x.y.invalid'),
        fc.array(fc.stringMatching(/^[a-z0-9._~-]{1,12}$/), { minLength: 1, maxLength: 4 }),
      )
      .map(([host, segments]) => `https://${host}/${segments.join('/')}`),
  );

/** Malformed client_ids: the traps, mutations of a good one, and random text. */
export function arbClientId(origin: string): fc.Arbitrary<string> {
  const traps = clientIdTraps(new URL(origin).host);
  return fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...traps) },
    { weight: 2, arbitrary: arbSafeClientId(origin) },
    {
      weight: 3,
      arbitrary: fc
        .tuple(
          fc.constantFrom(`${origin}/`, 'https://', 'http://', 'https://a.invalid/', ''),
          fc.string({
            unit: fc.constantFrom('.', '/', '%', '2', 'e', 'E', '#', '?', '@', ':', '\\', '\u0000', 'a', ' '),
          }),
        )
        .map(([a, b]) => a + b),
    },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }) },
    { weight: 1, arbitrary: fc.webUrl({ withFragments: true, withQueryParameters: true }) },
  );
}

/** Any JSON value, wrong types included, with a bounded depth. */
export const arbJsonValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(null, true, false, 0, -1, 1.5, 1e308, -0, '', [], {}),
  fc.jsonValue({ maxDepth: 3 }),
  fc.string({ unit: 'binary', maxLength: 50 }),
);

/** A nested JSON text `depth` levels deep, in bytes, without building the value. */
export function deepJson(depth: number, kind: 'array' | 'object' = 'array', leaf = '1'): string {
  if (kind === 'array') return `${'['.repeat(depth)}${leaf}${']'.repeat(depth)}`;
  return `${'{"a":'.repeat(depth)}${leaf}${'}'.repeat(depth)}`;
}

/** Bodies that are not JSON, or not the JSON a route wants, as raw bytes. */
export function badBodies(): { name: string; body: Buffer }[] {
  const b = (name: string, body: string | Buffer) => ({
    name,
    body: typeof body === 'string' ? Buffer.from(body) : body,
  });
  return [
    b('empty', ''),
    b('whitespace', '   \n'),
    b('open brace', '{'),
    b('trailing comma', '{"client_id":"x",}'),
    b('single quotes', "{'client_id':'x'}"),
    b('bare word', 'nul'),
    b('NaN', '{"client_id":NaN}'),
    b('number overflow', '{"client_id":1e400}'),
    b('null', 'null'),
    b('true', 'true'),
    b('number', '42'),
    b('string', '"https://client.test/c.json"'),
    b('array', '["client_id"]'),
    b('BOM', '\ufeff{}'),
    b('comment', '{/* x */}'),
    b('proto', '{"__proto__":{"admin":true},"client_id":"x"}'),
    b('constructor', '{"constructor":{"prototype":{"admin":true}}}'),
    b('duplicate keys', '{"client_id":1,"client_id":"https://client.test/c.json","redirect_uri":"x"}'),
    b('lone surrogate', '{"client_id":"https://client.test/\\ud800.json","redirect_uri":"\\udfff"}'),
    b('escaped NUL', '{"client_id":"https://client.test/\\u0000.json","redirect_uri":"https://x/\\u0000"}'),
    b('raw NUL', Buffer.from('{"client_id":"https://client.test/\u0000.json"}')),
    b(
      'non-UTF-8 bytes',
      Buffer.concat([
        Buffer.from('{"client_id":"https://client.test/'),
        Buffer.from([0xff, 0xfe, 0xc0, 0xae, 0x80]),
        Buffer.from('.json","redirect_uri":"https://client.test/'),
        Buffer.from([0xed, 0xa0, 0x80]),
        Buffer.from('"}'),
      ]),
    ),
    b('latin1 key', Buffer.concat([Buffer.from('{"'), Buffer.from([0xe9]), Buffer.from('":1}')])),
    b('UTF-16', Buffer.from('{"client_id":"x"}', 'utf16le')),
    b('deep array 10k', deepJson(10_000)),
    b('deep array 30k', deepJson(30_000)),
    b('deep object 5k', deepJson(5_000, 'object')),
    b('deep in field', `{"client_id":${deepJson(20_000)},"redirect_uri":"x"}`),
    b('wide object', `{${Array.from({ length: 5000 }, (_, i) => `"k${i}":1`).join(',')}}`),
    b('long string 60k', JSON.stringify({ client_id: `https://client.test/${'a'.repeat(60_000)}`, redirect_uri: 'x' })),
    b('just over 64 KiB', JSON.stringify({ client_id: 'a'.repeat(64 * 1024) })),
    b('1 MiB', JSON.stringify({ client_id: 'a'.repeat(1024 * 1024) })),
    b('binary', Buffer.from(Array.from({ length: 256 }, (_, i) => i))),
  ];
}

export const contentTypes: (string | null)[] = [
  null,
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/xml',
  'application/json; charset=latin1',
  'application/json; charset=utf-16',
  'application/jsonx',
  'application/problem+json',
  'application/json, text/plain',
  'APPLICATION/JSON',
  'application/json;;;',
  '*/*',
  '',
  'garbage',
];

/**
 * An authorize check until it allows (the first one fetches; with a short
 * CIMD_AUTHORIZE_WAIT_MS on a busy machine it may answer "pending" first).
 */
export async function warmClient(stack: ProcessStack, tenant: string, clientId: string, token?: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const r = await stack.check(tenant, clientId, token);
    if (r.body?.decision === 'allow') return;
    if (Date.now() > deadline || r.body?.decision === 'deny')
      throw new Error(`${clientId} not allowed for ${tenant}: ${r.status} ${JSON.stringify(r.body)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

// ---------------------------------------------------------------------------------------------
// Sending anything
// ---------------------------------------------------------------------------------------------

export interface RawRequest {
  method: string;
  path: string;
  /** The Authorization header's whole value; null: none. */
  authorization?: string | null;
  contentType?: string | null;
  body?: Buffer | string;
  headers?: Record<string, string>;
}

export interface RawResponse {
  status: number;
  /** The method of the request (a HEAD answer has no body). */
  method?: string;
  contentType: string;
  text: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
  /** Why there was no answer (status 0). */
  failure?: string;
  /** Bytes after the first answer on a connection that carried one request (a second answer). */
  trailing?: string;
}

const agent = new Agent({ keepAlive: true, maxSockets: 8 });

export function closeAgent(): void {
  agent.destroy();
}

function parseBody(text: string): unknown {
  try {
    return text === '' ? undefined : JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * One HTTP/1.1 request with any bytes: through node:http when it accepts the path and headers,
 * otherwise written by hand on a socket (control characters in the path or a header, duplicated
 * headers). Never rejects: no answer is status 0 with the reason.
 */
export async function send(port: number, r: RawRequest, timeoutMs = 15_000, retry = true): Promise<RawResponse> {
  const headers: Record<string, string> = { ...(r.headers ?? {}) };
  if (r.authorization !== undefined && r.authorization !== null) headers.authorization = r.authorization;
  if (r.contentType !== undefined && r.contentType !== null) headers['content-type'] = r.contentType;
  const body = r.body === undefined ? undefined : Buffer.isBuffer(r.body) ? r.body : Buffer.from(r.body);
  if (body !== undefined) headers['content-length'] = String(body.length);
  const printable = (s: string) => /^[\x21-\xff]*$/.test(s);
  const headerSafe = (s: string) => /^[\t\x20-\x7e\x80-\xff]*$/.test(s);
  if (!printable(r.path) || !Object.values(headers).every(headerSafe)) {
    return sendRaw(port, r.method, r.path, headers, body, timeoutMs);
  }
  return new Promise<RawResponse>((resolve) => {
    let settled = false;
    const done = (res: RawResponse) => {
      if (!settled) {
        settled = true;
        resolve(res);
      }
    };
    let req;
    try {
      req = httpRequest({ host: '127.0.0.1', port, method: r.method, path: r.path, headers, agent });
    } catch (e) {
      void sendRaw(port, r.method, r.path, headers, body, timeoutMs).then(done);
      void e;
      return;
    }
    req.setTimeout(timeoutMs, () => {
      req.destroy(new Error('timeout'));
    });
    req.on('error', (e: Error & { code?: string }) => {
      // A kept-alive connection the server closed meanwhile: what any client does is ask again.
      if (req.reusedSocket && e.code === 'ECONNRESET' && !settled && retry) {
        void send(port, r, timeoutMs, false).then(done);
        return;
      }
      done({ status: 0, contentType: '', text: '', body: undefined, failure: e.code ?? e.message });
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', (e: Error) =>
        done({ status: 0, contentType: '', text: '', body: undefined, failure: `response: ${e.message}` }),
      );
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        done({
          status: res.statusCode ?? 0,
          contentType: String(res.headers['content-type'] ?? ''),
          text,
          body: parseBody(text),
        });
      });
    });
    req.end(body);
  });
}

/** A request written byte for byte on a new connection; the first answer is parsed. */
export function sendRaw(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string>,
  body: Buffer | undefined,
  timeoutMs = 15_000,
  extraHeaderLines: string[] = [],
): Promise<RawResponse> {
  const head = [
    `${method} ${path} HTTP/1.1`,
    'host: 127.0.0.1',
    'connection: close',
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
    ...extraHeaderLines,
    '',
    '',
  ].join('\r\n');
  // Characters up to U+00FF go out as single bytes (to send non-UTF-8), anything else as UTF-8.
  // eslint-disable-next-line no-control-regex
  const encoding = /^[\x00-\xff]*$/.test(head) ? 'latin1' : 'utf8';
  const bytes = Buffer.concat([Buffer.from(head, encoding), body ?? Buffer.alloc(0)]);
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const socket = connect(port, '127.0.0.1');
    let settled = false;
    const finish = (failure?: string) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      const all = Buffer.concat(chunks);
      const end = all.indexOf('\r\n\r\n');
      if (end < 0) {
        resolve({ status: 0, contentType: '', text: '', body: undefined, failure: failure ?? 'no answer' });
        return;
      }
      const head = all.subarray(0, end).toString('latin1').split('\r\n');
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head[0] ?? '')?.[1] ?? 0);
      const header = (name: string) =>
        head
          .slice(1)
          .find((l) => l.toLowerCase().startsWith(`${name}:`))
          ?.slice(name.length + 1)
          .trim();
      let rest: Buffer = all.subarray(end + 4);
      const length = header('content-length');
      if (length !== undefined) rest = rest.subarray(0, Number(length));
      else if (/chunked/i.test(header('transfer-encoding') ?? '')) rest = dechunk(rest);
      const text = rest.toString('utf8');
      const after = length !== undefined ? all.subarray(end + 4 + Number(length)).toString('latin1') : '';
      resolve({
        status,
        contentType: header('content-type') ?? '',
        text,
        body: parseBody(text),
        ...(after !== '' ? { trailing: after.slice(0, 200) } : {}),
      });
    };
    socket.setTimeout(timeoutMs, () => finish('timeout'));
    socket.on('data', (c: Buffer) => chunks.push(c));
    // A write error (the server answered and closed before the whole upload) ends the socket:
    // what arrived before it is still the answer.
    let failure: string | undefined;
    socket.on('error', (e: Error & { code?: string }) => {
      failure = e.code ?? e.message;
    });
    socket.on('end', () => finish());
    socket.on('close', () => finish(failure));
    socket.on('connect', () => socket.write(bytes));
  });
}

function dechunk(data: Buffer): Buffer {
  const out: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = data.indexOf('\r\n', at);
    if (eol < 0) break;
    const size = parseInt(data.subarray(at, eol).toString('latin1'), 16);
    if (!Number.isFinite(size) || size <= 0) break;
    out.push(data.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
  return Buffer.concat(out);
}

// ---------------------------------------------------------------------------------------------
// Judging answers
// ---------------------------------------------------------------------------------------------

/** OAuth-style error codes the gateway uses, and the HTTP statuses each may come with. */
const ERROR_STATUSES: Record<string, number[]> = {
  invalid_request: [400, 405, 408, 411, 413, 414, 415, 431],
  invalid_token: [401],
  access_denied: [403],
  not_found: [404],
  conflict: [409],
};

/**
 * Whether a description is something a person can act on: a non-empty sentence, printable, not
 * an internal (a stack frame, `[object Object]`, `undefined`), not a wall of echoed input.
 */
export function unreadable(description: unknown): string | undefined {
  if (typeof description !== 'string') return `error_description is ${typeof description}`;
  const d = description.trim();
  if (d.length < 8) return `error_description too short: ${JSON.stringify(description)}`;
  if (description.length > 2048) return `error_description is ${description.length} characters long`;
  if (!/[a-z]{3,}/i.test(d)) return `error_description has no words: ${JSON.stringify(d.slice(0, 80))}`;
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]/.test(description))
    return `error_description has control or invisible characters: ${JSON.stringify(d.slice(0, 120))}`;
  if (/\n\s+at |at .+\(.+:\d+:\d+\)|node_modules|\/dist\/|\.js:\d+/.test(description))
    return `error_description shows internals: ${JSON.stringify(d.slice(0, 120))}`;
  if (/\[object Object\]/.test(description))
    return `error_description is not a sentence: ${JSON.stringify(d.slice(0, 120))}`;
  return undefined;
}

/**
 * What is wrong with an answer to bad input, or undefined when it is fine: no answer, a 5xx, a
 * refusal that is not `{error, error_description}` JSON with a matching status, an unreadable
 * description. 2xx answers are accepted (bad-looking input may be valid, e.g. a query string)
 * but must be JSON; `allow2xx: false` requires a refusal.
 */
export function judgeHttp(r: RawResponse, options: { allow2xx?: boolean } = {}): string | undefined {
  if (r.status === 0) return `no answer (${r.failure})`;
  if (r.status >= 500) return `${r.status} ${r.text.slice(0, 200)}`;
  if (r.trailing) return `${r.status}, then more on the same connection: ${JSON.stringify(r.trailing)}`;
  if (r.method === 'HEAD' && r.status >= 400 && r.status < 500 && r.text === '') return undefined; // no body, by definition
  if (r.status < 400) {
    if (options.allow2xx === false) return `accepted with ${r.status}: ${r.text.slice(0, 200)}`;
    return undefined;
  }
  if (!/^application\/json/i.test(r.contentType))
    return `${r.status} with content-type ${JSON.stringify(r.contentType)}: ${r.text.slice(0, 120)}`;
  const body = r.body as { error?: unknown; error_description?: unknown } | undefined;
  if (!body || typeof body !== 'object') return `${r.status} body is not a JSON object: ${r.text.slice(0, 120)}`;
  const keys = Object.keys(body).sort().join(',');
  if (keys !== 'error,error_description') return `${r.status} body has keys ${keys}: ${r.text.slice(0, 160)}`;
  if (typeof body.error !== 'string' || !ERROR_STATUSES[body.error])
    return `${r.status} with unknown error ${JSON.stringify(body.error)}`;
  if (!ERROR_STATUSES[body.error]?.includes(r.status)) return `${r.status} with error ${body.error}`;
  const why = unreadable(body.error_description);
  return why ? `${r.status} ${body.error}: ${why}` : undefined;
}

/** Counts of one fuzz test, and its problems (deduplicated by route and kind). */
export class Tally {
  tried = 0;
  passed = 0;
  fivexx = 0;
  readonly problems = new Map<string, string>();

  add(route: string, input: string, problem: string | undefined, status?: number | string): void {
    this.tried++;
    if (typeof status === 'number' && status >= 500) this.fivexx++;
    if (!problem) {
      this.passed++;
      return;
    }
    const kind = `${route}: ${problem.replace(/\d{2,}/g, 'N').slice(0, 100)}`;
    if (!this.problems.has(kind)) this.problems.set(kind, `${route} ← ${input.slice(0, 160)} → ${problem}`);
  }

  /** The problems found, from the `since`-th on (a test's own: `list(sizeBefore)`). */
  list(since = 0): string[] {
    return [...this.problems.values()].slice(since);
  }
}

/**
 * Percent-encoding of any string, byte by byte, that never throws: an unpaired surrogate goes
 * out as the bytes ED A0 80 (not UTF-8), which is one more trap for the server.
 */
export function percentEncode(s: string): string {
  return [...s]
    .map((ch) => {
      if (/^[A-Za-z0-9\-._~]$/.test(ch)) return ch;
      if (/^[\uD800-\uDFFF]$/.test(ch)) return '%ED%A0%80';
      return encodeURIComponent(ch);
    })
    .join('');
}

/** A short printable rendering of any input, for a problem's report. */
export function show(value: unknown): string {
  const text = Buffer.isBuffer(value) ? `<${value.length} bytes> ${value.toString('latin1')}` : JSON.stringify(value);
  return (text ?? String(value)).slice(0, 160);
}
