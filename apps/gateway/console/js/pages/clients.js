import { api, query } from '../api.js';
import { announce, errorBox, field, h, table, time } from '../dom.js';
import { go } from '../main.js';
import { decisionBadge, healthBadge, HEALTHS, tenantOf, tenantPicker } from './common.js';

const PAGE_SIZE = 25;

/** Every client the fleet (admin) or a tenant knows: searched, filtered and paged by the gateway. */
export async function clientsPage(main, params, session) {
  const tenant = tenantOf(session, params, { fleet: true });
  const offset = Number(params.offset) || 0;
  const q = params.q ?? '';
  const status = params.status ?? '';

  const search = h('input', { type: 'search', name: 'q', value: q, autocomplete: 'off' });
  const statusSelect = h(
    'select',
    { name: 'status' },
    h('option', { value: '' }, 'Any'),
    HEALTHS.map((s) => h('option', { value: s, selected: s === status }, s)),
  );
  const form = h(
    'form',
    {
      class: 'filters',
      role: 'search',
      onsubmit: (event) => {
        event.preventDefault();
        const data = new FormData(event.target);
        go('clients', { tenant: data.get('tenant') ?? tenant, q: data.get('q'), status: data.get('status') });
      },
    },
    tenantPicker(session, tenant, { fleet: true }),
    field('Search client_id or host', search),
    field('Status', statusSelect),
    h('button', { type: 'submit' }, 'Search'),
  );
  const results = h('div', { 'aria-busy': 'true' }, 'Loading…');
  main.append(h('h1', {}, tenant ? `Clients of ${tenant}` : 'Clients of the fleet'), form, results);

  const path = tenant ? `/v1/tenants/${encodeURIComponent(tenant)}/clients` : '/v1/clients/list';
  let page;
  try {
    page = await api('GET', `${path}${query({ q, status, limit: PAGE_SIZE, offset })}`);
  } catch (e) {
    results.replaceChildren(errorBox(e));
    results.removeAttribute('aria-busy');
    return;
  }
  const rows = page.items.map((c) =>
    h(
      'tr',
      {},
      h(
        'td',
        { class: 'client-cell' },
        h(
          'a',
          { href: `#/client${query({ tenant: tenant || session.tenants[0], client_id: c.client_id })}` },
          c.name ? h('span', { class: 'client-name' }, c.name) : null,
          h('span', { class: 'client-id' }, c.client_id),
        ),
      ),
      h('td', {}, healthBadge(c.health)),
      tenant
        ? h('td', {}, c.last_decision ? [decisionBadge(c.last_decision), ' ', h('code', {}, c.last_reason ?? '')] : '—')
        : null,
      h(
        'td',
        {},
        c.last_fetch ? [time(c.last_fetch.at), h('br'), h('code', {}, c.last_fetch.code ?? c.last_fetch.outcome)] : '—',
      ),
      h('td', {}, time(c.next_fetch_at)),
      h('td', { class: 'num' }, String(c.live_sessions)),
    ),
  );
  const headers = [
    'Client',
    'Status',
    ...(tenant ? ['Last decision'] : []),
    'Last fetch',
    'Next fetch',
    'Live sessions',
  ];
  const from = page.total === 0 ? 0 : offset + 1;
  const to = offset + page.items.length;
  const pager = h(
    'nav',
    { class: 'pager', 'aria-label': 'Pages' },
    h(
      'button',
      {
        type: 'button',
        disabled: offset === 0,
        onclick: () => go('clients', { tenant, q, status, offset: Math.max(0, offset - PAGE_SIZE) }),
      },
      'Previous',
    ),
    h('span', {}, `${from}–${to} of ${page.total}`),
    h(
      'button',
      {
        type: 'button',
        disabled: to >= page.total,
        onclick: () => go('clients', { tenant, q, status, offset: offset + PAGE_SIZE }),
      },
      'Next',
    ),
  );
  results.replaceChildren(
    table(`${page.total} client${page.total === 1 ? '' : 's'}`, headers, rows, {
      class: 'clients',
      empty: 'No client matches.',
    }),
    pager,
  );
  results.removeAttribute('aria-busy');
  announce(`${page.total} clients`);
}
