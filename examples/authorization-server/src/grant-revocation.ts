import { CimdGateway, isGatewayError, TenantEvent } from '@cimd/client';
import type { Logger } from 'pino';
import type { MemoryStore } from './memory-store';

/**
 * The tenant's events, as they come: a `session.revoked` event says the gateway ended this
 * tenant's sessions of a client (its document vanished, broke, or changed in a way the tenant's
 * policy revokes on). Each grant this AS holds for the client is checked with the gateway, and
 * the ones whose session ended are revoked here with their codes and tokens: the next use of an
 * access token fails introspection, and a refresh fails. A session registered after the
 * revocation (the client came back, the user consented again) stays.
 *
 * Runs until `events` ends; an error it cannot get past is thrown, for the caller to stop the
 * AS: an AS that no longer hears revocations must not go on issuing tokens quietly.
 */
export async function revokeEndedGrants(
  events: AsyncIterable<TenantEvent>,
  gateway: CimdGateway,
  store: MemoryStore,
  logger: Logger,
): Promise<void> {
  for await (const event of events) {
    if (event.type !== 'session.revoked' || event.client_id === null) continue;
    for (const grantId of store.grantsOf(event.client_id)) {
      const session = await gateway.checkSession(grantId).catch((e: unknown) => {
        if (isGatewayError(e, 'not_found')) return undefined;
        throw e;
      });
      if (session?.active !== false) continue;
      store.revokeGrant(grantId);
      logger.info(
        { grant_id: grantId, client_id: event.client_id, reason: session.reason, event_id: event.id },
        'grant revoked with its tokens: the gateway ended its session',
      );
    }
  }
}
