import { GatewayError } from './errors';
import { sleep } from './retry-policy';
import type { TenantEvent, WatchOptions } from './types';

/** How a broken event stream is reconnected: backoff from `baseDelayMs` up to `maxDelayMs`, for as long as it takes. */
export interface ReconnectPolicy {
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RECONNECT_POLICY: ReconnectPolicy = { baseDelayMs: 250, maxDelayMs: 5_000 };

/** Failures a new connection may not meet: the gateway restarting, shedding a slow reader, a network break. */
const RESUMABLE: ReadonlySet<string> = new Set([
  'temporarily_unavailable',
  'unreachable',
  'slow_consumer',
  'timeout',
  'server_error',
]);

/**
 * One connection's events after `after`, until it breaks (by throwing) or `signal` aborts.
 * The transports supply it: a polling loop over HTTP, a WatchEvents call over gRPC.
 */
export type EventConnection = (after: string, signal: AbortSignal) => AsyncIterable<TenantEvent>;

/**
 * The tenant's events across connections: each new connection starts after the last event
 * delivered, so a break loses nothing, and an event the gateway sends again (ids only
 * increase) is not delivered twice. Errors a retry cannot fix are thrown to the caller.
 */
export async function* resumableEvents(
  connect: EventConnection,
  options: WatchOptions & { reconnect?: ReconnectPolicy } = {},
): AsyncGenerator<TenantEvent, void, undefined> {
  const { signal } = options;
  const reconnect = options.reconnect ?? DEFAULT_RECONNECT_POLICY;
  let after = options.after ?? '0';
  if (!/^\d{1,18}$/.test(after)) throw new TypeError('after must be an event id (a whole number as a string)');
  let failures = 0;
  while (!signal?.aborted) {
    const connection = new AbortController();
    const stop = () => connection.abort(signal?.reason);
    signal?.addEventListener('abort', stop, { once: true });
    try {
      for await (const event of connect(after, connection.signal)) {
        if (BigInt(event.id) <= BigInt(after)) continue;
        after = event.id;
        failures = 0;
        yield event;
      }
    } catch (e) {
      if (signal?.aborted) return;
      if (!(e instanceof GatewayError) || !RESUMABLE.has(e.error)) throw e;
      failures++;
    } finally {
      signal?.removeEventListener('abort', stop);
      connection.abort();
    }
    const backoff = Math.min(reconnect.maxDelayMs, reconnect.baseDelayMs * 2 ** Math.max(0, failures - 1));
    try {
      await sleep(backoff / 2 + Math.random() * (backoff / 2), signal);
    } catch {
      return;
    }
  }
}
