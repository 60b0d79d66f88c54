/** What the consent page showed the user. */
export interface ConsentPage {
  html: string;
  clientName?: string;
  clientHost?: string;
  redirectHost?: string;
  logoUrl?: string;
  trustLevel?: string;
  warnings: string[];
  confirmPath: string;
  /** The page's Content-Security-Policy header. */
  contentSecurityPolicy?: string;
}

/** Where a visit ended: back at the client's redirect URI, or on a page of the AS. */
export type Landing =
  | { kind: 'redirect'; url: URL }
  | { kind: 'page'; status: number; url: URL; html: string; location: string | null; headers: Headers };

function unescape(value: string): string {
  return value
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&');
}

/** The error an AS page shows (`<p id="error">`), as text. */
export function pageError(html: string): string | undefined {
  const m = /<p id="error"[^>]*>(.*?)<\/p>/s.exec(html);
  return m?.[1] === undefined
    ? undefined
    : unescape(
        m[1]
          .replace(/<[^>]+>/g, '')
          .replace(/\s+/g, ' ')
          .trim(),
      );
}

function capture(html: string, pattern: RegExp): string | undefined {
  const m = pattern.exec(html);
  return m?.[1] === undefined ? undefined : unescape(m[1]);
}

/** The consent page of the example AS, read as a person reads it. */
export function readConsentPage(html: string, headers?: Headers): ConsentPage {
  const confirmPath = capture(html, /<form method="post" action="([^"]+)"/);
  if (confirmPath === undefined) throw new Error('not a consent page');
  const warnings = [...html.matchAll(/data-warning="([^"]+)"/g)].map((m) => unescape(m[1] ?? ''));
  const page: ConsentPage = { html, warnings, confirmPath };
  const csp = headers?.get('content-security-policy');
  if (csp) page.contentSecurityPolicy = csp;
  const fields: [keyof ConsentPage, RegExp][] = [
    ['clientName', /<span id="client-name">([^<]*)<\/span>/],
    ['clientHost', /<dd id="client-host">([^<]*)<\/dd>/],
    ['redirectHost', /<dd id="redirect-host">([^<]*)<\/dd>/],
    ['logoUrl', /<img class="logo" src="([^"]+)"/],
    ['trustLevel', /<dd id="trust" data-level="([^"]+)"/],
  ];
  for (const [field, pattern] of fields) {
    const value = capture(html, pattern);
    if (value !== undefined) (page as unknown as Record<string, string>)[field] = value;
  }
  return page;
}

/**
 * The user's browser, as far as an authorization needs one: it keeps the AS's cookies, follows
 * the AS's redirects, and stops where it is sent back to the client (the client's redirect URI
 * is not fetched: the code is in its URL) or on a page the user must act on.
 */
export class Browser {
  private readonly cookies = new Map<string, string>();

  constructor(private readonly asOrigin: string) {}

  async visit(start: URL | string, init: { method?: string; form?: URLSearchParams } = {}): Promise<Landing> {
    let url = new URL(start);
    let request: { method: string; form?: URLSearchParams } = {
      method: init.method ?? 'GET',
      ...(init.form ? { form: init.form } : {}),
    };
    for (let hops = 0; hops < 20; hops++) {
      if (url.origin !== this.asOrigin) return { kind: 'redirect', url };
      const res = await fetch(url, {
        method: request.method,
        redirect: 'manual',
        headers: {
          cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '),
          ...(request.form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
        },
        ...(request.form ? { body: request.form.toString() } : {}),
      });
      for (const cookie of res.headers.getSetCookie()) this.keep(cookie);
      const location = res.headers.get('location');
      if (res.status >= 300 && res.status < 400 && location) {
        url = new URL(location, url);
        request = { method: 'GET' };
        continue;
      }
      return { kind: 'page', status: res.status, url, html: await res.text(), location, headers: res.headers };
    }
    throw new Error('too many redirects');
  }

  private keep(setCookie: string): void {
    const [pair = '', ...attributes] = setCookie.split(';');
    const eq = pair.indexOf('=');
    const name = pair.slice(0, eq).trim();
    const expired = attributes.some((a) => {
      const [k = '', v = ''] = a.trim().split('=');
      return (
        (k.toLowerCase() === 'max-age' && Number(v) <= 0) ||
        (k.toLowerCase() === 'expires' && Date.parse(v) <= Date.now())
      );
    });
    if (expired) this.cookies.delete(name);
    else this.cookies.set(name, pair.slice(eq + 1).trim());
  }
}
