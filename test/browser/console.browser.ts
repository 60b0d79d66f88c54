import { waitFor } from '@cimd/testing';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { documentFor, GatewayStack, startGatewayStack } from '../support/gateway-stack';
import { Browser, cleanResults, launchChromium, openTab, screenshot, seriousViolations } from './support/browser';

/**
 * The operator console in a real Chromium against a whole stack (gateway, fetcher, an HTTPS
 * client host, Redis, PostgreSQL): sign in, find a denied client and read why, a client whose
 * host does not resolve, a policy dry run, an event arriving live, and a tenant key that sees
 * only its tenant. Each page is screenshotted under test/browser/results/ and checked with
 * axe-core; a page that breaks its Content-Security-Policy or logs an error fails.
 */

const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
  'base64',
);

let stack: GatewayStack;
let browser: Browser;
const keys: Record<string, string> = {};
const ids = { good: '', broken: '', partner: '', globexOnly: '' };
let unresolvable: string;

async function check(tenant: string, clientId: string, redirectUri: string) {
  const res = await stack.request('POST', `/v1/tenants/${tenant}/authorize/check`, {
    body: { client_id: clientId, redirect_uri: redirectUri, code_challenge_method: 'S256' },
  });
  expect(res.status).toBe(200);
  return res.body as { decision: string; reason?: string; fetch_error?: { code: string } };
}

