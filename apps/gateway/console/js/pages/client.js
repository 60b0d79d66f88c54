import { api, enc, query } from '../api.js';
import { announce, badge, errorBox, field, h, section, table, time } from '../dom.js';
import { jsonView, marksOf } from '../json-view.js';
import { go } from '../main.js';
import { decisionBadge, healthBadge, logoPath, noTenants, tenantOf, tenantPicker } from './common.js';

const SOURCES = {
  client_id: 'client_id URL',
  document: 'document',
  fetch: 'fetch',
  suspect: 'fetch (being confirmed)',
  decision: 'decision',
  trust: 'consent warning',
};

const TIMELINE = {
  now: 'now',
  first_seen: 'first seen by this deployment',
  fetched: 'fetched',
  refresh_due: 'refresh due (served, refetched in the background)',
  refetch_due: 'fetched again no sooner than this (refused client)',
  expires: 'expires',
  stale_window_ends: "stale-if-error window ends (this tenant's policy)",
  suspect_since: 'suspect since (document vanished or broke)',
  last_error: 'last transient error',
};

/** "Why was this client refused?": everything the gateway knows about one client, for one tenant. */
export async function clientPage(main, params, session) {
  const tenant = tenantOf(session, params);
  if (!tenant) return noTenants(main);
  const clientInput = h('input', {
    type: 'url',
    name: 'client_id',
    value: params.client_id ?? '',
    required: true,
    autocomplete: 'off',
    spellcheck: 'false',
  });
  const redirectInput = h('input', {
    type: 'text',
    name: 'redirect_uri',
    value: params.redirect_uri ?? '',
    autocomplete: 'off',
    spellcheck: 'false',
  });
  const form = h(
    'form',
    {
      class: 'filters',
      onsubmit: (event) => {
        event.preventDefault();
        const data = new FormData(event.target);
        go('client', {
          tenant: data.get('tenant') ?? tenant,
          client_id: data.get('client_id'),
          redirect_uri: data.get('redirect_uri'),
        });
      },
    },
    tenantPicker(session, tenant),
    field('client_id', clientInput),
    field(
      'redirect_uri (optional)',
      redirectInput,
      "Empty: the tenant's last request, or the document's first redirect URI.",
    ),
    h('button', { type: 'submit' }, 'Explain'),
  );
  main.append(h('h1', {}, 'Why is this client allowed or refused?'), form);
  if (!params.client_id) {
    clientInput.focus();
    return;
  }

  const body = h('div', { 'aria-busy': 'true' }, 'Loading…');
  main.append(body);
  let c;
  try {
    c = await api(
      'GET',
      `/v1/tenants/${enc(tenant)}/clients/inspect${query({ client_id: params.client_id, redirect_uri: params.redirect_uri })}`,
    );
  } catch (e) {
    body.replaceChildren(errorBox(e));
    body.removeAttribute('aria-busy');
    return;
  }
  body.replaceChildren(
    verdict(c),
    h('div', { class: 'grid' }, consent(c), findings(c)),
    attempts(c, session),
    documentPanel(c),
    h('div', { class: 'grid' }, timelinePanel(c), history(c)),
    sessionsPanel(c),
  );
  body.removeAttribute('aria-busy');
  announce(`Decision: ${c.decision.decision}${c.decision.reason ? `, ${c.decision.reason}` : ''}`);
}

function verdict(c) {
  const d = c.decision;
  return h(
    'section',
    { class: `panel verdict verdict-${d.decision}`, 'aria-labelledby': 'verdict-title' },
    h('h2', { id: 'verdict-title' }, 'Decision for ', h('span', { class: 'client-id' }, c.client_id)),
    h(
      'p',
      { class: 'verdict-line' },
      decisionBadge(d.decision),
      ' ',
      d.error ? h('code', {}, d.error) : null,
      ' ',
      d.reason ? h('code', { class: 'reason' }, d.reason) : null,
      ' ',
      healthBadge(c.health),
    ),
    d.error_description ? h('p', { class: 'description' }, d.error_description) : null,
    d.fetch_error
      ? h(
          'p',
          { class: 'fetch-error' },
          'Last fetch failed: ',
          h('code', {}, d.fetch_error.code),
          ` — ${d.fetch_error.message} `,
          time(d.fetch_error.at),
          d.retry_after_seconds ? ` · retry after ${d.retry_after_seconds} s` : '',
        )
      : null,
    h(
      'p',
      { class: 'muted' },
      `Tenant ${c.tenant} (policy v${c.policy_version}) · redirect_uri `,
      h('code', {}, c.request.redirect_uri || '(none)'),
      ` from ${c.request.from === 'given' ? 'this form' : c.request.from === 'last_check' ? "the tenant's last check" : 'the document'}`,
      ` · cache: ${c.cache}`,
    ),
  );
}

function consent(c) {
  const k = c.consent;
  const logo = logoPath(k.logo_url);
  return section(
    'Consent preview',
    h(
      'div',
      { class: 'consent-card' },
      logo ? h('img', { src: logo, alt: `Logo of ${k.name ?? k.host}`, width: '48', height: '48' }) : null,
      h(
        'div',
        {},
        h('p', { class: 'consent-name' }, k.name ?? k.host),
        h('p', {}, 'Client on ', h('strong', {}, k.host)),
        k.redirect_host ? h('p', {}, 'You will be sent back to ', h('strong', {}, k.redirect_host)) : null,
        k.trust_level ? h('p', {}, 'Trust: ', badge(k.trust_level, 'trust')) : null,
        k.warnings?.length
          ? h(
              'ul',
              { class: 'warnings' },
              k.warnings.map((w) => h('li', {}, h('code', {}, w))),
            )
          : null,
      ),
    ),
    k.shown ? null : h('p', { class: 'muted' }, 'Not shown: the request is not allowed.'),
  );
}

