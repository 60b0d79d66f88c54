import type { AuthorizeCheck } from '@cimd/client';
import { RULES } from '@cimd/core';

/** Every value on a page comes from a client's document or a request: all of it is escaped. */
function escape(value: string): string {
  return value.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  );
}

/**
 * The pages' Content-Security-Policy: nothing but the page itself and its inline style, and on
 * a consent page the logo from the gateway, which serves the logos it prefetched (the user's
 * browser never contacts the client's host). No form-action: browsers apply it to the redirects
 * after the consent form is posted, and the last one goes to the client.
 */
export function contentSecurityPolicy(logoUrl?: string): string {
  const images = logoUrl === undefined ? "'none'" : new URL(logoUrl).origin;
  return `default-src 'none'; style-src 'unsafe-inline'; img-src ${images}; frame-ancestors 'none'; base-uri 'none'`;
}

function page(title: string, body: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;color:#222}
dt{font-weight:600;margin-top:.5rem}.warnings li{color:#8a4b00}img.logo{float:right}
button{font-size:1rem;padding:.5rem 1.5rem}</style>
</head>
<body>
${body}
</body>
</html>`;
}

/** An authorization request this AS refuses and does not send back to the client (RFC 6749 §4.1.2.1). */
export function errorPage(error: string, description: string): string {
  return page(
    'Sign-in refused',
    `<h1>This sign-in cannot go on</h1>
<p id="error" data-error="${escape(error)}"><strong>${escape(error)}</strong>: ${escape(description)}</p>
<p>${
      error === 'temporarily_unavailable'
        ? "The application's registration could not be read just now: try again in a moment."
        : 'You have not been sent back to the application: where it asked to send you could not be trusted.'
    }</p>`,
  );
}

const TRUST: Record<string, string> = {
  trusted: 'Trusted: this service vouches for this application.',
  verified_origin: 'Verified web address: the application is who its address says it is, nothing more.',
  unverified: 'Unverified: nothing is known about this application.',
};

export interface ConsentView {
  uid: string;
  account: string;
  /** The gateway's allow decision: what it verified about the client and this request. */
  decision: AuthorizeCheck;
  /** What the client asks for: scopes per resource server. */
  access: { resource: string; scopes: string[] }[];
}

/**
 * The consent page shows what the gateway's decision carries (SPEC-NOTES 19-22): the client_id's
 * host always, the name and logo when the tenant's policy shows them, where the user will be
 * sent back, how far the client is trusted, and every warning.
 */
export function consentPage(view: ConsentView): string {
  const client = view.decision.client;
  const trust = view.decision.trust;
  const host = client?.host ?? '(unknown)';
  const name = client?.name;
  const warnings = (trust?.warnings ?? [])
    .map((code) => {
      const summary = (RULES as Record<string, { summary: string }>)[code]?.summary ?? code;
      return `<li data-warning="${escape(code)}">${escape(summary)}</li>`;
    })
    .join('\n');
  const access = view.access
    .map(
      (a) =>
        `<li>${a.scopes.map((s) => `<code>${escape(s)}</code>`).join(' ')} on <code>${escape(a.resource)}</code></li>`,
    )
    .join('\n');
  return page(
    `Allow ${name ?? host}?`,
    `${client?.logo_url ? `<img class="logo" src="${escape(client.logo_url)}" alt="" width="64" height="64">` : ''}
<h1>Allow <span id="client-name">${escape(name ?? host)}</span> to act for you?</h1>
<p>Signed in as <strong>${escape(view.account)}</strong>.</p>
<dl>
<dt>Application published at</dt><dd id="client-host">${escape(host)}</dd>
<dt>You will be sent back to</dt><dd id="redirect-host">${escape(client?.redirect_host ?? '(unknown)')}</dd>
<dt>Trust</dt><dd id="trust" data-level="${escape(trust?.level ?? 'unverified')}">${escape(TRUST[trust?.level ?? 'unverified'] ?? '')}</dd>
</dl>
${warnings ? `<ul class="warnings">\n${warnings}\n</ul>` : ''}
<p>It asks for:</p>
<ul>
${access}
</ul>
<form method="post" action="/interaction/${escape(view.uid)}/confirm"><button type="submit">Allow</button></form>
<p><a href="/interaction/${escape(view.uid)}/abort">Deny</a></p>`,
  );
}
