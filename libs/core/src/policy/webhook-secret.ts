/**
 * A tenant's webhook secret, as its policy gives it, and the HMAC key it stands for.
 *
 * - `whsec_<base64>` (the Standard Webhooks form): the key is the decoded bytes, 24-64 of them.
 *   Every Standard Webhooks library takes the string as is.
 * - Anything else (16-256 characters): the key is the string's UTF-8 bytes, as the legacy
 *   X-CIMD-Signature always used it; Standard Webhooks libraries take such a key as raw bytes.
 */
export const WHSEC_PREFIX = 'whsec_';
const CANONICAL_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
export const WHSEC_MIN_BYTES = 24;
export const WHSEC_MAX_BYTES = 64;

/** Why `secret` is not a usable whsec_ secret, or undefined when it is one (or is not of that form). */
export function whsecProblem(secret: string): string | undefined {
  if (!secret.startsWith(WHSEC_PREFIX)) return undefined;
  const encoded = secret.slice(WHSEC_PREFIX.length);
  if (!CANONICAL_BASE64.test(encoded)) return 'a whsec_ secret must be whsec_ followed by padded standard base64';
  const bytes = Buffer.from(encoded, 'base64').length;
  if (bytes < WHSEC_MIN_BYTES || bytes > WHSEC_MAX_BYTES)
    return `a whsec_ secret must encode ${WHSEC_MIN_BYTES}-${WHSEC_MAX_BYTES} random bytes (this one has ${bytes})`;
  return undefined;
}

/** The HMAC key of the Standard Webhooks signature (`webhook-signature`) for a validated secret. */
export function webhookSigningKey(secret: string): Buffer {
  return secret.startsWith(WHSEC_PREFIX)
    ? Buffer.from(secret.slice(WHSEC_PREFIX.length), 'base64')
    : Buffer.from(secret, 'utf8');
}
