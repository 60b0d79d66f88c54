import { ApiError, enc, query, readEventStream } from '../api.js';
import { h, time } from '../dom.js';
import { go } from '../main.js';
import { noTenants, tenantOf, tenantPicker } from './common.js';

const MAX_SHOWN = 200;

/** The tenant's events as they happen (server-sent events read with fetch), reconnecting from the last id. */
export async function eventsPage(main, params, session) {
  const tenant = tenantOf(session, params);
  if (!tenant) return noTenants(main);
  const picker = tenantPicker(session, tenant);
  picker.querySelector?.('select')?.addEventListener('change', (e) => go('events', { tenant: e.target.value }));
  const state = h('p', { class: 'stream-state', role: 'status' }, 'Connecting…');
  const list = h('ol', { class: 'event-list', 'aria-live': 'polite', 'aria-relevant': 'additions' });
  main.append(
    h('h1', {}, `Events of ${tenant}`),
    picker,
    state,
    h('section', { 'aria-labelledby': 'live-title', class: 'panel' }, h('h2', { id: 'live-title' }, 'Live'), list),
  );

  const abort = new AbortController();
  let lastId;
  const show = (event) => {
    const link = event.client_id
      ? h('a', { href: `#/client${query({ tenant, client_id: event.client_id })}` }, event.client_id)
      : null;
    list.prepend(
      h(
        'li',
        { class: 'event', 'data-type': event.type },
        time(event.time),
        ' ',
        h('code', { class: 'event-type' }, event.type),
        ' ',
        link,
        h('pre', { class: 'json small' }, JSON.stringify(event.data, null, 2)),
      ),
    );
    while (list.children.length > MAX_SHOWN) list.lastElementChild.remove();
  };
  const run = async () => {
    for (let delay = 1000; !abort.signal.aborted; delay = Math.min(delay * 2, 30_000)) {
      try {
        await readEventStream(`/v1/tenants/${enc(tenant)}/events/stream${query({ after: lastId })}`, {
          signal: abort.signal,
          onOpen: () => {
            state.textContent = 'Connected: new events appear here as they happen.';
            delay = 1000;
          },
          onEvent: (type, data, id) => {
            if (type === 'error') {
              state.textContent = `The gateway ended the stream: ${JSON.parse(data).error_description}`;
              return;
            }
            if (id) lastId = id;
            show(JSON.parse(data));
          },
        });
      } catch (e) {
        if (abort.signal.aborted) return;
        if (e instanceof ApiError && e.status < 500) {
          state.textContent = `Cannot read the events: ${e.description}`;
          return;
        }
      }
      if (abort.signal.aborted) return;
      state.textContent = `Disconnected; reconnecting in ${delay / 1000} s…`;
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  };
  void run();
  return () => abort.abort();
}
