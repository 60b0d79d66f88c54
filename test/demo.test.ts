import { runScript } from './support/run-script';

/** `npm run demo` (after the build `npm test` does): the walk-through runs and says what it should. */
it('the demo walks through the decisions, then a session revoked on a change and on the client gone', async () => {
  const { out, code } = await runScript('demo.js');
  expect(out).not.toContain('demo failed');
  expect(code).toBe(0);
  expect(out).toMatch(/1\. first check[^\n]*\n\s+ALLOW[\s\S]*cache: fetched/);
  expect(out).toMatch(/2\. the same check again[^\n]*\n\s+ALLOW[\s\S]*cache: hit/);
  expect(out).toMatch(/3\. a redirect URI[^\n]*\n\s+DENY\s+invalid_request/);
  expect(out).toMatch(/4\. impersonation[^\n]*\n\s+DENY\s+invalid_client/);
  expect(out).toMatch(/5\. a tenant whose policy denies[^\n]*\n\s+DENY\s+unauthorized_client/);
  expect(out).toMatch(/operator console: http:\/\/127\.0\.0\.1:\d+\/console/);
  // The denied host was never fetched.
  expect(out).not.toContain('blocked.demo.test:');

  // After consent: a session, revoked when a redirect URI goes (acme's default policy), and a
  // second one revoked when the document is gone for good; each time an event and a webhook
  // that the standardwebhooks library verifies.
  expect(out).toMatch(/6\. a session registered[^\n]*\n\s+SESSION\s+alice-laptop: active/);
  const changed = /7\. the client's document changes[^\n]*\n([\s\S]*?)\n▶/.exec(out)?.[1] ?? '';
  expect(changed).toMatch(/SESSION\s+alice-laptop: revoked at \S+, reason client\.changed:redirect_uris_removed/);
  expect(changed).toMatch(/EVENT\s+#\d+ session\.revoked \{[^\n]*"changes":\["redirect_uris_removed"\]/);
  expect(changed).toMatch(/WEBHOOK\s+session\.revoked #\d+ [^\n]*: verified with the standardwebhooks library/);
  const gone = /8\. the document disappears[^\n]*\n([\s\S]*?)\norigin requests/.exec(out)?.[1] ?? '';
  expect(gone).toMatch(/SESSION\s+alice-phone: active/);
  expect(gone).toMatch(/only makes the client suspect: checks still ALLOW/);
  expect(gone).toMatch(/the client is gone[^\n]*\n\s+DENY\s+invalid_client[^\n]*\n\s+rule: document\.gone/);
  expect(gone).toMatch(/SESSION\s+alice-phone: revoked at \S+, reason client\.gone/);
  expect(gone).toMatch(/EVENT\s+#\d+ session\.revoked \{"reason":"client\.gone","sessions":1/);
  expect(gone).toMatch(/WEBHOOK\s+session\.revoked #\d+ [^\n]*: verified with the standardwebhooks library/);
  expect(out).not.toContain('NOT verified');
}, 90_000);
