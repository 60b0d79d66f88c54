import { badge, field, h } from '../dom.js';

const HEALTH_LABELS = {
  valid: 'valid',
  suspect: 'suspect',
  failing: 'failing',
  invalid: 'invalid',
  gone: 'gone',
  unfetched: 'not fetched',
};

export const HEALTHS = Object.keys(HEALTH_LABELS);

export const healthBadge = (health) => badge(HEALTH_LABELS[health] ?? health, health);
export const decisionBadge = (decision) => badge(decision, decision);

/**
 * The tenant a page works on: a select for the admin (with "the whole fleet" where a page offers
 * it), the key's own tenant otherwise.
 */
export function tenantPicker(session, selected, { fleet = false, name = 'tenant' } = {}) {
  if (session.kind !== 'admin') {
    return h('p', { class: 'tenant-fixed' }, 'Tenant ', h('strong', {}, session.tenant));
  }
  const select = h(
    'select',
    { name },
    fleet ? h('option', { value: '' }, 'Every tenant (the fleet)') : null,
    session.tenants.map((t) => h('option', { value: t, selected: t === selected }, t)),
  );
  return field('Tenant', select);
}

/** The tenant a page opens with: the one asked for, the key's own, or the admin's first. */
export function tenantOf(session, params, { fleet = false } = {}) {
  if (session.kind !== 'admin') return session.tenant;
  if (params.tenant && session.tenants.includes(params.tenant)) return params.tenant;
  return fleet ? '' : session.tenants[0];
}

/** The same-origin path of a logo URL the gateway gave (its own copy), or undefined. */
export function logoPath(url) {
  if (!url) return undefined;
  try {
    const path = new URL(url, location.origin).pathname;
    return /^\/v1\/logos\/[0-9a-f]{64}$/.test(path) ? path : undefined;
  } catch {
    return undefined;
  }
}

export function noTenants(main) {
  main.append(
    h('div', { class: 'card' }, h('h1', {}, 'No tenants yet'), h('p', {}, 'Create one with POST /v1/tenants first.')),
  );
}
