import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The built `cimd` binary as a user runs it (`npm test` builds first). The in-process specs in
 * apps/cli cover the behaviour; these prove the package wiring, stdin and exit codes.
 */
const ROOT = join(__dirname, '..');
const VSCODE = join(__dirname, 'fixtures', 'real-world', 'web__vscode.dev__oauth_client-metadata.json');

function cimd(args: string[], input?: string, viaNpx = false) {
  const [cmd, argv] = viaNpx
    ? ['npx', ['--no-install', 'cimd', ...args]]
    : [process.execPath, [join(ROOT, 'bin', 'cimd.js'), ...args]];
  const r = spawnSync(cmd, argv, { cwd: ROOT, input, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('cimd binary', () => {
  beforeAll(() => {
    if (!existsSync(join(ROOT, 'dist', 'apps', 'cli', 'src', 'main.js'))) {
      throw new Error('dist/ is missing: run "npm run build" (npm test does it first)');
    }
  });

  it('npx --no-install cimd check-url --json', () => {
    const r = cimd(['check-url', 'https://example.com/./client.json', '--json'], undefined, true);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ valid: false, errors: [{ code: 'client_id.dot_segment' }] });
  });

  it('lint from a file and from standard input', () => {
    expect(cimd(['lint', VSCODE, '--json']).code).toBe(0);
    const r = cimd(
      ['lint', '-', '--json'],
      '{"client_id":"https://a.example/c","redirect_uris":["http://a.example/cb"]}',
    );
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).errors[0].code).toBe('redirect_uri.http_not_loopback');
  });

  it('authorize-check allow and deny', () => {
    expect(
      cimd(['authorize-check', '--document', VSCODE, '--redirect-uri', 'http://127.0.0.1:40000/', '--json']).code,
    ).toBe(0);
    expect(
      cimd(['authorize-check', '--document', VSCODE, '--redirect-uri', 'http://127.0.0.1:40000/x', '--json']).code,
    ).toBe(1);
  });

  it('usage and I/O errors exit 2 with one line on stderr and no stack trace', () => {
    const r = cimd(['lint', '/does/not/exist.json']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('cimd: /does/not/exist.json: no such file.\n');
  });
});
