import type { DocumentChange, Finding } from '@cimd/core';
import { randomUUID } from 'node:crypto';

/** Events on the Redis Stream (RedisKeys.events), at least once; consumers are idempotent on `id`. */
export type ClientEventType =
  'client.fetched' | 'client.changed' | 'client.invalid' | 'client.gone' | 'client.restored';

export const CLIENT_EVENT_VERSION = 1;

export interface ClientEventData {
  'client.fetched': { revalidated: boolean; raw_hash?: string; expires_at: number };
  'client.changed': { changes: DocumentChange[]; raw_hash: string };
  'client.invalid': { errors: Finding[]; outcome: string };
  'client.gone': { status: number };
  'client.restored': { previous_status: 'invalid' | 'gone' };
}

export interface ClientEvent<T extends ClientEventType = ClientEventType> {
  id: string;
  type: T;
  time: number;
  client_id: string;
  version: number;
  data: ClientEventData[T];
}

export function newClientEvent<T extends ClientEventType>(
  type: T,
  clientId: string,
  data: ClientEventData[T],
  now = Date.now(),
): ClientEvent<T> {
  return { id: randomUUID(), type, time: now, client_id: clientId, version: CLIENT_EVENT_VERSION, data };
}

/** Flat field list for XADD; `data` is JSON. */
export function eventFields(e: ClientEvent): string[] {
  return [
    'id',
    e.id,
    'type',
    e.type,
    'time',
    String(e.time),
    'client_id',
    e.client_id,
    'version',
    String(e.version),
    'data',
    JSON.stringify(e.data),
  ];
}

export function parseEventFields(fields: string[]): ClientEvent | undefined {
  const f: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i] as string] = fields[i + 1] as string;
  if (!f.id || !f.type || !f.client_id || !f.time || !f.data) return undefined;
  try {
    return {
      id: f.id,
      type: f.type as ClientEventType,
      time: Number(f.time),
      client_id: f.client_id,
      version: Number(f.version ?? 1),
      data: JSON.parse(f.data) as ClientEventData[ClientEventType],
    };
  } catch {
    return undefined;
  }
}

/** Bound the stream: consumers keep up in seconds; this is hours of history at high volume. */
export const EVENT_STREAM_MAXLEN = 100_000;
