import { AddressAllowList, checkAddress, RuleCode } from '@cimd/core';
import { isIP } from 'node:net';
import { rootCertificates } from 'node:tls';
import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib';
import { Agent, Dispatcher } from 'undici';
import { BlockedAddressError, pinnedConnector } from './pinned-connector';
import { DEFAULT_SAFE_FETCH_OPTIONS, SafeFetchOptions } from './safe-fetch-options';

export type HttpHeaders = Record<string, string | string[] | undefined>;

/** Why a fetch produced no usable HTTP response. */
export interface FetchFailure {
  kind: 'failure';
  outcome: 'blocked' | 'transient' | 'too_large' | 'bad_content_type';
  code: RuleCode;
  message: string;
  /** Seconds the server asked us to wait (429/503 Retry-After). */
  retryAfterSeconds?: number;
}

export interface FetchedResponse {
  kind: 'response';
  status: number;
  headers: HttpHeaders;
  /** The decoded body, read only for 200 responses; at most `maxBytes`. */
  body: Buffer;
}

export interface GetOptions {
  accept: string;
  headers?: Record<string, string>;
  maxBytes?: number;
}

export interface PostOptions extends GetOptions {
  body: string;
}

/**
 * The only way the fetcher touches a URL an attacker chose: https only, allowed ports only,
 * pinned and checked addresses, no redirects, no proxies, one deadline, and a size cap on
 * the wire and after decoding.
 */
export class SafeFetcher {
  readonly options: SafeFetchOptions;
  private readonly agent: Dispatcher;
  private readonly allow: AddressAllowList;

  constructor(options: Partial<SafeFetchOptions> = {}) {
    this.options = { ...DEFAULT_SAFE_FETCH_OPTIONS, ...options };
    const o = this.options;
    if (!(o.maxBytes > 0) || !(o.timeoutMs > 0)) throw new RangeError('maxBytes and timeoutMs must be positive');
    this.allow = new AddressAllowList(o.allowCidrs);
    const connectorOptions = {
      allow: this.allow,
      resolve: o.resolve,
      timeoutMs: o.timeoutMs,
      ...(o.extraCa ? { ca: [...rootCertificates, o.extraCa] } : {}),
      ...(o.resolver ? { resolver: o.resolver } : {}),
    };
    this.agent = new Agent({
      connect: pinnedConnector(connectorOptions),
      headersTimeout: o.timeoutMs,
      bodyTimeout: o.timeoutMs,
      // Fetches go to many origins, rarely twice to one within seconds: keep few idle sockets,
      // whatever a server's `Keep-Alive: timeout=` asks for (undici would honour up to 10 min).
      keepAliveTimeout: 1000,
      keepAliveMaxTimeout: 1000,
      connections: 4,
    });
  }

  async get(rawUrl: string, get: GetOptions): Promise<FetchedResponse | FetchFailure> {
    return this.send('GET', rawUrl, get);
  }

  /**
   * POST with the same guards (webhooks). Only the status matters: the response body is
   * never read. Like GET, the request is never redirected.
   */
  async post(rawUrl: string, post: PostOptions): Promise<FetchedResponse | FetchFailure> {
    return this.send('POST', rawUrl, post);
  }

  private async send(
    method: 'GET' | 'POST',
    rawUrl: string,
    get: GetOptions & { body?: string },
  ): Promise<FetchedResponse | FetchFailure> {
    const maxBytes = get.maxBytes ?? this.options.maxBytes;
    let url: URL;
    try {
      url = new URL(rawUrl);
    } catch {
      return failure('blocked', 'fetch.blocked_address', `${JSON.stringify(rawUrl)} is not a URL`);
    }
    if (url.protocol !== 'https:') {
      return failure('blocked', 'fetch.blocked_address', `only https URLs are fetched, not ${url.protocol}`);
    }
    if (url.username || url.password) {
      return failure('blocked', 'fetch.blocked_address', 'URLs with credentials are never fetched');
    }
    const port = url.port === '' ? 443 : Number(url.port);
    if (!this.options.allowedPorts.includes(port)) {
      return failure(
        'blocked',
        'fetch.port_not_allowed',
        `port ${port} is not allowed; documents are fetched only from port${this.options.allowedPorts.length > 1 ? 's' : ''} ${this.options.allowedPorts.join(', ')}`,
      );
    }

    // IP-literal hosts never reach the resolver: check them before anything is sent.
    const literal = url.hostname.replace(/^\[|\]$/g, '');
    if (isIP(literal)) {
      const verdict = checkAddress(literal, this.allow);
      if (verdict.blocked) return failure('blocked', 'fetch.blocked_address', verdict.reason);
    }

    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(new DeadlineError(this.options.timeoutMs)), this.options.timeoutMs);
    try {
      const res = await beforeDeadline(
        this.agent.request({
          origin: url.origin,
          path: `${url.pathname}${url.search}`,
          method,
          ...(get.body !== undefined ? { body: get.body } : {}),
          headers: {
            accept: get.accept,
            'accept-encoding': 'identity',
            'user-agent': this.options.userAgent,
            ...get.headers,
          },
          signal: deadline.signal,
        }),
        deadline.signal,
      );
      if (res.statusCode !== 200 || method === 'POST') {
        // Nothing but a 200 is read: drop the connection rather than drain a body that may never end.
        res.body.on('error', () => undefined).destroy();
        return { kind: 'response', status: res.statusCode, headers: res.headers, body: Buffer.alloc(0) };
      }
      const declared = Number(headerValue(res.headers['content-length']));
      if (Number.isFinite(declared) && declared > maxBytes) {
        // destroy() makes undici emit RequestAbortedError on the body; unhandled, it is an
        // uncaught exception that ends the process.
        res.body.on('error', () => undefined).destroy();
        return tooLarge(`the response declares ${declared} bytes (Content-Length); the limit is ${maxBytes}`);
      }
      const wire = await readCapped(res.body, maxBytes);
      if (wire === undefined) return tooLarge(`the response body is larger than ${maxBytes} bytes`);
      const decoded = decode(headerValue(res.headers['content-encoding']), wire, maxBytes);
      if (decoded.kind === 'failure') return decoded;
      return { kind: 'response', status: res.statusCode, headers: res.headers, body: decoded.body };
    } catch (e) {
      return classifyError(e, deadline.signal, this.options.timeoutMs);
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}

class DeadlineError extends Error {
  constructor(ms: number) {
    super(`no complete response within ${ms} ms`);
    this.name = 'DeadlineError';
  }
}

/**
 * The deadline ends the wait for the response head, whatever undici is doing: a request still
 * waiting for its connection (a TLS handshake that stalls) is not ended by its abort signal, only
 * by the connector's own timeout, which undici's coarse timers fire about 500 ms late: measured,
 * a 2 s deadline ended after 2.5 s. A response that arrives after the deadline is dropped.
 */
function beforeDeadline(
  pending: Promise<Dispatcher.ResponseData>,
  signal: AbortSignal,
): Promise<Dispatcher.ResponseData> {
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      reject(signal.reason as Error);
      pending.then(
        (late) => late.body.on('error', () => undefined).destroy(),
        () => undefined,
      );
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    pending.then(
      (res) => {
        signal.removeEventListener('abort', onAbort);
        resolve(res);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        // As it is: the classification reads its code and cause (and `instanceof Error` fails
        // for errors of another realm, such as Node's own under Jest).
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
        reject(err);
      },
    );
  });
}

