import {
  CacheBounds,
  cacheLifetime,
  checkClientIdUrl,
  FetchOutcome,
  Finding,
  RuleCode,
  validateMetadataDocument,
  Validators,
} from '@cimd/core';
import { createHash } from 'node:crypto';
import { FetchFailure, headerValue, HttpHeaders, SafeFetcher } from './safe-fetcher';

export interface FetchClientMetadataOptions {
  /** Validators of the cached, validated copy: the request becomes conditional. */
  validators?: Validators;
  now?: number;
  cacheBounds?: Partial<CacheBounds>;
}

const JSON_MEDIA_TYPE = /^application\/(?:[\w.+-]+\+)?json$/;

/**
 * Fetch a client_id's metadata document and judge it: URL rules, safe fetch, status,
 * content type, JSON, document rules, cache lifetime. Never throws for anything the origin
 * does; every path ends in one FetchOutcome.
 */
export async function fetchClientMetadata(
  fetcher: SafeFetcher,
  clientId: string,
  options: FetchClientMetadataOptions = {},
): Promise<FetchOutcome> {
  const urlCheck = checkClientIdUrl(clientId);
  if (!urlCheck.valid) return { outcome: 'blocked', errors: urlCheck.errors };
  const warnings: Finding[] = [...urlCheck.warnings];

  const conditional: Record<string, string> = {};
  if (options.validators?.etag) conditional['if-none-match'] = options.validators.etag;
  if (options.validators?.lastModified) conditional['if-modified-since'] = options.validators.lastModified;
  const res = await fetcher.get(clientId, { accept: 'application/json', headers: conditional });
  if (res.kind === 'failure') return fromFailure(res);

  const now = options.now ?? Date.now();
  const lifetimeOf = (headers: HttpHeaders) =>
    cacheLifetime({ status: 200, headers }, { now, ...(options.cacheBounds ? { bounds: options.cacheBounds } : {}) });
  const status = res.status;

  if (status === 304 && Object.keys(conditional).length > 0) {
    return {
      outcome: 'not_modified',
      lifetime: lifetimeOf(res.headers),
      validators: validatorsOf(res.headers, options.validators),
      warnings,
    };
  }
  if (status === 404 || status === 410) {
    return {
      outcome: 'gone',
      status,
      errors: [
        finding('fetch.gone', `the document URL answered ${status}; the client no longer publishes its metadata`),
      ],
    };
  }
  // 304 is not a redirect (RFC 9110 §15.4.5): unasked for, it is an unexpected status below.
  if (status >= 300 && status < 400 && status !== 304) {
    const location = headerValue(res.headers.location);
    return {
      outcome: 'redirect',
      status,
      ...(location !== undefined ? { location } : {}),
      errors: [
        finding(
          'fetch.redirect',
          `the document URL answered ${status}${location ? ` redirecting to ${JSON.stringify(location.slice(0, 200))}` : ''}; redirects are not followed, the document must be served at the client_id itself`,
        ),
      ],
    };
  }
  if (status === 429 || status === 408 || status >= 500) {
    const retryAfterSeconds = parseRetryAfter(headerValue(res.headers['retry-after']), now);
    const code: RuleCode =
      status === 429 ? 'fetch.rate_limited' : status === 408 ? 'fetch.timeout' : 'fetch.server_error';
    return {
      outcome: 'transient',
      status,
      ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}),
      errors: [finding(code, `the document URL answered ${status}; it will be tried again later`)],
    };
  }
  if (status !== 200) {
    return {
      outcome: 'invalid',
      status,
      warnings,
      errors: [finding('fetch.unexpected_status', `the document URL answered ${status}; only 200 OK is a document`)],
    };
  }

  const contentType = headerValue(res.headers['content-type']) ?? '';
  const mediaType = contentType.split(';')[0]?.trim().toLowerCase() ?? '';
  if (mediaType === 'text/plain' && fetcher.options.acceptTextPlain) {
    warnings.push(finding('fetch.text_plain', 'the document is served as text/plain; serve it as application/json'));
  } else if (!JSON_MEDIA_TYPE.test(mediaType)) {
    return {
      outcome: 'bad_content_type',
      errors: [
        finding(
          'fetch.bad_content_type',
          `the document is served as ${contentType ? JSON.stringify(contentType.slice(0, 100)) : 'no content type'}; it must be application/json`,
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
      outcome: 'invalid',
      status,
      warnings,
      errors: [finding('document.not_json', `the document is not valid JSON: ${why}`)],
      ...(text !== undefined ? { body: text } : {}),
    };
  }
  const check = validateMetadataDocument(json, { clientId });
  warnings.push(...check.warnings);
  if (!check.valid || !check.document)
    return { outcome: 'invalid', status, warnings, errors: check.errors, body: text };
  return {
    outcome: 'ok',
    document: check.document,
    warnings,
    lifetime: lifetimeOf(res.headers),
    validators: validatorsOf(res.headers),
    rawHash: createHash('sha256').update(res.body).digest('hex'),
    bytes: res.body.length,
  };
}

function fromFailure(f: FetchFailure): FetchOutcome {
  const errors = [finding(f.code, f.message)];
  if (f.outcome === 'transient') {
    return {
      outcome: 'transient',
      errors,
      ...(f.retryAfterSeconds !== undefined ? { retryAfterSeconds: f.retryAfterSeconds } : {}),
    };
  }
  return { outcome: f.outcome, errors };
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

function finding(code: RuleCode, message: string): Finding {
  return { code, message };
}
