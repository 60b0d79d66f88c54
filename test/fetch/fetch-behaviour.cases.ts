import { FetchOutcome, FetchOutcomeKind, RuleCode, Validators } from '@cimd/core';

import type { OriginHandler } from '@cimd/testing';
import type { OutgoingHttpHeaders } from 'node:http';
import { brotliCompressSync, gzipSync } from 'node:zlib';

/**
 * How the fetcher judges what an origin answers (SPEC-NOTES 4-8, 14-15): one row per
 * behaviour, each served by a real HTTPS origin on its own path (fetch-behaviour.test.ts).
 */
export interface FetchBehaviourCase {
  /** SPEC-NOTES item number(s) like '4' or '6, 15', or 'RFC 9110 §…'. */
  rule: string;
  name: string;
  /** Serves the case; gets the client_id URL the fetcher will request so documents can echo it. */
  serve: (clientId: string) => OriginHandler;
  outcome: FetchOutcomeKind;
  /** Codes expected in outcome.errors (exact, in order); [] for outcomes without errors. */
  errors: RuleCode[];
  /** Codes that must be among the warnings. */
  warnings?: RuleCode[];
  /** When set, the fetch is conditional (If-None-Match / If-Modified-Since). */
  validators?: Validators;
  /** Further assertions on the outcome. */
  check?: (outcome: FetchOutcome, clientId: string) => void;
}

/** The size cap every row runs under (DEFAULT_MAX_DOCUMENT_BYTES, SPEC-NOTES 6). */
export const MAX_BYTES = 5120;

/** The default document: valid, public client, echoing the URL it is served at. */
export function documentFor(clientId: string, change: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    client_id: clientId,
    client_name: 'Test',
    redirect_uris: ['https://client.test/cb'],
    token_endpoint_auth_method: 'none',
    ...change,
  };
}

const docBytes = (clientId: string, change: Record<string, unknown> = {}): Buffer =>
  Buffer.from(JSON.stringify(documentFor(clientId, change)), 'utf8');

/** Serve `body` with `status` and exactly `headers` (no content type unless given). */
const raw =
  (status: number, headers: OutgoingHttpHeaders, body: (clientId: string) => Buffer | string = () => '') =>
  (clientId: string): OriginHandler =>
  (_req, res) => {
    res.writeHead(status, headers).end(body(clientId));
  };

/** Serve the default document (optionally changed) as JSON with extra headers. */
const doc = (headers: OutgoingHttpHeaders = {}, change: Record<string, unknown> = {}) =>
  raw(200, { 'content-type': 'application/json', ...headers }, (id) => docBytes(id, change));

/** Serve a fixed status with a small body and the given headers. */
const status = (code: number, headers: OutgoingHttpHeaders = {}) =>
  raw(code, { 'content-type': 'text/plain', ...headers }, () => (code === 204 || code === 304 ? '' : `status ${code}`));

/** A padded valid document of about `size` bytes (unknown properties are tolerated, SPEC-NOTES 13). */
const paddedDoc = (clientId: string, size: number): Buffer => docBytes(clientId, { padding: 'x'.repeat(size) });

/**
 * A gzip bomb small enough on the wire to pass the size cap: 2 MB of spaces (valid JSON
 * whitespace) compresses to about 2 KB. Only the cap on the decoded size stops it.
 */
export const SMALL_GZIP_BOMB = gzipSync(Buffer.alloc(2 * 1024 * 1024, ' '));
/** The classic bomb: 10 MB of spaces, about 10 KB compressed, so the wire cap stops it first. */
export const LARGE_GZIP_BOMB = gzipSync(Buffer.alloc(10 * 1024 * 1024, ' '));

const assertOutcome = <K extends FetchOutcomeKind>(o: FetchOutcome, kind: K): Extract<FetchOutcome, { outcome: K }> => {
  if (o.outcome !== kind) throw new Error(`expected outcome ${kind}, got ${o.outcome}`);
  return o as Extract<FetchOutcome, { outcome: K }>;
};

const expectRedirectTo = (location: string) => (o: FetchOutcome) => {
  const r = assertOutcome(o, 'redirect');
  expect(r.location).toBe(location);
  expect(r.errors[0]?.message).toContain(location);
};

const expectStatus = (code: number) => (o: FetchOutcome) => {
  expect((o as { status?: number }).status).toBe(code);
};

