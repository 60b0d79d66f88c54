import { spawn } from 'node:child_process';
import { join } from 'node:path';

/** `npm run demo` (after the build `npm test` does): the walk-through runs and says what it should. */
it('the demo walks through miss, hit, redirect mismatch, impersonation and a denying tenant', async () => {
  const child = spawn(process.execPath, [join(__dirname, '..', 'scripts', 'demo.js')], { env: process.env });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
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
}, 90_000);
