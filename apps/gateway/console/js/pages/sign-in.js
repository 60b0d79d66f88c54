import { errorBox, field, h } from '../dom.js';

/** Sign in with the admin token or a tenant API key; kept in this tab's sessionStorage only. */
export function signInPage(main, signIn) {
  const input = h('input', {
    type: 'password',
    name: 'token',
    autocomplete: 'off',
    spellcheck: 'false',
    required: true,
  });
  const problem = h('div', {});
  const form = h(
    'form',
    {
      class: 'card narrow',
      onsubmit: async (event) => {
        event.preventDefault();
        problem.replaceChildren();
        try {
          await signIn(input.value.trim());
        } catch (e) {
          problem.append(
            errorBox(e.status === 401 ? { error: 'invalid_token', description: 'that token is not valid' } : e),
          );
          input.focus();
        }
      },
    },
    h('h1', {}, 'Sign in'),
    h(
      'p',
      {},
      'With the platform admin token (every tenant) or a tenant API key (that tenant only). The token stays in this tab and is sent only as a Bearer header.',
    ),
    field('Admin token or API key', input),
    problem,
    h('button', { type: 'submit' }, 'Sign in'),
  );
  main.append(form);
  input.focus();
}
