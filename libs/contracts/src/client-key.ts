import { createHash } from 'node:crypto';

/**
 * A fixed-length, Redis- and BullMQ-safe name for a client_id: base64url of its SHA-256.
 * Derived from the exact string, so two spellings of one URL are two clients (SPEC-NOTES 9).
 */
export function clientKey(clientId: string): string {
  return createHash('sha256').update(clientId, 'utf8').digest('base64url');
}
