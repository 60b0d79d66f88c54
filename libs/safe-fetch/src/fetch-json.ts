import { CacheBounds, cacheLifetime, CacheLifetime, Finding, RuleCode, Validators } from '@cimd/core';
import { createHash } from 'node:crypto';
import { FetchFailure, headerValue, HttpHeaders, SafeFetcher } from './safe-fetcher';

export interface FetchJsonOptions {
  /** Validators of the held, validated copy: the request becomes conditional. */
  validators?: Validators;
  now?: number;
  cacheBounds?: Partial<CacheBounds>;
  /** Largest body accepted (the fetcher's default otherwise). */
  maxBytes?: number;
  /** How messages name the URL: "the document URL", "the jwks_uri". */
  label: string;
}

/** Every way a JSON fetch ends before its content is judged. */
export type JsonFetch =
  | {
      kind: 'json';
      json: unknown;
      /** The body as text: what a refused document is shown as (never served as a document). */
      text: string;
      warnings: Finding[];
      lifetime: CacheLifetime;
      validators: Validators;
      /** sha256 of the body as served (after any Content-Encoding is removed). */
      rawHash: string;
      bytes: number;
    }
  | { kind: 'not_modified'; lifetime: CacheLifetime; validators: Validators }
  | { kind: 'gone'; status: 404 | 410; errors: Finding[] }
  | { kind: 'redirect'; status: number; location?: string; errors: Finding[] }
  | { kind: 'transient'; status?: number; retryAfterSeconds?: number; errors: Finding[] }
  | { kind: 'invalid'; status: number; errors: Finding[]; warnings: Finding[]; body?: string }
  | { kind: 'blocked' | 'too_large' | 'bad_content_type'; errors: Finding[] };

const JSON_MEDIA_TYPE = /^application\/(?:[\w.+-]+\+)?json$/;

/**
 * GET a JSON resource with the safe client and judge the answer: only 200 is content; 304 to a
 * conditional request extends the held copy; 404/410 gone; 3xx never followed; 408, 429 and 5xx
 * transient; JSON media types (text/plain where the fetcher allows it); UTF-8 JSON. Never throws
 * for anything the origin does.
 */
export async function fetchJson(fetcher: SafeFetcher, url: string, options: FetchJsonOptions): Promise<JsonFetch> {
  const { label } = options;
  const warnings: Finding[] = [];
  const conditional: Record<string, string> = {};
  if (options.validators?.etag) conditional['if-none-match'] = options.validators.etag;
  if (options.validators?.lastModified) conditional['if-modified-since'] = options.validators.lastModified;
  const res = await fetcher.get(url, {
    accept: 'application/json',
    headers: conditional,
    ...(options.maxBytes !== undefined ? { maxBytes: options.maxBytes } : {}),
  });
  if (res.kind === 'failure') return fromFailure(res);

  const now = options.now ?? Date.now();
  const lifetimeOf = (headers: HttpHeaders) =>
    cacheLifetime({ status: 200, headers }, { now, ...(options.cacheBounds ? { bounds: options.cacheBounds } : {}) });
  const status = res.status;

  if (status === 304 && Object.keys(conditional).length > 0) {
    return {
      kind: 'not_modified',
      lifetime: lifetimeOf(res.headers),
      validators: validatorsOf(res.headers, options.validators),
    };
  }
  if (status === 404 || status === 410) {
    return { kind: 'gone', status, errors: [finding('fetch.gone', `${label} answered ${status}`)] };
  }
  // 304 is not a redirect (RFC 9110 §15.4.5): unasked for, it is an unexpected status below.
  if (status >= 300 && status < 400 && status !== 304) {
    const location = headerValue(res.headers.location);
    return {
      kind: 'redirect',
      status,
      ...(location !== undefined ? { location } : {}),
      errors: [
        finding(
          'fetch.redirect',
          `${label} answered ${status}${location ? ` redirecting to ${JSON.stringify(location.slice(0, 200))}` : ''}; redirects are not followed`,
        ),
      ],
    };
  }
  if (status === 429 || status === 408 || status >= 500) {
    const retryAfterSeconds = parseRetryAfter(headerValue(res.headers['retry-after']), now);
    const code: RuleCode =
      status === 429 ? 'fetch.rate_limited' : status === 408 ? 'fetch.timeout' : 'fetch.server_error';
    return {
      kind: 'transient',
      status,
      ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}),
      errors: [finding(code, `${label} answered ${status}; it will be tried again later`)],
    };
  }
  if (status !== 200) {
    return {
      kind: 'invalid',
      status,
      warnings,
      errors: [finding('fetch.unexpected_status', `${label} answered ${status}; only 200 OK is accepted`)],
    };
  }

  const contentType = headerValue(res.headers['content-type']) ?? '';
  const mediaType = contentType.split(';')[0]?.trim().toLowerCase() ?? '';
  if (mediaType === 'text/plain' && fetcher.options.acceptTextPlain) {
    warnings.push(finding('fetch.text_plain', `${label} is served as text/plain; serve it as application/json`));
  } else if (!JSON_MEDIA_TYPE.test(mediaType)) {
    return {
      kind: 'bad_content_type',
      errors: [
        finding(
          'fetch.bad_content_type',
          `${label} is served as ${contentType ? JSON.stringify(contentType.slice(0, 100)) : 'no content type'}; it must be application/json`,
        ),
      ],
    };
  }

  let json: unknown;
  let text: string | undefined;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(res.body);
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    json = JSON.parse(text);
  } catch (e) {
    const why = e instanceof SyntaxError ? e.message : 'it is not UTF-8 text';
    return {
      kind: 'invalid',
      status,
      warnings,
      errors: [finding('document.not_json', `${label} did not serve valid JSON: ${why}`)],
      ...(text !== undefined ? { body: text } : {}),
    };
  }
  return {
    kind: 'json',
    json,
    text,
    warnings,
    lifetime: lifetimeOf(res.headers),
    validators: validatorsOf(res.headers),
    rawHash: createHash('sha256').update(res.body).digest('hex'),
    bytes: res.body.length,
  };
}

function fromFailure(f: FetchFailure): JsonFetch {
  const errors = [finding(f.code, f.message)];
  if (f.outcome === 'transient') {
    return {
      kind: 'transient',
      errors,
      ...(f.retryAfterSeconds !== undefined ? { retryAfterSeconds: f.retryAfterSeconds } : {}),
    };
  }
  return { kind: f.outcome, errors };
}

function validatorsOf(headers: HttpHeaders, fallback?: Validators): Validators {
  const v: Validators = {};
  const etag = headerValue(headers.etag) ?? fallback?.etag;
  const lastModified = headerValue(headers['last-modified']) ?? fallback?.lastModified;
  // Validators are echoed back to the origin: keep them short and printable.
  if (etag !== undefined && etag.length <= 256 && /^[\x21-\x7e]+$/.test(etag)) v.etag = etag;
  if (lastModified !== undefined && !Number.isNaN(Date.parse(lastModified))) v.lastModified = lastModified;
  return v;
}

/** Retry-After as seconds (RFC 9110 §10.2.3): a number of seconds or an HTTP date. */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (value === undefined) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - now) / 1000));
}

export function finding(code: RuleCode, message: string): Finding {
  return { code, message };
}
