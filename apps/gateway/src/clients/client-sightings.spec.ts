import type { AuthorizeRequest } from '@cimd/core';
import pino from 'pino';
import { ClientSightings } from './client-sightings';
import type { Sighting, TenantClientsRepository } from './tenant-clients.repository';

/** A repository that keeps each merged batch (the buffer's logic is what is tested here; the SQL is tested with PostgreSQL). */
function recorder() {
  const batches: Sighting[][] = [];
  const repository = {
    merge: (batch: readonly Sighting[]) => {
      batches.push(batch.map((s) => ({ ...s })));
      return Promise.resolve();
    },
    prune: () => Promise.resolve(0),
  } as unknown as TenantClientsRepository;
  return { batches, sightings: new ClientSightings(repository, pino({ level: 'silent' })) };
}

const request = (redirect = 'https://app.example/cb'): AuthorizeRequest => ({
  client_id: 'https://app.example/client.json',
  redirect_uri: redirect,
});

describe('ClientSightings', () => {
  it('merges each pair once per flush with its count, and lets go of a pair not checked for a whole flush', async () => {
    const { batches, sightings } = recorder();
    sightings.record('acme', request(), { decision: 'allow' });
    sightings.record('acme', request(), { decision: 'deny', reason: 'redirect_uri.not_registered' });
    await sightings.flush();
    expect(batches[0]).toEqual([
      expect.objectContaining({ tenant: 'acme', checks: 2, decision: 'deny', reason: 'redirect_uri.not_registered' }),
    ]);
    await sightings.flush(); // nothing checked since
    expect(batches[1]).toEqual([]);
    sightings.record('acme', request(), { decision: 'allow' });
    await sightings.flush();
    expect(batches[2]).toEqual([expect.objectContaining({ checks: 1, decision: 'allow', reason: null })]);
  });

  it('keeps the request it holds while the parameters repeat, and takes the newest when they change', async () => {
    const { batches, sightings } = recorder();
    const first = request();
    sightings.record('acme', first, { decision: 'allow' });
    sightings.record('acme', request(), { decision: 'allow' });
    await sightings.flush();
    expect(batches[0]?.[0]?.request).toBe(first);
    sightings.record('acme', request('https://app.example/other'), { decision: 'allow' });
    await sightings.flush();
    expect(batches[1]?.[0]?.request.redirect_uri).toBe('https://app.example/other');
  });
});
