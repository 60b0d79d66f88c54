import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';

/** Where the console's files are: apps/gateway/console in the source tree, dist/apps/gateway/console once built. */
export const CONSOLE_DIR = join(__dirname, '..', '..', 'console');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
};

export interface ConsoleAsset {
  body: Buffer;
  contentType: string;
  etag: string;
}

/**
 * The console's static files, read once at start into memory: a fixed set of paths (never a
 * path from the request joined to a directory), each with its type and an ETag.
 */
export function loadConsoleAssets(dir = CONSOLE_DIR): Map<string, ConsoleAsset> {
  const assets = new Map<string, ConsoleAsset>();
  if (!existsSync(dir)) return assets;
  const walk = (folder: string) => {
    for (const name of readdirSync(folder)) {
      const path = join(folder, name);
      if (statSync(path).isDirectory()) walk(path);
      else {
        const contentType = TYPES[extname(name)];
        if (!contentType) continue;
        const body = readFileSync(path);
        const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
        assets.set(relative(dir, path).split(sep).join('/'), { body, contentType, etag });
      }
    }
  };
  walk(dir);
  return assets;
}

/**
 * The console's Content-Security-Policy: its own scripts, styles, images (logos are the
 * gateway's copies) and API only; no inline script or style, no framing, no form posts.
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export const CONSOLE_HEADERS: Record<string, string> = {
  'content-security-policy': CONSOLE_CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  // Revalidated each time (ETag): a new gateway's console is seen at once.
  'cache-control': 'no-cache',
};