export const FETCH_BEHAVIOUR_CASES: FetchBehaviourCase[] = [
  // Success and media types (SPEC-NOTES 4)
  {
    rule: '4',
    name: '200 with a valid document as application/json',
    serve: doc(),
    outcome: 'ok',
    errors: [],
    check: (o, clientId) => {
      const ok = assertOutcome(o, 'ok');
      expect(ok.document.client_id).toBe(clientId);
      expect(ok.warnings).toEqual([]);
      expect(ok.bytes).toBe(docBytes(clientId).length);
    },
  },
  {
    rule: '4',
    name: 'application/ld+json is a JSON media type',
    serve: doc({ 'content-type': 'application/ld+json' }),
    outcome: 'ok',
    errors: [],
  },
  {
    rule: '4',
    name: 'application/vnd.x+json; charset=utf-8 is a JSON media type',
    serve: doc({ 'content-type': 'application/vnd.x+json; charset=utf-8' }),
    outcome: 'ok',
    errors: [],
  },
  {
    rule: '4',
    name: 'media type compared case-insensitively (Application/JSON)',
    serve: doc({ 'content-type': 'Application/JSON' }),
    outcome: 'ok',
    errors: [],
  },
  {
    rule: '4',
    name: 'text/plain that parses as JSON is accepted with a warning (raw.githubusercontent.com serves so)',
    serve: doc({ 'content-type': 'text/plain; charset=utf-8' }),
    outcome: 'ok',
    errors: [],
    warnings: ['fetch.text_plain'],
  },
  {
    rule: '4',
    name: 'text/html is refused',
    serve: doc({ 'content-type': 'text/html' }),
    outcome: 'bad_content_type',
    errors: ['fetch.bad_content_type'],
  },
  {
    rule: '4',
    name: 'no content type is refused',
    serve: raw(200, {}, (id) => docBytes(id)),
    outcome: 'bad_content_type',
    errors: ['fetch.bad_content_type'],
  },
  {
    rule: '4',
    name: 'application/jsonp is not JSON',
    serve: doc({ 'content-type': 'application/jsonp' }),
    outcome: 'bad_content_type',
    errors: ['fetch.bad_content_type'],
  },

  // Statuses (SPEC-NOTES 4, 8)
  {
    rule: '4',
    name: '404 means the client is gone',
    serve: status(404),
    outcome: 'gone',
    errors: ['fetch.gone'],
    check: expectStatus(404),
  },
  {
    rule: '4',
    name: '410 means the client is gone',
    serve: status(410),
    outcome: 'gone',
    errors: ['fetch.gone'],
    check: expectStatus(410),
  },
  {
    rule: '4, 8',
    name: '500 is transient',
    serve: status(500),
    outcome: 'transient',
    errors: ['fetch.server_error'],
    check: expectStatus(500),
  },
  { rule: '4, 8', name: '502 is transient', serve: status(502), outcome: 'transient', errors: ['fetch.server_error'] },
  {
    rule: '4, 8',
    name: '503 without Retry-After is transient with no retry hint',
    serve: status(503),
    outcome: 'transient',
    errors: ['fetch.server_error'],
    check: (o) => expect(assertOutcome(o, 'transient').retryAfterSeconds).toBeUndefined(),
  },
  {
    rule: 'RFC 9110 §10.2.3',
    name: '503 with Retry-After: 120 reports retryAfterSeconds 120',
    serve: status(503, { 'retry-after': '120' }),
    outcome: 'transient',
    errors: ['fetch.server_error'],
    check: (o) => expect(assertOutcome(o, 'transient').retryAfterSeconds).toBe(120),
  },
  {
    rule: '4, 8',
    name: '429 with Retry-After is rate limiting',
    serve: status(429, { 'retry-after': '30' }),
    outcome: 'transient',
    errors: ['fetch.rate_limited'],
    check: (o) => {
      expect(assertOutcome(o, 'transient').retryAfterSeconds).toBe(30);
      expectStatus(429)(o);
    },
  },
  {
    rule: 'RFC 9110 §10.2.3',
    name: '429 with an HTTP-date Retry-After is converted to seconds',
    serve: status(429, { 'retry-after': new Date(Date.now() + 3_600_000).toUTCString() }),
    outcome: 'transient',
    errors: ['fetch.rate_limited'],
    check: (o) => {
      // The date was fixed when the table was built; allow for the time the run takes.
      const s = assertOutcome(o, 'transient').retryAfterSeconds;
      expect(s).toBeGreaterThan(3_000);
      expect(s).toBeLessThanOrEqual(3_601);
    },
  },
  { rule: '7', name: '408 is a timeout', serve: status(408), outcome: 'transient', errors: ['fetch.timeout'] },
  {
    rule: '4',
    name: '201 is not a document',
    serve: status(201),
    outcome: 'invalid',
    errors: ['fetch.unexpected_status'],
    check: expectStatus(201),
  },
  {
    rule: '4',
    name: '204 is not a document',
    serve: status(204),
    outcome: 'invalid',
    errors: ['fetch.unexpected_status'],
    check: expectStatus(204),
  },
  {
    rule: '4',
    name: '403 is not a document',
    serve: status(403),
    outcome: 'invalid',
    errors: ['fetch.unexpected_status'],
    check: expectStatus(403),
  },
  {
    rule: '4',
    name: '203 with a valid document is still not a 200',
    serve: raw(203, { 'content-type': 'application/json' }, (id) => docBytes(id)),
    outcome: 'invalid',
    errors: ['fetch.unexpected_status'],
  },

  // Redirects are not followed (SPEC-NOTES 4)
  ...[301, 302, 307, 308].map((code): FetchBehaviourCase => ({
    rule: '4',
    name: `${code} with Location is reported, not followed`,
    serve: status(code, { location: 'https://elsewhere.test/moved.json' }),
    outcome: 'redirect',
    errors: ['fetch.redirect'],
    check: (o) => {
      expectRedirectTo('https://elsewhere.test/moved.json')(o);
      expectStatus(code)(o);
    },
  })),
  {
    rule: '4',
    name: '300 without Location is a redirect status all the same',
    serve: status(300),
    outcome: 'redirect',
    errors: ['fetch.redirect'],
    check: (o) => expect(assertOutcome(o, 'redirect').location).toBeUndefined(),
  },

  // Size cap (SPEC-NOTES 6)
  {
    rule: '6',
    name: 'a body of exactly the cap is read',
    serve: (id) => {
      const base = paddedDoc(id, 0).length;
      return raw(200, { 'content-type': 'application/json' }, () => paddedDoc(id, MAX_BYTES - base))(id);
    },
    outcome: 'ok',
    errors: [],
    check: (o) => expect(assertOutcome(o, 'ok').bytes).toBe(MAX_BYTES),
  },
  {
    rule: '6, 15',
    name: 'a body over the cap with Content-Length is refused',
    serve: (id) => (_req, res) => {
      const body = paddedDoc(id, MAX_BYTES);
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length }).end(body);
    },
    outcome: 'too_large',
    errors: ['fetch.too_large'],
  },
  {
    rule: '6, 15',
    name: 'a chunked body over the cap (no Content-Length) is refused while streaming',
    serve: (id) => (_req, res) => {
      const body = paddedDoc(id, MAX_BYTES);
      res.writeHead(200, { 'content-type': 'application/json' });
      for (let i = 0; i < body.length; i += 1000) res.write(body.subarray(i, i + 1000));
      res.end();
    },
    outcome: 'too_large',
    errors: ['fetch.too_large'],
  },
  {
    rule: '6',
    name: 'a Content-Length of 100000 is refused on the header, before the body',
    serve: () => (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': 100_000 });
      res.write('{"client_id":');
      // Never finished: the verdict must come from the header alone.
    },
    outcome: 'too_large',
    errors: ['fetch.too_large'],
    check: (o) => expect(o.outcome === 'too_large' && o.errors[0]?.message).toContain('100000'),
  },
  {
    rule: '6',
    name: 'a Content-Length smaller than the body: only the declared bytes are read',
    serve: (id) => (_req, res) => {
      const json = JSON.stringify(documentFor(id));
      res.socket?.end(
        `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 10\r\n\r\n${json}${' '.repeat(MAX_BYTES)}`,
      );
    },
    outcome: 'invalid',
    errors: ['document.not_json'],
  },
  {
    rule: '8',
    name: 'a Content-Length larger than the body, then the connection closes',
    serve: (id) => (_req, res) => {
      const body = docBytes(id);
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length + 500 });
      res.write(body, () => res.socket?.destroy());
    },
    outcome: 'transient',
    errors: ['fetch.connect_failed'],
  },

  // Content codings (SPEC-NOTES 6): asked for identity, decoded if sent anyway, capped decoded
  {
    rule: '6',
    name: 'a gzip-encoded valid document is decoded',
    serve: raw(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' }, (id) => gzipSync(docBytes(id))),
    outcome: 'ok',
    errors: [],
    check: (o, clientId) => expect(assertOutcome(o, 'ok').bytes).toBe(docBytes(clientId).length),
  },
  {
    rule: '6',
    name: 'a br-encoded valid document is decoded',
    serve: raw(200, { 'content-type': 'application/json', 'content-encoding': 'br' }, (id) =>
      brotliCompressSync(docBytes(id)),
    ),
    outcome: 'ok',
    errors: [],
  },
  {
    rule: '6',
    name: 'a gzip bomb of 10 MB (about 10 KB compressed) is refused',
    serve: raw(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' }, () => LARGE_GZIP_BOMB),
    outcome: 'too_large',
    errors: ['fetch.too_large'],
  },
  {
    rule: '6',
    name: 'a gzip bomb under the cap on the wire is refused on its decoded size',
    serve: raw(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' }, () => SMALL_GZIP_BOMB),
    outcome: 'too_large',
    errors: ['fetch.too_large'],
    check: (o) => expect(o.outcome === 'too_large' && o.errors[0]?.message).toMatch(/decodes to more than/),
  },
  {
    rule: '6',
    name: 'Content-Encoding: compress is not supported',
    serve: raw(200, { 'content-type': 'application/json', 'content-encoding': 'compress' }, (id) => docBytes(id)),
    outcome: 'bad_content_type',
    errors: ['fetch.unsupported_content_encoding'],
  },
  {
    rule: '6',
    name: 'a corrupt gzip body is refused',
    serve: raw(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' }, (id) =>
      gzipSync(docBytes(id)).subarray(0, 20),
    ),
    outcome: 'bad_content_type',
    errors: ['fetch.unsupported_content_encoding'],
  },

  // Body is JSON, UTF-8, an object (SPEC-NOTES 9, 15)
  {
    rule: '9, 15',
    name: 'malformed JSON',
    serve: raw(200, { 'content-type': 'application/json' }, () => '{"client_id": '),
    outcome: 'invalid',
    errors: ['document.not_json'],
  },
  {
    rule: '9',
    name: 'a JSON array is not a document',
    serve: raw(200, { 'content-type': 'application/json' }, (id) => JSON.stringify([documentFor(id)])),
    outcome: 'invalid',
    errors: ['document.not_object'],
  },
  {
    rule: '9',
    name: 'invalid UTF-8 bytes are not JSON text',
    serve: raw(200, { 'content-type': 'application/json' }, (id) =>
      Buffer.concat([
        Buffer.from(JSON.stringify(documentFor(id)).slice(0, -1) + ',"x":"'),
        Buffer.from([0xc3, 0x28]),
        Buffer.from('"}'),
      ]),
    ),
    outcome: 'invalid',
    errors: ['document.not_json'],
  },
  {
    rule: 'RFC 8259 §8.1',
    name: 'a UTF-8 byte order mark before the JSON is tolerated',
    serve: raw(200, { 'content-type': 'application/json' }, (id) =>
      Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), docBytes(id)]),
    ),
    outcome: 'ok',
    errors: [],
  },
  {
    rule: '9, 15',
    name: 'a document claiming another client_id',
    serve: doc({}, { client_id: 'https://victim.example/c.json' }),
    outcome: 'invalid',
    errors: ['document.client_id_mismatch'],
  },
  {
    rule: '9',
    name: 'a client_id differing only in case (host) is a mismatch',
    serve: (id) => doc({}, { client_id: id.replace('client.test', 'CLIENT.test') })(id),
    outcome: 'invalid',
    errors: ['document.client_id_mismatch'],
  },
  {
    rule: '9',
    name: 'a client_id differing only in case (path) is a mismatch',
    serve: (id) => doc({}, { client_id: id.replace('/case-', '/CASE-') })(id),
    outcome: 'invalid',
    errors: ['document.client_id_mismatch'],
  },
  {
    rule: '10, 15',
    name: 'a document with client_secret_basic',
    serve: doc({}, { token_endpoint_auth_method: 'client_secret_basic' }),
    outcome: 'invalid',
    errors: ['document.shared_secret_auth'],
  },

  // Conditional revalidation (SPEC-NOTES 4, 14)
  {
    rule: '4, 14',
    name: '304 to a conditional request extends the validated copy',
    validators: { etag: '"v1"' },
    serve: (id) => (req, res) => {
      if (req.headers['if-none-match'] === '"v1"')
        res.writeHead(304, { etag: '"v1"', 'cache-control': 'max-age=600' }).end();
      else res.writeHead(200, { 'content-type': 'application/json', etag: '"v2"' }).end(docBytes(id));
    },
    outcome: 'not_modified',
    errors: [],
    check: (o) => {
      const nm = assertOutcome(o, 'not_modified');
      expect(nm.validators.etag).toBe('"v1"');
      expect(nm.lifetime.ttlSeconds).toBe(600);
    },
  },
  {
    rule: '4, 14',
    name: 'a conditional request whose validator no longer matches gets the new document',
    validators: { etag: '"v0"' },
    serve: (id) => (req, res) => {
      if (req.headers['if-none-match'] === '"v1"') res.writeHead(304, { etag: '"v1"' }).end();
      else res.writeHead(200, { 'content-type': 'application/json', etag: '"v1"' }).end(docBytes(id));
    },
    outcome: 'ok',
    errors: [],
    check: (o) => expect(assertOutcome(o, 'ok').validators.etag).toBe('"v1"'),
  },
  {
    rule: '4',
    name: '304 to a request that was not conditional is not a document',
    serve: status(304, { etag: '"v1"' }),
    outcome: 'invalid',
    errors: ['fetch.unexpected_status'],
    check: expectStatus(304),
  },
];
