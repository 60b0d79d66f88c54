import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { runCli } from './cli';

const CORPUS = join(__dirname, '..', '..', '..', 'test', 'fixtures', 'real-world');
const VSCODE = join(CORPUS, 'web__vscode.dev__oauth_client-metadata.json');
/** An authorize check of the VS Code document that passes everything but the options added to it. */
const VSCODE_CHECK = ['authorize-check', '--document', VSCODE, '--redirect-uri', 'https://vscode.dev/redirect'];
const CLAUDE_CODE = join(CORPUS, 'web__claude.ai__oauth_claude-code-client-metadata.json');
const dir = mkdtempSync(join(tmpdir(), 'cimd-cli-'));

function file(name: string, content: string | Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

async function run(args: string[], stdin = '') {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    stdin: () => Readable.from([Buffer.from(stdin)]),
  });
  return { code, stdout, stderr };
}

async function runJson(args: string[], stdin = '') {
  const r = await run([...args, '--json'], stdin);
  expect(r.stderr).toBe('');
  expect(r.stdout.trim().split('\n')).toHaveLength(1);
  return { code: r.code, json: JSON.parse(r.stdout) as Record<string, unknown> };
}

describe('cimd check-url', () => {
  it('prints a valid verdict with exit 0', async () => {
    const { code, json } = await runJson(['check-url', 'https://vscode.dev/oauth/client-metadata.json']);
    expect(code).toBe(0);
    expect(json).toEqual({ valid: true, errors: [], warnings: [] });
  });

  it('prints the codes and exits 1 on an invalid URL', async () => {
    const { code, json } = await runJson(['check-url', 'https://example.com/a/%2E%2e/b#frag']);
    expect(code).toBe(1);
    expect(json.valid).toBe(false);
    expect((json.errors as { code: string }[]).map((e) => e.code)).toEqual([
      'client_id.fragment',
      'client_id.dot_segment',
    ]);
  });

  it('reports warnings without failing', async () => {
    const { code, json } = await runJson(['check-url', 'https://example.com/c.json?v=1']);
    expect(code).toBe(0);
    expect(json.warnings).toEqual([{ code: 'client_id.query', message: expect.any(String) }]);
  });

  it('prints readable text without --json', async () => {
    const r = await run(['check-url', 'http://example.com/c']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^invalid \(1 error, 0 warnings\)\n {2}error {3}client_id\.not_https: /);
  });
});