async function readCapped(
  body: AsyncIterable<Buffer> & { destroy(): void },
  maxBytes: number,
): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of body) {
    total += chunk.length;
    if (total > maxBytes) {
      body.destroy();
      return undefined;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, total);
}

function decode(
  encoding: string | undefined,
  wire: Buffer,
  maxBytes: number,
): { kind: 'ok'; body: Buffer } | FetchFailure {
  const e = (encoding ?? 'identity').trim().toLowerCase();
  if (e === 'identity' || e === '') return { kind: 'ok', body: wire };
  const decoders: Record<string, (b: Buffer) => Buffer> = {
    gzip: (b) => gunzipSync(b, { maxOutputLength: maxBytes }),
    'x-gzip': (b) => gunzipSync(b, { maxOutputLength: maxBytes }),
    deflate: (b) => inflateSync(b, { maxOutputLength: maxBytes }),
    br: (b) => brotliDecompressSync(b, { maxOutputLength: maxBytes }),
  };
  const decoder = decoders[e];
  if (!decoder) {
    return failure(
      'bad_content_type',
      'fetch.unsupported_content_encoding',
      `Content-Encoding ${JSON.stringify(e)} is not supported`,
    );
  }
  try {
    // We asked for identity; a server that compresses anyway is decoded, capped on the decoded size.
    return { kind: 'ok', body: decoder(wire) };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError) {
      return tooLarge(`the ${e}-encoded body decodes to more than ${maxBytes} bytes`);
    }
    return failure('bad_content_type', 'fetch.unsupported_content_encoding', `the ${e}-encoded body is corrupt`);
  }
}

const TLS_CODES = /^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_|HOSTNAME_MISMATCH|ERR_OSSL)/;
const CONNECT_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'ECONNABORTED',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
]);
const DNS_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NONAME', 'ENODATA']);
const TIMEOUT_CODES = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ETIMEDOUT',
]);

function classifyError(e: unknown, signal: AbortSignal, timeoutMs: number): FetchFailure {
  for (let err: unknown = e, depth = 0; err && depth < 5; err = (err as { cause?: unknown }).cause, depth++) {
    if (err instanceof BlockedAddressError) return failure('blocked', 'fetch.blocked_address', err.message);
  }
  if (signal.aborted) return failure('transient', 'fetch.timeout', `no complete response within ${timeoutMs} ms`);
  const code = errorCode(e);
  const message = (e as Error)?.message ?? String(e);
  if (TIMEOUT_CODES.has(code)) return failure('transient', 'fetch.timeout', `${message} (deadline ${timeoutMs} ms)`);
  if (DNS_CODES.has(code)) return failure('transient', 'fetch.dns_failed', `the host name did not resolve (${code})`);
  if (TLS_CODES.test(code) || /certificate|TLS|SSL|handshake/i.test(message)) {
    return failure('transient', 'fetch.tls_failed', `TLS failed: ${message}`);
  }
  if (CONNECT_CODES.has(code))
    return failure('transient', 'fetch.connect_failed', `connection failed: ${message} (${code})`);
  return failure('transient', 'fetch.connect_failed', `the request failed: ${message}${code ? ` (${code})` : ''}`);
}

function errorCode(e: unknown): string {
  for (let err: unknown = e, depth = 0; err && depth < 5; err = (err as { cause?: unknown }).cause, depth++) {
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && code !== 'UND_ERR') return code;
  }
  return '';
}

export function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v.join(', ') : v;
}

function tooLarge(message: string): FetchFailure {
  return failure('too_large', 'fetch.too_large', message);
}

function failure(outcome: FetchFailure['outcome'], code: RuleCode, message: string): FetchFailure {
  return { kind: 'failure', outcome, code, message };
}
