import type { AuthorizeRequest, SessionStatus } from '@cimd/core';
import { readClientRecord, readEventsPage, readMetadata, readSessionStatus } from './answers';
import { GatewayError, isGatewayError } from './errors';
import { ReconnectPolicy, resumableEvents } from './event-stream';
import {
  authenticateUntilAnswered,
  callPolicies,
  checkUntilDecided,
  GatewayClientOptions,
  sessionFields,
} from './gateway-calls';
import { RetryPolicy, sleep, withRetries } from './retry-policy';
import type {
  AuthorizationServerMetadataMembers,
  AuthorizeCheck,
  CallOptions,
  CimdGateway,
  ClientAuthentication,
  ClientAuthenticationRequest,
  ClientRecord,
  SessionRegistration,
  TenantEvent,
  WatchOptions,
} from './types';

export interface HttpGatewayClientOptions extends GatewayClientOptions {
  /** The gateway's base URL, e.g. `https://cimd-gateway.internal`. */
  url: string;
  /** Defaults to the global fetch. */
  fetch?: typeof fetch;
  /** How long the event stream waits before asking again when it is caught up (default 1 s). */
  pollIntervalMs?: number;
}

interface Answer {
  status: number;
  body: unknown;
  retryAfterMs?: number;
}

const EVENTS_PAGE = 100;

/** cimd-gateway over its HTTP API (`/v1`). */
export class HttpGatewayClient implements CimdGateway {
  readonly tenant: string;
  private readonly base: string;
  private readonly fetch: typeof fetch;
  private readonly timeoutMs: number;
  private readonly retry: RetryPolicy;
  private readonly reconnect: ReconnectPolicy;
  private readonly pollIntervalMs: number;

  constructor(private readonly options: HttpGatewayClientOptions) {
    this.tenant = options.tenant;
    this.base = `${options.url.replace(/\/+$/, '')}/v1`;
    this.fetch = options.fetch ?? fetch;
    ({ timeoutMs: this.timeoutMs, retry: this.retry, reconnect: this.reconnect } = callPolicies(options));
    this.pollIntervalMs = options.pollIntervalMs ?? 1_000;
  }

  async checkAuthorization(request: AuthorizeRequest, options: CallOptions = {}): Promise<AuthorizeCheck> {
    const body = pick(request, ['client_id', 'redirect_uri', 'response_type', 'scope', 'code_challenge_method']);
    return checkUntilDecided(
      this.retry,
      async () => (await this.send('POST', this.tenantPath('/authorize/check'), body, options)).body,
      options.signal,
    );
  }

  async authenticateClient(
    request: ClientAuthenticationRequest,
    options: CallOptions = {},
  ): Promise<ClientAuthentication> {
    const body = pick(request, ['client_id', 'client_assertion_type', 'client_assertion']);
    return authenticateUntilAnswered(
      this.retry,
      async () => (await this.send('POST', this.tenantPath('/clients/authenticate'), body, options)).body,
      options.signal,
    );
  }

  async getClient(clientId: string, options: CallOptions = {}): Promise<ClientRecord | undefined> {
    try {
      const answer = await this.idempotent('GET', `/clients?client_id=${encodeURIComponent(clientId)}`, options);
      return readClientRecord(answer.body);
    } catch (e) {
      if (isGatewayError(e, 'not_found')) return undefined;
      throw e;
    }
  }

  async registerSession(session: SessionRegistration, options: CallOptions = {}): Promise<SessionStatus> {
    const body = sessionFields(session);
    return readSessionStatus((await this.idempotent('POST', this.tenantPath('/sessions'), options, body)).body);
  }

  async checkSession(sessionId: string, options: CallOptions = {}): Promise<SessionStatus> {
    return readSessionStatus((await this.idempotent('GET', this.sessionPath(sessionId), options)).body);
  }

  async revokeSession(sessionId: string, options: CallOptions = {}): Promise<void> {
    await this.idempotent('DELETE', this.sessionPath(sessionId), options);
  }