describe('cimd lint', () => {
  it('prints the normalized document when valid', async () => {
    const { code, json } = await runJson(['lint', VSCODE]);
    expect(code).toBe(0);
    expect(json).toMatchObject({
      valid: true,
      errors: [],
      document: { client_id: 'https://vscode.dev/oauth/client-metadata.json', token_endpoint_auth_method: 'none' },
    });
  });

  it('checks against --client-id when given (SPEC-NOTES 9)', async () => {
    const { code, json } = await runJson([
      'lint',
      VSCODE,
      '--client-id',
      'https://evil.example/oauth/client-metadata.json',
    ]);
    expect(code).toBe(1);
    expect(json.document).toBeUndefined();
    expect((json.errors as { code: string }[])[0]?.code).toBe('document.client_id_mismatch');
  });

  it('reads standard input for -', async () => {
    const doc = JSON.stringify({
      client_id: 'https://a.example/c',
      client_name: 'A',
      redirect_uris: ['https://a.example/cb'],
    });
    const { code, json } = await runJson(['lint', '-'], doc);
    expect(code).toBe(0);
    expect(json.valid).toBe(true);
  });

  it('warns when the file is over the fetch size limit (SPEC-NOTES 6)', async () => {
    const doc = {
      client_id: 'https://a.example/c',
      client_name: 'A',
      redirect_uris: ['https://a.example/cb'],
      pad: 'x'.repeat(6000),
    };
    const { json } = await runJson(['lint', file('big.json', JSON.stringify(doc))]);
    expect((json.warnings as { code: string }[]).map((w) => w.code)).toContain('document.exceeds_fetch_limit');
  });

  it.each([
    ['a missing file', () => join(dir, 'nope.json'), /nope\.json: no such file/],
    ['a directory', () => (mkdirSync(join(dir, 'sub'), { recursive: true }), join(dir, 'sub')), /is a directory/],
    ['an empty file', () => file('empty.json', ''), /is empty/],
    [
      'a non-JSON file',
      () => file('bad.json', '{"client_id": "x",\n  oops}'),
      /is not valid JSON: .*\(line 2, column 3\)/,
    ],
    ['a binary file', () => file('bin.json', Buffer.from([0x7b, 0x00, 0xff, 0x10])), /is a binary file/],
    [
      'a file that is not UTF-8',
      () => file('latin1.json', Buffer.from([0x7b, 0x22, 0xe9, 0x22, 0x7d])),
      /is not UTF-8 text/,
    ],
    ['a 10 MB file', () => file('huge.json', Buffer.alloc(10 * 1024 * 1024, 0x20)), /is 10485760 bytes/],
  ])('refuses %s with a message and exit 2, never a stack trace', async (_name, make, message) => {
    const r = await run(['lint', make()]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('refuses more than 1 MiB on standard input', async () => {
    const r = await run(['lint', '-'], ' '.repeat(2 * 1024 * 1024));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/standard input is more than \d+ bytes/);
  });

  it('accepts a UTF-8 byte order mark', async () => {
    const doc = `\ufeff${JSON.stringify({ client_id: 'https://a.example/c', client_name: 'A', redirect_uris: ['https://a.example/cb'] })}`;
    expect((await run(['lint', file('bom.json', doc)])).code).toBe(0);
  });
});

describe('cimd authorize-check', () => {
  it('allows a registered loopback redirect on any port (SPEC-NOTES 16)', async () => {
    const { code, json } = await runJson([
      'authorize-check',
      '--document',
      CLAUDE_CODE,
      '--redirect-uri',
      'http://127.0.0.1:49152/callback',
    ]);
    expect(code).toBe(0);
    expect(json).toMatchObject({
      decision: 'allow',
      client: {
        client_id: 'https://claude.ai/oauth/claude-code-client-metadata',
        host: 'claude.ai',
        name: 'Claude Code',
        redirect_host: '127.0.0.1',
      },
      trust: { level: 'unverified', warnings: ['redirect_uris.loopback_only'] },
    });
  });

  it('denies an unregistered redirect with exit 1', async () => {
    const { code, json } = await runJson([
      'authorize-check',
      '--document',
      VSCODE,
      '--redirect-uri',
      'https://evil.example/cb',
    ]);
    expect(code).toBe(1);
    expect(json).toMatchObject({ decision: 'deny', error: 'invalid_request', reason: 'redirect_uri.not_registered' });
  });

  it('denies a document served for another client_id (impersonation)', async () => {
    const { code, json } = await runJson([
      'authorize-check',
      '--document',
      VSCODE,
      '--client-id',
      'https://attacker.example/client.json',
      '--redirect-uri',
      'https://vscode.dev/redirect',
    ]);
    expect(code).toBe(1);
    expect(json).toMatchObject({ decision: 'deny', error: 'invalid_client', reason: 'document.invalid' });
  });

  it('applies a policy file', async () => {
    const policy = file('policy.json', JSON.stringify({ deny_hosts: ['vscode.dev'] }));
    const { code, json } = await runJson([
      'authorize-check',
      '--document',
      VSCODE,
      '--redirect-uri',
      'https://vscode.dev/redirect',
      '--policy',
      policy,
    ]);
    expect(code).toBe(1);
    expect(json).toMatchObject({ decision: 'deny', error: 'unauthorized_client', reason: 'policy.host_denied' });
  });

  it('passes scope, response type and PKCE method through', async () => {
    expect((await runJson([...VSCODE_CHECK, '--response-type', 'token'])).json.reason).toBe(
      'response_type.unsupported',
    );
    expect((await runJson([...VSCODE_CHECK, '--code-challenge-method', ''])).json.reason).toBe('pkce.required');
    expect((await runJson([...VSCODE_CHECK, '--scope', 'read'])).json.decision).toBe('allow');
  });

  it('refuses an invalid policy file with every problem listed and exit 2', async () => {
    const policy = file('bad-policy.json', JSON.stringify({ deny_hosts: 'x', typo: true }));
    const r = await run([...VSCODE_CHECK, '--policy', policy]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('deny_hosts: Invalid input');
    expect(r.stderr).toContain('unknown field(s) typo');
  });

  it('asks for --client-id when the document has none', async () => {
    const doc = file('noid.json', JSON.stringify({ redirect_uris: ['https://a.example/cb'] }));
    const r = await run(['authorize-check', '--document', doc, '--redirect-uri', 'https://a.example/cb']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--client-id');
  });

  it('prints a readable decision without --json', async () => {
    const r = await run(['authorize-check', '--document', VSCODE, '--redirect-uri', 'https://vscode.dev/redirect']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      'allow\n  client:   Visual Studio Code (vscode.dev)\n  redirect: vscode.dev\n  trust:    verified_origin',
    );
  });
});

describe('usage', () => {
  it.each([
    [['frob']],
    [['check-url']],
    [['lint']],
    [['authorize-check', '--document', VSCODE]],
    [['check-url', 'https://a.example/c', '--bogus']],
  ])('%j is a usage error: exit 2 with a message', async (args) => {
    const r = await run(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/error: /);
  });

  it('--help exits 0 and lists the commands', async () => {
    const r = await run(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/check-url[\s\S]*lint[\s\S]*authorize-check/);
  });

  it('--version prints the package version', async () => {
    const r = await run(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it.each([['-V'], ['-V8'], ['--version']])(
    'an option value %j after the command is that value, not the program version',
    async (value) => {
      const { code, json } = await runJson([...VSCODE_CHECK, '--code-challenge-method', value]);
      expect(code).toBe(1);
      expect(json).toMatchObject({ decision: 'deny', reason: 'pkce.required' });
    },
  );
});

describe('messages with user input', () => {
  it('escapes control characters of a file name, so no escape sequence reaches the terminal', async () => {
    const r = await run(['lint', join(dir, 'x\u001b[2J\u0007\u202e.json')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('x\\u001b[2J\\u0007\\u202e.json: no such file.');
    // eslint-disable-next-line no-control-regex
    expect(r.stderr).not.toMatch(/[\x00-\x09\x0b-\x1f\u202e]/);
  });

  it('--json escapes the invisible characters of an echoed document, and the value stays the same', async () => {
    const odd = 'A\u0085B\u202eC\u2066D\u007fE';
    const doc = { client_id: 'https://a.example/c', software_id: odd, redirect_uris: ['https://a.example/cb'] };
    const r = await run(['lint', file('invisible.json', JSON.stringify(doc)), '--json']);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toMatch(/[\u007f-\u009f\u202a-\u202e\u2066-\u2069]/);
    expect(r.stdout).toContain('A\\u0085B\\u202eC\\u2066D\\u007fE');
    expect((JSON.parse(r.stdout) as { document: { software_id: string } }).document.software_id).toBe(odd);
  });
  it.each([['null'], ['[]'], ['"x"'], ['1']])(
    'a policy file holding %s is refused, not read as the defaults',
    async (text) => {
      const r = await run([
        ...VSCODE_CHECK,
        '--policy',
        file(`policy-${text.length}-${text.charCodeAt(0)}.json`, text),
      ]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/is not a valid tenant policy: a policy is a JSON object/);
    },
  );
});

describe('cimd client-assertion', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cimd-assertion-'));

  it('signs an assertion a gateway accepts: iss = sub = client_id, the aud, a jti, a short life', async () => {
    const { generateKeyPair, exportJWK, exportPKCS8, jwtVerify, decodeProtectedHeader } = await import('jose');
    const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
    const jwkFile = join(dir, 'key.jwk.json');
    writeFileSync(jwkFile, JSON.stringify({ ...(await exportJWK(privateKey)), kid: 'k-1' }));
    const pemFile = join(dir, 'key.pem');
    writeFileSync(pemFile, await exportPKCS8(privateKey));
    for (const [file, kid] of [
      [jwkFile, 'k-1'],
      [pemFile, 'from-option'],
    ] as const) {
      const args = [
        'client-assertion',
        '--key',
        file,
        '--client-id',
        'https://app.example/c.json',
        '--aud',
        'https://as.example',
      ];
      const r = await run(file === pemFile ? [...args, '--kid', 'from-option', '--lifetime', '120'] : args);
      expect(r).toMatchObject({ code: 0, stderr: '' });
      const jwt = r.stdout.trim();
      expect(decodeProtectedHeader(jwt)).toEqual({ alg: 'ES256', typ: 'oauth-client-auth+jwt', kid });
      const { payload } = await jwtVerify(jwt, publicKey, {
        audience: 'https://as.example',
        issuer: 'https://app.example/c.json',
      });
      expect(payload.sub).toBe('https://app.example/c.json');
      expect(typeof payload.jti).toBe('string');
      expect(payload.exp! - payload.iat!).toBe(file === pemFile ? 120 : 60);
    }
  });

  it.each([
    [['--lifetime', '3600'], /--lifetime must be a whole number of seconds from 1 to 300/],
    [['--alg', 'HS256'], /--alg must be one of RS256/],
  ])('refuses %j with a usage error', async (extra, message) => {
    const { generateKeyPair, exportJWK } = await import('jose');
    const { privateKey } = await generateKeyPair('RS256', { extractable: true });
    const file = join(dir, 'rsa.json');
    writeFileSync(file, JSON.stringify(await exportJWK(privateKey)));
    const r = await run([
      'client-assertion',
      '--key',
      file,
      '--client-id',
      'https://a.example/c',
      '--aud',
      'https://as.example',
      ...extra,
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  it('refuses a public key, and what is not a key', async () => {
    const { generateKeyPair, exportJWK } = await import('jose');
    const { publicKey } = await generateKeyPair('ES256', { extractable: true });
    const pub = join(dir, 'pub.json');
    writeFileSync(pub, JSON.stringify(await exportJWK(publicKey)));
    const junk = join(dir, 'junk.pem');
    writeFileSync(junk, 'hello');
    const base = ['--client-id', 'https://a.example/c', '--aud', 'https://as.example'];
    expect((await run(['client-assertion', '--key', pub, ...base])).stderr).toMatch(
      /public key; sign with the private key/,
    );
    expect((await run(['client-assertion', '--key', junk, ...base])).stderr).toMatch(/not a private key/);
  });
});
