import type { DocumentChange } from '../document/document-changes';
import type { TenantPolicy } from '../policy/tenant-policy';
import type { ClientEvent } from './client-event';

/** What a tenant gets from one client event. */
export type TenantAction =
  /** End the tenant's active sessions of the client, and tell it (`session.revoked`). */
  | { kind: 'revoke'; tenant: string; reason: string; data: Record<string, unknown> }
  /** Only tell it. */
  | { kind: 'notify'; tenant: string; type: 'client.changed' | 'client.restored'; data: Record<string, unknown> };

/**
 * Which tenants an event concerns: those with active sessions of the client (it vanished,
 * broke or changed), those that ever had one (it came back), or none (a plain fetch).
 */
export function concernedTenants(type: ClientEvent['type']): 'active_sessions' | 'any_sessions' | 'none' {
  switch (type) {
    case 'client.gone':
    case 'client.invalid':
    case 'client.changed':
      return 'active_sessions';
    case 'client.restored':
      return 'any_sessions';
    default:
      return 'none';
  }
}

/**
 * Each concerned tenant's action on a client event, by its policy (SPEC-NOTES 23): a vanished
 * or invalid client's sessions end everywhere; a change ends them where the tenant's
 * `on_change` says `revoke` for one of its kinds, and is only announced elsewhere.
 */
export function planClientEvent(
  event: ClientEvent,
  tenants: readonly { tenant: string; policy: TenantPolicy | undefined }[],
): TenantAction[] {
  const cause = { cause_event_id: event.id };
  switch (event.type) {
    case 'client.gone':
    case 'client.invalid':
      return tenants.map(({ tenant }) => ({ kind: 'revoke', tenant, reason: event.type, data: {} }));
    case 'client.changed': {
      const changes: DocumentChange[] = event.data.changes;
      return tenants.map(({ tenant, policy }): TenantAction => {
        const revokeFor = policy ? changes.filter((c) => policy.on_change[c] === 'revoke') : [];
        return revokeFor.length > 0
          ? { kind: 'revoke', tenant, reason: `client.changed:${revokeFor.join(',')}`, data: { changes } }
          : { kind: 'notify', tenant, type: 'client.changed', data: { changes, ...cause } };
      });
    }
    case 'client.restored':
      return tenants.map(({ tenant }) => ({ kind: 'notify', tenant, type: 'client.restored', data: cause }));
    default:
      return [];
  }
}
