import { Canary, createTestPki, TestOrigin } from '@cimd/testing';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { runCli } from '../apps/cli/src/cli';

/** `cimd fetch` against a local HTTPS origin (CA made here), through the test overrides. */
let origin: TestOrigin;
let canary: Canary;
let caFile: string;
let port: number;

async function run(args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    stdin: () => Readable.from([]),
  });
  return { code, stdout, stderr };
}

const overrides = () => [
  '--resolve',
  `client.test:${port}:127.0.0.1`,
  '--ca-file',
  caFile,
  '--allow-cidr',
  '127.0.0.1/32',
  '--allow-port',
  String(port),
];

beforeAll(async () => {
  const pki = await createTestPki();
  origin = new TestOrigin(await pki.issue(['client.test']));
  port = await origin.listen('127.0.0.1');
  canary = new Canary();
  await canary.listen('127.0.0.1', 0);
  const dir = mkdtempSync(join(tmpdir(), 'cimd-fetch-'));
  caFile = join(dir, 'ca.pem');
  writeFileSync(caFile, pki.caPem);
  const id = `https://client.test:${port}/client.json`;
  origin.json(
    '/client.json',
    {
      client_id: id,
      client_name: 'CLI',
      redirect_uris: ['https://client.test/cb'],
      token_endpoint_auth_method: 'none',
    },
    { 'cache-control': 'max-age=900' },
  );
  origin.route('/gone.json', (_req, res) => res.writeHead(410).end());
});

afterAll(async () => {
  await origin.close();
  await canary.close();
});

describe('cimd fetch', () => {
  it('prints the validated document and its cache lifetime, exit 0', async () => {
    const r = await run(['fetch', `https://client.test:${port}/client.json`, ...overrides(), '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      valid: true,
      outcome: 'ok',
      errors: [],
      warnings: [],
      document: expect.objectContaining({ client_name: 'CLI' }),
      cache: { ttl_seconds: 900 },
    });
  });

  it('reports a vanished document as gone, exit 1', async () => {
    const r = await run(['fetch', `https://client.test:${port}/gone.json`, ...overrides(), '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ valid: false, outcome: 'gone', errors: [{ code: 'fetch.gone' }] });
  });

  it('blocks a special-use address without an exemption, and connects to nothing', async () => {
    const r = await run([
      'fetch',
      `https://canary.test:${canary.port}/x`,
      '--resolve',
      `canary.test:${canary.port}:127.0.0.1`,
      '--allow-port',
      String(canary.port),
      '--json',
    ]);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({
      valid: false,
      outcome: 'blocked',
      errors: [{ code: 'fetch.blocked_address' }],
    });
    expect(canary.connections).toBe(0);
  });

  it('refuses a port that is not allowed', async () => {
    const r = await run([
      'fetch',
      `https://client.test:${port}/client.json`,
      '--resolve',
      `client.test:${port}:127.0.0.1`,
      '--json',
    ]);
    expect(JSON.parse(r.stdout)).toMatchObject({ outcome: 'blocked', errors: [{ code: 'fetch.port_not_allowed' }] });
  });

  it('applies --max-bytes', async () => {
    const r = await run([
      'fetch',
      `https://client.test:${port}/client.json`,
      ...overrides(),
      '--max-bytes',
      '50',
      '--json',
    ]);
    expect(JSON.parse(r.stdout)).toMatchObject({ outcome: 'too_large' });
  });

  it('prints readable text without --json', async () => {
    const r = await run(['fetch', `https://client.test:${port}/client.json`, ...overrides()]);
    expect(r.stdout).toBe('valid: ok, cache 900 s\n');
  });

  it.each([
    [['--resolve', 'nonsense'], /--resolve: resolve entry "nonsense" is not host:port:address/],
    [['--ca-file', '/nonexistent.pem'], /--ca-file: cannot read \/nonexistent.pem \(ENOENT\)/],
    [['--allow-cidr', '10.0.0.0/99'], /--allow-cidr: "10.0.0.0\/99" is not a CIDR/],
    [['--max-bytes', '-5'], /--max-bytes must be a whole number/],
    [['--timeout-ms', 'soon'], /--timeout-ms must be a whole number/],
    [['--allow-port', '70000'], /--allow-port must be a whole number from 1 to 65535/],
  ])('%j is a usage error with exit 2', async (extra, message) => {
    const r = await run(['fetch', 'https://client.test/client.json', ...extra]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  it('works as the built binary', async () => {
    const child = spawn(process.execPath, [
      join(__dirname, '..', 'bin', 'cimd.js'),
      'fetch',
      `https://client.test:${port}/client.json`,
      ...overrides(),
      '--json',
    ]);
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code).toBe(0);
    expect(JSON.parse(out)).toMatchObject({ valid: true, outcome: 'ok' });
  });
});

describe('cimd fetch: the key set at jwks_uri (SPEC-NOTES 27)', () => {
  const rsaKey = async (kid: string) => {
    const { generateKeyPair, exportJWK } = await import('jose');
    const { publicKey } = await generateKeyPair('RS256', { extractable: true });
    return { ...(await exportJWK(publicKey)), kid, use: 'sig' };
  };
  const serve = (name: string, jwks: unknown) => {
    const id = `https://client.test:${port}/${name}.json`;
    origin.json(`/${name}.json`, {
      client_id: id,
      client_name: 'Keys',
      redirect_uris: ['https://client.test/cb'],
      token_endpoint_auth_method: 'private_key_jwt',
      jwks_uri: `https://client.test:${port}/${name}.jwks`,
    });
    origin.json(`/${name}.jwks`, jwks);
    return id;
  };

  it('fetches and checks the key set, listing the usable keys', async () => {
    const id = serve('with-keys', { keys: [await rsaKey('k1'), await rsaKey('k2')] });
    const r = await run(['fetch', id, ...overrides(), '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).keys).toEqual({ outcome: 'ok', key_ids: ['k1', 'k2'], errors: [], warnings: [] });
    const text = await run(['fetch', id, ...overrides()]);
    expect(text.stdout).toContain('keys at jwks_uri: ok (2 usable: k1, k2)');
  });

  it('a key set that cannot be used makes the fetch invalid, saying why', async () => {
    const k = await rsaKey('dup');
    const id = serve('dup-keys', { keys: [k, k] });
    const r = await run(['fetch', id, ...overrides(), '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({
      valid: false,
      outcome: 'ok',
      keys: { outcome: 'refused', errors: [{ code: 'keys.duplicate_kid' }] },
    });
  });
});
