import { hash } from 'node:crypto';

/**
 * A fixed-length, Redis- and BullMQ-safe name for a client_id: base64url of its SHA-256.
 * Derived from the exact string, so two spellings of one URL are two clients (SPEC-NOTES 9).
 */
export function clientKey(clientId: string): string {
  // One-shot: no Hash object per call (this runs on every check and authentication).
  return hash('sha256', clientId, 'base64url');
}
