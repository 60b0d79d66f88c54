// The console's shell: sign-in, the navigation, and a hash router (#/page?params) that renders
// one page at a time into <main>. A page is a function (main, params, session) that may return
// a cleanup function (the events page closes its stream).
import { api, ApiError, token } from './api.js';
import { clear, errorBox, h } from './dom.js';
import { clientPage } from './pages/client.js';
import { clientsPage } from './pages/clients.js';
import { eventsPage } from './pages/events.js';
import { signInPage } from './pages/sign-in.js';
import { tenantsPage } from './pages/tenants.js';

const PAGES = { clients: clientsPage, client: clientPage, tenants: tenantsPage, events: eventsPage };
const TITLES = { clients: 'Clients', client: 'A client', tenants: 'Tenants', events: 'Events', 'sign-in': 'Sign in' };

let session;
let cleanup;

/** Who the token is: { kind: 'admin', tenants: [...] } or { kind: 'tenant', tenant }. */
async function loadSession() {
  const who = await api('GET', '/v1/whoami');
  if (who.kind === 'admin') return { kind: 'admin', tenants: who.tenants.map((t) => t.id) };
  return { kind: 'tenant', tenant: who.tenant, tenants: [who.tenant] };
}

export async function signIn(value) {
  token.set(value);
  try {
    session = await loadSession();
  } catch (e) {
    token.clear();
    session = undefined;
    throw e;
  }
  location.hash = '#/clients';
  await route();
}

function signOut() {
  token.clear();
  session = undefined;
  location.hash = '#/sign-in';
}

function renderChrome(page) {
  const nav = document.getElementById('nav');
  const who = clear(document.getElementById('who'));
  nav.hidden = !session;
  for (const a of nav.querySelectorAll('a')) {
    if (a.dataset.page === page) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  if (session) {
    who.append(
      h('span', {}, session.kind === 'admin' ? 'Platform admin' : `Tenant ${session.tenant}`),
      h('button', { type: 'button', class: 'link-button', onclick: signOut }, 'Sign out'),
    );
  }
  document.title = `${TITLES[page] ?? 'Console'} · cimd-gateway console`;
}

async function route() {
  cleanup?.();
  cleanup = undefined;
  const [path, search = ''] = location.hash.replace(/^#\/?/, '').split('?');
  const params = Object.fromEntries(new URLSearchParams(search));
  const main = clear(document.getElementById('main'));
  if (!session && token.get()) {
    try {
      session = await loadSession();
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) token.clear();
      else {
        main.append(errorBox(e));
        return;
      }
    }
  }
  if (!session) {
    renderChrome('sign-in');
    signInPage(main, signIn);
    return;
  }
  const page = PAGES[path] ? path : 'clients';
  renderChrome(page);
  try {
    cleanup = await PAGES[page](main, params, session);
  } catch (e) {
    main.append(errorBox(e));
  }
}

/** Go to a page; the router renders it. */
export function go(page, params = {}) {
  const q = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== undefined && v !== '')).toString();
  const hash = `#/${page}${q ? `?${q}` : ''}`;
  if (location.hash === hash) void route();
  else location.hash = hash;
}

window.addEventListener('hashchange', () => void route());
void route();
