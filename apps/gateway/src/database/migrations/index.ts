import { InitialSchema1795680000000 } from './1795680000000-initial-schema';
import { SessionsAndEvents1795690000000 } from './1795690000000-sessions-and-events';
import { TenantClients1795700000000 } from './1795700000000-tenant-clients';
import { ProcessedEventsAge1795710000000 } from './1795710000000-processed-events-age';

/** In order. A new migration is written (not synchronized) whenever an entity changes; a test checks none is missing. */
export const MIGRATIONS = [
  InitialSchema1795680000000,
  SessionsAndEvents1795690000000,
  TenantClients1795700000000,
  ProcessedEventsAge1795710000000,
];
