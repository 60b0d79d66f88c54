import { createHash } from 'node:crypto';
import { headerValue, SafeFetcher } from './safe-fetcher';

/** Logos are prefetched so a consent screen never loads them from the client's host (SPEC-NOTES 21). */
export const DEFAULT_MAX_LOGO_BYTES = 256 * 1024;

export type LogoFetch =
  | { ok: true; contentType: LogoContentType; body: Buffer; sha256: string }
  | { ok: false; reason: string; transient: boolean };

export type LogoContentType = 'image/png' | 'image/jpeg' | 'image/gif' | 'image/webp' | 'image/x-icon';

// Raster formats only, recognised by their first bytes: SVG can carry script, and a file
// that merely claims an image type must not be served from the gateway's origin.
const SIGNATURES: { type: LogoContentType; matches: (b: Buffer) => boolean }[] = [
  {
    type: 'image/png',
    matches: (b) => b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])),
  },
  { type: 'image/jpeg', matches: (b) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff },
  { type: 'image/gif', matches: (b) => /^GIF8[79]a/.test(b.subarray(0, 6).toString('latin1')) },
  {
    type: 'image/webp',
    matches: (b) => b.subarray(0, 4).toString('latin1') === 'RIFF' && b.subarray(8, 12).toString('latin1') === 'WEBP',
  },
  { type: 'image/x-icon', matches: (b) => b.subarray(0, 4).equals(Buffer.from([0, 0, 1, 0])) },
];

export function sniffImage(body: Buffer): LogoContentType | undefined {
  return SIGNATURES.find((s) => s.matches(body))?.type;
}

export async function fetchLogo(
  fetcher: SafeFetcher,
  logoUri: string,
  maxBytes = DEFAULT_MAX_LOGO_BYTES,
): Promise<LogoFetch> {
  const res = await fetcher.get(logoUri, {
    accept: 'image/png, image/jpeg, image/gif, image/webp, image/x-icon;q=0.8',
    maxBytes,
  });
  if (res.kind === 'failure') return { ok: false, reason: res.message, transient: res.outcome === 'transient' };
  if (res.status !== 200)
    return {
      ok: false,
      reason: `the logo URL answered ${res.status}`,
      transient: res.status >= 500 || res.status === 429,
    };
  const declared = (headerValue(res.headers['content-type']) ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (!declared.startsWith('image/') || declared.includes('svg')) {
    return {
      ok: false,
      reason: `the logo is served as ${JSON.stringify(declared)}; only PNG, JPEG, GIF, WebP and ICO are accepted`,
      transient: false,
    };
  }
  const type = sniffImage(res.body);
  if (!type) return { ok: false, reason: 'the logo is not a PNG, JPEG, GIF, WebP or ICO image', transient: false };
  return { ok: true, contentType: type, body: res.body, sha256: createHash('sha256').update(res.body).digest('hex') };
}
