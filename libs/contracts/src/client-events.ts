import { ClientEvent, ClientEventSchema } from '@cimd/core';

/**
 * The client event stream's entry format: flat fields for XADD, `data` as JSON. Read back
 * through ClientEventSchema, so a malformed or foreign entry is skipped, never trusted.
 */
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

export function parseEventFields(fields: readonly string[]): ClientEvent | undefined {
  const f = new Map<string, string>();
  for (let i = 0; i + 1 < fields.length; i += 2) f.set(fields[i] as string, fields[i + 1] as string);
  let data: unknown;
  try {
    data = JSON.parse(f.get('data') ?? '');
  } catch {
    return undefined;
  }
  const parsed = ClientEventSchema.safeParse({
    id: f.get('id'),
    type: f.get('type'),
    time: Number(f.get('time')),
    client_id: f.get('client_id'),
    version: Number(f.get('version') ?? 1),
    data,
  });
  return parsed.success ? parsed.data : undefined;
}

/** Bound the stream: consumers keep up in seconds; this is hours of history at high volume. */
export const EVENT_STREAM_MAXLEN = 100_000;
