import { runScript } from './support/run-script';

/** `npm run demo:mcp` (after the build `npm test` does): the story runs for a person and says what it should. */
it('the MCP demo walks through a CIMD client, a refused redirect, a confidential client, a removed and a changed document', async () => {
  const { out, code } = await runScript('demo-mcp.js');
  expect(out).not.toContain('failed');
  expect(code).toBe(0);
  expect(out).toMatch(/1\. The MCP SDK's client[\s\S]*client_id_metadata_document_supported: true/);
  expect(out).toMatch(/dynamic registration: not offered, not attempted \(0 requests\)/);
  expect(out).toMatch(
    /tool call whoami → "demo-user through https:\/\/mcp-client\.demo\.test:\d+\/oauth\/mcp-client\.json"/,
  );
  expect(out).toMatch(
    /2\. A client whose document[\s\S]*\/authorize → HTTP 400 at \/auth: invalid_request[\s\S]*redirect allowed: false/,
  );
  expect(out).toMatch(/without an assertion → invalid_client/);
  expect(out).toMatch(/key not in its document → invalid_client/);
  expect(out).toMatch(/the same assertion again \(a refresh\) → invalid_client/);
  expect(out).toMatch(/4\. [\s\S]*active: false \(client\.gone\)[\s\S]*next tool call → UnauthorizedError/);
  expect(out).toMatch(
    /5\. [\s\S]*\(client\.changed:redirect_uris_removed\)[\s\S]*refresh with the client's refresh token → invalid_grant/,
  );
}, 120_000);