beforeAll(async () => {
  cleanResults();
  stack = await startGatewayStack('console', { gatewayEnv: { CIMD_AUTHORIZE_WAIT_MS: '3000' } });
  browser = await launchChromium();
  for (const tenant of ['acme', 'globex']) {
    expect((await stack.request('POST', '/v1/tenants', { body: { id: tenant } })).status).toBe(201);
    keys[tenant] = (await stack.request('POST', `/v1/tenants/${tenant}/keys`)).body.key;
  }
  stack.origin.route('/logo.png', (_req, res) => {
    res.writeHead(200, { 'content-type': 'image/png', 'content-length': PNG.length });
    res.end(PNG);
  });
  ids.good = stack.clientId('/apps/notes.json');
  stack.origin.json(
    '/apps/notes.json',
    documentFor(ids.good, {
      client_name: 'Notes for Teams',
      logo_uri: `https://client.test:${stack.origin.port}/logo.png`,
    }),
    { 'cache-control': 'max-age=600' },
  );
  ids.broken = stack.clientId('/apps/broken.json');
  stack.origin.json('/apps/broken.json', {
    client_id: ids.broken,
    client_name: 'Broken App',
    redirect_uris: 'https://client.test/callback',
    token_endpoint_auth_method: 'none',
  });
  ids.partner = stack.clientId('/partner.json', 'other.test');
  stack.origin.json('/partner.json', documentFor(ids.partner, { client_name: 'Partner Portal' }), {
    'cache-control': 'max-age=600',
  });
  ids.globexOnly = stack.clientId('/globex-only.json', 'other.test');
  stack.origin.json('/globex-only.json', documentFor(ids.globexOnly, { client_name: 'Globex Internal' }));
  // Not in the fetcher's test resolve map, and .invalid never resolves (RFC 6761).
  unresolvable = `https://nowhere.invalid:${stack.origin.port}/client.json`;

  const host = `client.test:${stack.origin.port}`;
  expect((await check('acme', ids.good, `https://${host}/callback`)).decision).toBe('allow');
  expect(await check('acme', ids.broken, 'https://client.test/callback')).toMatchObject({
    decision: 'deny',
    reason: 'document.invalid',
  });
  expect((await check('acme', ids.partner, `https://other.test:${stack.origin.port}/callback`)).decision).toBe('allow');
  expect(await check('acme', unresolvable, 'https://nowhere.invalid/callback')).toMatchObject({
    decision: 'pending',
    fetch_error: { code: 'fetch.dns_failed' },
  });
  expect((await check('globex', ids.globexOnly, `https://other.test:${stack.origin.port}/callback`)).decision).toBe(
    'allow',
  );
  // The sightings reach PostgreSQL in the background, within a second or so.
  await waitFor(
    async () => (await stack.request('GET', '/v1/tenants/acme/clients')).body?.total === 4,
    "acme's four clients to be listed",
    10_000,
  );
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

async function signIn(page: Page, token: string): Promise<void> {
  await page.goto(`${stack.url}/console`);
  const input = page.getByLabel('Admin token or API key');
  await input.waitFor();
  // Keyboard only: the field has focus, Enter submits.
  await page.keyboard.type(token);
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { level: 1, name: /^Clients of/ }).waitFor();
}

async function accessible(page: Page, name: string): Promise<void> {
  await screenshot(page, name);
  expect(await seriousViolations(page)).toEqual([]);
}

describe('the console, signed in as the platform admin', () => {
  let page: Page;
  let problems: string[];

  beforeAll(async () => {
    ({ page, problems } = await openTab(browser));
  });

  afterEach(() => {
    const seen = problems.splice(0);
    expect(seen).toEqual([]);
  });

  it('is served with a strict Content-Security-Policy, no inline script or style', async () => {
    const res = await fetch(`${stack.url}/console`);
    expect(res.status).toBe(200);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).toContain("frame-ancestors 'none'");
    const html = await res.text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/\sstyle=/);
  });

  it('signs in with the keyboard and lists the fleet, the token kept out of the URL', async () => {
    await signIn(page, stack.adminToken);
    await page.getByRole('cell', { name: /Notes for Teams/ }).waitFor();
    expect(page.url()).not.toContain(stack.adminToken);
    expect(await page.evaluate('Object.values(sessionStorage)')).toEqual([stack.adminToken]);
    await accessible(page, '01-clients-fleet');
  });

  it('finds the denied client by status and reads why: the rule, its explanation and the marked field', async () => {
    await page.getByLabel('Tenant').selectOption('acme');
    await page.getByLabel('Status').selectOption('invalid');
    await page.getByRole('button', { name: 'Search' }).click();
    const link = page.getByRole('link', { name: /broken\.json/ });
    await link.waitFor();
    expect(await page.getByRole('link', { name: /notes\.json/ }).count()).toBe(0);
    await link.click();
    const verdict = page.locator('.verdict');
    await verdict.getByText('deny', { exact: true }).waitFor();
    await expect(verdict.textContent()).resolves.toContain('document.invalid');
    const rules = page.getByRole('region', { name: 'Rule codes, explained' });
    await expect(rules.textContent()).resolves.toContain('a known field has the wrong JSON type');
    await expect(rules.textContent()).resolves.toContain('redirect_uris');
    // The refused body is shown, its bad field marked.
    await expect(page.locator('pre.json mark').first().textContent()).resolves.toContain(
      '"https://client.test/callback"',
    );
    await accessible(page, '02-client-denied');
    // README's picture: the answer to "why was this client refused?".
    if (process.env.CIMD_UPDATE_DOCS_SCREENSHOT === '1') {
      await page.setViewportSize({ width: 1280, height: 800 });
      await page.screenshot({ path: join(__dirname, 'results', 'console.png') });
      copyFileSync(join(__dirname, 'results', 'console.png'), join(__dirname, '..', '..', 'docs', 'console.png'));
    }
  });

  it('opens a client whose host does not resolve and reads fetch.dns_failed, with the next attempt', async () => {
    await page.goto(`${stack.url}/console#/client?tenant=acme&client_id=${encodeURIComponent(unresolvable)}`);
    const verdict = page.locator('.verdict');
    await verdict.getByText('pending', { exact: true }).waitFor();
    await expect(verdict.textContent()).resolves.toContain('fetch.dns_failed');
    const attempts = page.getByRole('region', { name: 'Last fetch attempts, newest first' });
    await expect(attempts.textContent()).resolves.toContain('fetch.dns_failed');
    await expect(attempts.textContent()).resolves.toMatch(/retry|cooldown/);
    await accessible(page, '03-client-dns-failed');
  });

  it('shows an allowed client with its consent card, logo from the gateway, and timeline', async () => {
    await page.goto(`${stack.url}/console#/client?tenant=acme&client_id=${encodeURIComponent(ids.good)}`);
    await page.locator('.verdict').getByText('allow', { exact: true }).waitFor();
    const logo = page.getByRole('img', { name: 'Logo of Notes for Teams' });
    await logo.waitFor();
    expect(await logo.getAttribute('src')).toMatch(/^\/v1\/logos\/[0-9a-f]{64}$/);
    expect(await logo.evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth)).toBe(1);
    await expect(page.locator('.timeline').textContent()).resolves.toContain('refresh due');
    await accessible(page, '04-client-allowed');
  });

  it('validates a policy as it is typed and dry-runs it: which clients would now be refused, and why', async () => {
    await page.goto(`${stack.url}/console#/tenants?tenant=acme`);
    const editor = page.getByLabel('Policy (JSON)');
    await page.getByText('Valid policy').waitFor();
    await editor.fill('{ "deny_hosts": ["not a host"] }');
    await page.getByText(/deny_hosts\[0\]: must be a host name/).waitFor();
    await editor.fill('{ "deny_hosts": ["other.test"] }');
    await page.getByText('Valid policy').waitFor();
    await page.getByRole('button', { name: 'Dry run' }).click();
    const results = page.getByRole('region', { name: 'With this policy' });
    await results.waitFor();
    const partnerRow = results.getByRole('row', { name: /partner\.json/ });
    await expect(partnerRow.textContent()).resolves.toContain('policy.host_denied');
    await expect(partnerRow.textContent()).resolves.toContain('newly refused');
    await expect(page.locator('.summary').textContent()).resolves.toContain('1 newly refused');
    // Nothing was saved.
    expect((await stack.request('GET', '/v1/tenants/acme/policy')).body.version).toBe(1);
    await accessible(page, '05-tenant-dry-run');
  });

  it('shows a tenant event the moment it happens', async () => {
    await page.goto(`${stack.url}/console#/events?tenant=acme`);
    await page.getByText('Connected: new events appear here').waitFor();
    // acme holds a session of the notes client; its name changes: acme is told (client.changed).
    expect(
      (
        await stack.request('POST', '/v1/tenants/acme/sessions', {
          body: { session_id: 'browser-session-1', client_id: ids.good },
        })
      ).status,
    ).toBe(201);
    stack.origin.json(
      '/apps/notes.json',
      documentFor(ids.good, {
        client_name: 'Notes for Teams 2',
        logo_uri: `https://client.test:${stack.origin.port}/logo.png`,
      }),
    );
    expect((await stack.request('POST', '/v1/clients/refresh', { body: { client_id: ids.good } })).status).toBe(202);
    const event = page.locator('.event-list li').filter({ hasText: 'client.changed' });
    await event.waitFor({ timeout: 15_000 });
    await expect(event.textContent()).resolves.toContain('client_name');
    await accessible(page, '06-events-live');
  });

  it('reads well on a phone: nothing wider than the screen', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${stack.url}/console#/clients?tenant=acme`);
    await page.getByRole('cell', { name: /Notes for Teams/ }).waitFor();
    const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
    expect(overflow).toBeLessThanOrEqual(0);
    await accessible(page, '07-clients-phone');
    await page.setViewportSize({ width: 1280, height: 900 });
  });
});

describe('the console, signed in with a tenant key', () => {
  it("sees its own tenant's clients only, never another tenant's", async () => {
    const { page, problems } = await openTab(browser);
    await signIn(page, keys.acme!);
    await expect(page.locator('#who').textContent()).resolves.toContain('Tenant acme');
    await page.getByRole('cell', { name: /Notes for Teams/ }).waitFor();
    const listed = await page.locator('.client-id').allTextContents();
    expect(listed).toContain(ids.partner);
    expect(listed).not.toContain(ids.globexOnly);
    // Asking for the other tenant in the URL still shows acme's own.
    await page.goto(`${stack.url}/console#/clients?tenant=globex`);
    await page.getByRole('heading', { name: 'Clients of acme' }).waitFor();
    // And the API refuses the key whatever the page does.
    const status = await page.evaluate(async (token) => {
      const r = await fetch('/v1/tenants/globex/clients', { headers: { authorization: `Bearer ${token}` } });
      return r.status;
    }, keys.acme!);
    expect(status).toBe(403);
    await accessible(page, '08-clients-tenant-key');
    // Only the refusal the test itself asked for.
    expect(problems.filter((p) => !p.includes('403'))).toEqual([]);
    await page.close();
  });
});