function findings(c) {
  const rows = c.findings.map((f) =>
    h(
      'tr',
      { class: `sev-${f.severity}` },
      h('td', {}, h('code', {}, f.code)),
      h('td', {}, badge(f.severity)),
      h('td', {}, SOURCES[f.source] ?? f.source, f.field ? [' ', h('code', {}, f.field)] : null),
      h('td', {}, f.summary ?? '', f.message ? h('div', { class: 'detail' }, f.message) : null),
      h('td', {}, f.spec ?? ''),
    ),
  );
  return section(
    'Rule codes',
    table('Rule codes, explained', ['Code', 'Severity', 'Where', 'Why', 'Spec'], rows, {
      empty: 'No rule reported anything.',
    }),
  );
}

function attempts(c, session) {
  const rows = c.attempts.map((a) =>
    h(
      'tr',
      {},
      h('td', {}, time(a.at)),
      h('td', {}, `${a.reason} #${a.attempt}`),
      h('td', {}, badge(a.outcome, a.outcome === 'ok' || a.outcome === 'not_modified' ? 'allow' : 'deny')),
      h('td', {}, a.code ? [h('code', {}, a.code), h('div', { class: 'detail' }, a.message ?? '')] : '—'),
      h('td', { class: 'num' }, a.http_status ?? '—'),
      h('td', { class: 'num' }, `${a.duration_ms} ms`),
      h('td', {}, a.next ? [`${a.next.kind} `, time(a.next.at)] : '—'),
    ),
  );
  const refresh =
    session.kind === 'admin'
      ? h(
          'button',
          {
            type: 'button',
            onclick: async (event) => {
              event.target.disabled = true;
              try {
                await api('POST', '/v1/clients/refresh', { client_id: c.client_id });
                announce('Fetch enqueued');
                setTimeout(() => go('client', { tenant: c.tenant, client_id: c.client_id }), 1500);
              } catch (e) {
                event.target.after(errorBox(e));
              }
            },
          },
          'Fetch now',
        )
      : null;
  return section(
    'Fetch attempts',
    table('Last fetch attempts, newest first', ['When', 'Why', 'Outcome', 'Problem', 'HTTP', 'Took', 'Next'], rows, {
      empty: 'No attempt recorded in the last 24 hours.',
    }),
    refresh,
  );
}

function documentPanel(c) {
  const marks = marksOf(c.findings);
  if (!c.document) return section('Document', h('p', { class: 'muted' }, 'No document is kept for this client.'));
  if (c.document.kind === 'validated')
    return section('Document', h('p', {}, 'As validated and cached (normalized).'), jsonView(c.document.json, marks));
  let parsed;
  try {
    parsed = JSON.parse(c.document.text);
  } catch {
    parsed = undefined;
  }
  return section(
    'Document',
    h('p', {}, 'The last refused body, kept for you: never served as a document.'),
    parsed !== undefined ? jsonView(parsed, marks) : h('pre', { class: 'json', tabindex: '0' }, c.document.text),
  );
}

function timelinePanel(c) {
  return section(
    'Cache timeline',
    h(
      'ol',
      { class: 'timeline' },
      c.timeline.map((p) =>
        h(
          'li',
          { class: p.what === 'now' ? 'now' : p.future ? 'future' : 'past' },
          h('span', { class: 'what' }, TIMELINE[p.what] ?? p.what.replace(':', ': ')),
          ' ',
          time(p.at),
        ),
      ),
    ),
  );
}

function history(c) {
  const r = c.registry;
  return section(
    'Changes and events',
    r
      ? h(
          'dl',
          {},
          h('dt', {}, 'Registry status'),
          h('dd', {}, r.status),
          h('dt', {}, 'First seen'),
          h('dd', {}, time(r.first_seen_at)),
          h('dt', {}, 'Last event'),
          h('dd', {}, h('code', {}, r.last_event), ' ', time(r.last_event_at)),
          r.last_changed_at
            ? [h('dt', {}, 'Last change'), h('dd', {}, (r.last_changes ?? []).join(', '), ' ', time(r.last_changed_at))]
            : null,
        )
      : h('p', { class: 'muted' }, 'Not in the clients registry (no fetch has produced an event).'),
    c.checks
      ? h(
          'p',
          {},
          `This tenant checked it ${c.checks.count} time(s); last `,
          time(c.checks.last_at),
          ': ',
          decisionBadge(c.checks.last_decision),
        )
      : null,
    h(
      'ul',
      { class: 'events' },
      c.events.length === 0
        ? h('li', { class: 'muted' }, 'No event of this tenant about this client.')
        : c.events.map((e) => h('li', {}, time(e.time), ' ', h('code', {}, e.type), ' ', JSON.stringify(e.data))),
    ),
  );
}

function sessionsPanel(c) {
  return section(
    'Sessions per tenant',
    table(
      'Sessions of this client',
      ['Tenant', 'Live', 'All'],
      c.sessions.map((s) =>
        h(
          'tr',
          {},
          h('td', {}, s.tenant),
          h('td', { class: 'num' }, String(s.live)),
          h('td', { class: 'num' }, String(s.total)),
        ),
      ),
      { empty: 'No session registered.' },
    ),
  );
}
