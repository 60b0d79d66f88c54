import { readAuthentication, readDecision } from './answers';
import type { GatewayError } from './errors';
import { DEFAULT_RECONNECT_POLICY, ReconnectPolicy } from './event-stream';
import { DEFAULT_RETRY_POLICY, RetryPolicy, retryHintMs, withRetries } from './retry-policy';
import type { AuthorizeCheck, ClientAuthentication, SessionRegistration } from './types';

/** What both transports are configured with. */
export interface GatewayClientOptions {
  /** The tenant this client speaks for. */
  tenant: string;
  /** The tenant's API key (`cimd_<id>_<secret>`), or the platform admin token. */
  token: string;
  /** Longest wait for one answer (default 10 s: longer than the gateway's own wait for a fetch). */
  timeoutMs?: number;
  /** Retries of `pending` answers and of transient failures of idempotent calls. */
  retry?: Partial<RetryPolicy>;
  /** Reconnection of the event stream. */
  reconnect?: Partial<ReconnectPolicy>;
}

/** The policies of a client: its options over the defaults. */
export function callPolicies(options: GatewayClientOptions): {
  timeoutMs: number;
  retry: RetryPolicy;
  reconnect: ReconnectPolicy;
} {
  return {
    timeoutMs: options.timeoutMs ?? 10_000,
    retry: { ...DEFAULT_RETRY_POLICY, ...options.retry },
    reconnect: { ...DEFAULT_RECONNECT_POLICY, ...options.reconnect },
  };
}

/**
 * An authorize check, asked (`ask` answers the gateway's decision as it came) again while the
 * answer is `pending` and after transient failures, within the retry policy.
 */
export function checkUntilDecided(
  retry: RetryPolicy,
  ask: () => Promise<unknown>,
  signal?: AbortSignal,
): Promise<AuthorizeCheck> {
  return askUntilFinal(retry, ask, readDecision, (d) => d.decision !== 'pending', {
    retryError: (e) => e.transient,
    signal,
  });
}

/**
 * A client authentication, asked again while the answer is `temporarily_unavailable` (the
 * client's document not there yet). Only that: after a transient failure the assertion's jti
 * may already be spent.
 */
export function authenticateUntilAnswered(
  retry: RetryPolicy,
  ask: () => Promise<unknown>,
  signal?: AbortSignal,
): Promise<ClientAuthentication> {
  return askUntilFinal(retry, ask, readAuthentication, (a) => a.error !== 'temporarily_unavailable', { signal });
}

/** `ask` again, within the policy and after the gateway's retry hint, until `read` of its answer is final. */
async function askUntilFinal<T>(
  retry: RetryPolicy,
  ask: () => Promise<unknown>,
  read: (answer: unknown) => T,
  final: (result: T) => boolean,
  options: { retryError?: (e: GatewayError) => boolean; signal?: AbortSignal },
): Promise<T & { attempts: number }> {
  const { result, attempts } = await withRetries<T>(
    retry,
    async () => {
      const answer = await ask();
      const result = read(answer);
      if (final(result)) return { done: result };
      return { retry: result, hintMs: retryHintMs(answer as Record<string, unknown>) };
    },
    options,
  );
  return { ...result, attempts };
}

/** The fields of a session registration as both APIs take them: those set, expires_at as an ISO date. */
export function sessionFields(session: SessionRegistration): {
  session_id: string;
  client_id: string;
  subject?: string;
  expires_at?: string;
} {
  return {
    session_id: session.session_id,
    client_id: session.client_id,
    ...(session.subject !== undefined ? { subject: session.subject } : {}),
    ...(session.expires_at !== undefined ? { expires_at: new Date(session.expires_at).toISOString() } : {}),
  };
}