  /** Polls GET /v1/tenants/{t}/events, resuming after the last event delivered. */
  events(options: WatchOptions = {}): AsyncIterable<TenantEvent> {
    const poll = async function* (this: HttpGatewayClient, after: string, signal: AbortSignal) {
      let cursor = after;
      for (;;) {
        const answer = await this.send(
          'GET',
          this.tenantPath(`/events?after=${cursor}&limit=${EVENTS_PAGE}`),
          undefined,
          { signal },
        );
        const page = readEventsPage(answer.body);
        for (const event of page) {
          cursor = event.id;
          yield event;
        }
        if (page.length < EVENTS_PAGE) await sleep(this.pollIntervalMs, signal);
      }
    };
    return resumableEvents(poll.bind(this), { ...options, reconnect: this.reconnect });
  }

  /** The RFC 8414 members the tenant's AS publishes (client_id_metadata_document_supported, …); HTTP only. */
  async authorizationServerMetadata(options: CallOptions = {}): Promise<AuthorizationServerMetadataMembers> {
    return readMetadata(
      (await this.idempotent('GET', this.tenantPath('/authorization-server-metadata'), options)).body,
    );
  }

  close(): void {
    // Nothing held: fetch pools its connections per process.
  }

  private tenantPath(rest: string): string {
    return `/tenants/${encodeURIComponent(this.tenant)}${rest}`;
  }

  private sessionPath(sessionId: string): string {
    return this.tenantPath(`/sessions/${encodeURIComponent(sessionId)}`);
  }

  /** A call that may be made again: retried after transient failures within the retry policy. */
  private async idempotent(method: string, path: string, options: CallOptions, body?: unknown): Promise<Answer> {
    const { result } = await withRetries(
      this.retry,
      async () => ({ done: await this.send(method, path, body, options) }),
      { retryError: (e) => e.transient, signal: options.signal },
    );
    return result;
  }

  /** One request: its parsed answer when 2xx, else the gateway's `{error, error_description}` as a GatewayError. */
  private async send(method: string, path: string, body: unknown, options: CallOptions): Promise<Answer> {
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
    const headers: Record<string, string> = {
      authorization: `Bearer ${this.options.token}`,
      accept: 'application/json',
    };
    if (body !== undefined) headers['content-type'] = 'application/json';
    let status: number;
    let text: string;
    let retryAfter: string | null;
    try {
      const res = await this.fetch(`${this.base}${path}`, {
        method,
        headers,
        signal,
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      status = res.status;
      retryAfter = res.headers.get('retry-after');
      text = await res.text();
    } catch (e) {
      if (options.signal?.aborted) throw options.signal.reason;
      if (timeout.aborted)
        throw new GatewayError('timeout', `no answer from the gateway within ${this.timeoutMs} ms`, { cause: e });
      throw new GatewayError('unreachable', `could not reach the gateway at ${this.options.url}: ${String(e)}`, {
        cause: e,
      });
    }
    let parsed: unknown;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    const retryAfterMs = retryAfter !== null && /^\d{1,6}$/.test(retryAfter) ? Number(retryAfter) * 1000 : undefined;
    if (status >= 200 && status < 300) {
      if (parsed === undefined && text !== '')
        throw new GatewayError('bad_response', `the gateway answered ${method} ${path} with a body that is not JSON`);
      return { status, body: parsed, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };
    }
    const error = parsed as { error?: unknown; error_description?: unknown } | undefined;
    throw new GatewayError(
      typeof error?.error === 'string' ? error.error : status >= 500 ? 'server_error' : 'bad_response',
      typeof error?.error_description === 'string' ? error.error_description : `HTTP ${status} from ${method} ${path}`,
      { status, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) },
    );
  }
}

/** The listed fields that are set: the gateway refuses unknown fields, so only these are sent. */
function pick<T extends object, K extends keyof T>(value: T, keys: readonly K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const key of keys) if (value[key] !== undefined) out[key] = value[key];
  return out;
}
