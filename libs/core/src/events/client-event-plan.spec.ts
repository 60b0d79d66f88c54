import { DEFAULT_TENANT_POLICY, parseTenantPolicy, TenantPolicy } from '../policy/tenant-policy';
import { ClientEvent, clientEvent } from './client-event';
import { concernedTenants, planClientEvent } from './client-event-plan';

const ID = 'https://app.example/c.json';
const at = { id: 'e1', now: 1 };
const notifyOnly = (
  parseTenantPolicy({ on_change: { redirect_uris_removed: 'notify', keys: 'notify' } }) as { policy: TenantPolicy }
).policy;
const tenants = [
  { tenant: 'strict', policy: DEFAULT_TENANT_POLICY },
  { tenant: 'lenient', policy: notifyOnly },
];
const changed = (changes: ('redirect_uris_removed' | 'client_name' | 'keys')[]): ClientEvent =>
  clientEvent('client.changed', ID, { changes, raw_hash: 'h' }, at);

describe('planClientEvent: what each tenant gets from a client event (SPEC-NOTES 23)', () => {
  it('a vanished client: every concerned tenant revokes, whatever its policy', () => {
    expect(planClientEvent(clientEvent('client.gone', ID, { status: 404 }, at), tenants)).toEqual([
      { kind: 'revoke', tenant: 'strict', reason: 'client.gone', data: {} },
      { kind: 'revoke', tenant: 'lenient', reason: 'client.gone', data: {} },
    ]);
  });

  it('an invalid document: revoked too', () => {
    const event = clientEvent('client.invalid', ID, { errors: [], outcome: 'invalid' }, at);
    expect(planClientEvent(event, tenants).map((a) => [a.kind, a.tenant])).toEqual([
      ['revoke', 'strict'],
      ['revoke', 'lenient'],
    ]);
  });

  it('a change: revoked where the policy says revoke for one of its kinds, announced elsewhere', () => {
    expect(planClientEvent(changed(['redirect_uris_removed', 'client_name']), tenants)).toEqual([
      {
        kind: 'revoke',
        tenant: 'strict',
        reason: 'client.changed:redirect_uris_removed',
        data: { changes: ['redirect_uris_removed', 'client_name'] },
      },
      {
        kind: 'notify',
        tenant: 'lenient',
        type: 'client.changed',
        data: { changes: ['redirect_uris_removed', 'client_name'], cause_event_id: 'e1' },
      },
    ]);
  });

  it('a change no policy revokes on: announced to all; a tenant without a policy is only told', () => {
    expect(planClientEvent(changed(['client_name']), tenants).map((a) => a.kind)).toEqual(['notify', 'notify']);
    expect(planClientEvent(changed(['keys']), [{ tenant: 'gone', policy: undefined }])[0]?.kind).toBe('notify');
  });

  it('a restored client is announced; a plain fetch concerns nobody', () => {
    expect(planClientEvent(clientEvent('client.restored', ID, { previous_status: 'gone' }, at), tenants)).toEqual([
      { kind: 'notify', tenant: 'strict', type: 'client.restored', data: { cause_event_id: 'e1' } },
      { kind: 'notify', tenant: 'lenient', type: 'client.restored', data: { cause_event_id: 'e1' } },
    ]);
    expect(
      planClientEvent(clientEvent('client.fetched', ID, { revalidated: false, expires_at: 2 }, at), tenants),
    ).toEqual([]);
  });

  it.each([
    ['client.gone', 'active_sessions'],
    ['client.invalid', 'active_sessions'],
    ['client.changed', 'active_sessions'],
    ['client.restored', 'any_sessions'],
    ['client.fetched', 'none'],
  ] as const)('%s concerns tenants with %s', (type, scope) => {
    expect(concernedTenants(type)).toBe(scope);
  });
});
