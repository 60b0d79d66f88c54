import { api, enc, query } from '../api.js';
import { announce, badge, errorBox, field, h, section, table } from '../dom.js';
import { go } from '../main.js';
import { decisionBadge, noTenants, tenantOf, tenantPicker } from './common.js';

const CHANGES = {
  denied: 'newly refused',
  allowed: 'newly allowed',
  reason: 'refused for another rule',
  trust: 'shown differently',
  none: 'unchanged',
};

/** A tenant's policy: edited with validation as you type, tried on its clients (dry run), then saved. */
export async function tenantsPage(main, params, session) {
  const tenant = tenantOf(session, params);
  if (!tenant) return noTenants(main);
  const base = `/v1/tenants/${enc(tenant)}/policy`;
  const current = await api('GET', base);

  const picker = tenantPicker(session, tenant);
  picker.querySelector?.('select')?.addEventListener('change', (e) => go('tenants', { tenant: e.target.value }));
  const editor = h('textarea', { name: 'policy', rows: '18', spellcheck: 'false', class: 'code' });
  editor.value = JSON.stringify(current.policy, null, 2);
  const validity = h('div', { class: 'validity', role: 'status', 'aria-live': 'polite' });
  const results = h('div', { id: 'dry-run-results' });
  const version = h('p', { class: 'muted' }, `Policy in force: version ${current.version}.`);

  let timer;
  let seq = 0;
  const validate = async () => {
    const mine = ++seq;
    let body;
    try {
      body = JSON.parse(editor.value);
    } catch (e) {
      showValidity({ valid: false, errors: [`not JSON: ${e.message}`] });
      return undefined;
    }
    try {
      const answer = await api('POST', `${base}/validate`, editor.value);
      if (mine === seq) showValidity(answer);
      return answer.valid ? body : undefined;
    } catch (e) {
      if (mine === seq) validity.replaceChildren(errorBox(e));
      return undefined;
    }
  };
  const showValidity = ({ valid, errors }) => {
    editor.setAttribute('aria-invalid', valid ? 'false' : 'true');
    validity.replaceChildren(
      valid
        ? h('p', { class: 'ok' }, '✓ Valid policy')
        : h(
            'div',
            {},
            h('p', { class: 'bad' }, `${errors.length} problem(s):`),
            h(
              'ul',
              {},
              errors.map((e) => h('li', {}, e)),
            ),
          ),
    );
  };
  editor.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(() => void validate(), 300);
  });

  const dryRun = async () => {
    results.replaceChildren(h('p', { 'aria-busy': 'true' }, 'Running…'));
    try {
      const run = await api('POST', `${base}/dry-run`, editor.value);
      results.replaceChildren(dryRunResult(run, tenant));
      announce(`Dry run: ${run.counts.denied} newly refused of ${run.evaluated}`);
    } catch (e) {
      results.replaceChildren(errorBox(e));
    }
  };
  const save = async () => {
    try {
      const saved = await api('PUT', base, editor.value);
      version.textContent = `Policy in force: version ${saved.version} (saved).`;
      announce(`Saved as version ${saved.version}`);
    } catch (e) {
      results.replaceChildren(errorBox(e));
    }
  };

  main.append(
    h('h1', {}, `Tenant ${tenant}`),
    picker,
    section(
      'Policy',
      version,
      field('Policy (JSON)', editor, 'Checked as you type. Every field is optional; unknown fields are refused.'),
      validity,
      h(
        'div',
        { class: 'actions' },
        h('button', { type: 'button', onclick: () => void dryRun() }, 'Dry run'),
        h('button', { type: 'button', class: 'secondary', onclick: () => void save() }, 'Save policy'),
      ),
    ),
    section(
      'Dry run',
      h('p', { class: 'muted' }, 'Which of the clients this tenant has seen would now be refused, and why.'),
      results,
    ),
  );
  await validate();
}

function dryRunResult(run, tenant) {
  const rows = run.rows.map((r) =>
    h(
      'tr',
      { class: `change-${r.change}` },
      h('td', {}, h('a', { href: `#/client${query({ tenant, client_id: r.client_id })}` }, r.client_id)),
      h('td', {}, h('code', {}, r.redirect_uri || '—')),
      h('td', {}, decisionBadge(r.current.decision), r.current.reason ? [' ', h('code', {}, r.current.reason)] : null),
      h(
        'td',
        {},
        decisionBadge(r.proposed.decision),
        r.proposed.reason ? [' ', h('code', {}, r.proposed.reason)] : null,
        r.proposed.decision === 'deny' ? h('div', { class: 'detail' }, r.proposed.error_description ?? '') : null,
      ),
      h('td', {}, badge(CHANGES[r.change] ?? r.change, r.change)),
    ),
  );
  return h(
    'div',
    {},
    h(
      'p',
      { class: 'summary' },
      h('strong', {}, `${run.counts.denied} newly refused`),
      `, ${run.counts.allowed} newly allowed, ${run.counts.reason + run.counts.trust} otherwise changed, ${run.counts.none} unchanged — of ${run.evaluated} client(s)`,
      run.truncated ? ` (the ${run.evaluated} most recent of ${run.seen})` : '',
      '.',
    ),
    table('With this policy', ['Client', 'redirect_uri', 'Now', 'With this policy', 'Change'], rows, {
      empty: 'This tenant has not asked about any client yet.',
    }),
  );
}
