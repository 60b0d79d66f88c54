import fc from 'fast-check';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { runCli } from '../../apps/cli/src/cli';
import { arbClientId, clientIdTraps, deepJson, FUZZ_LIMITS, FUZZ_SEED, show, Tally } from './support/bad-input';
import { record } from './support/results';
import { ownedTempDir } from './support/servers';

/**
 * Bad input, CLI: `cimd check-url`, `lint` and `authorize-check` with
 * malformed client_ids and redirect URIs, and files that are not JSON, deeply nested, huge,
 * not UTF-8, the wrong JSON, or not files at all. The exit code is the documented one (0 valid
 * or allow, 1 invalid or deny, 2 usage or I/O error), never a crash: no stack trace, no
 * "unexpected error", a clear message, no control characters printed to a terminal. Most
 * inputs run in-process through `runCli` (the code the binary runs); a sample runs the built
 * binary (`node dist/apps/cli/src/main.js`, as bin/cimd.js does) to cover the real process.
 */
const FILE = __filename;
const ROOT = join(__dirname, '..', '..');
const DIST = process.env.CIMD_RELIABILITY_DIST ?? join(ROOT, 'dist');
const CLI = join(DIST, 'apps', 'cli', 'src', 'main.js');
const CORPUS = join(ROOT, 'test', 'fixtures', 'real-world');
const VSCODE = join(CORPUS, 'web__vscode.dev__oauth_client-metadata.json');
const tally = new Tally();
const dir = ownedTempDir('fuzz-cli');
const ORIGIN = 'https://client.test';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  signal?: string | null;
}

async function inProcess(args: string[], stdin: Buffer = Buffer.alloc(0)): Promise<Run> {
  let stdout = '';
  let stderr = '';
  try {
    const code = await runCli(args, {
      stdout: (t) => (stdout += t),
      stderr: (t) => (stderr += t),
      stdin: () => Readable.from([stdin]),
    });
    return { code, stdout, stderr };
  } catch (e) {
    // runCli must never reject: this is the in-process form of a crash.
    return { code: null, stdout, stderr: `${stderr}REJECTED: ${(e as Error).stack ?? String(e)}` };
  }
}

function spawned(args: string[], stdin: Buffer = Buffer.alloc(0)): Run {
  const r = spawnSync(process.execPath, [CLI, ...args], { input: stdin, timeout: 20_000, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '', signal: r.signal };
}

/**
 * What is wrong with a run, or undefined: an exit code other than the expected ones, a
 * crash (signal, stack frames, "unexpected error", a rejected promise), a failure without a
 * message, an unparseable --json answer, control characters sent to the terminal.
 */
function judgeRun(r: Run, expected: number[], json: boolean): string | undefined {
  if (r.signal) return `killed by ${r.signal}`;
  if (r.code === null || !expected.includes(r.code))
    return `exit ${String(r.code)} (expected ${expected.join(' or ')}): ${(r.stderr || r.stdout).slice(0, 200)}`;
  if (/^\s+at .+/m.test(r.stderr) || /REJECTED|unexpected error|Error: /.test(r.stderr))
    return `crash: ${r.stderr.slice(0, 300)}`;
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/.test(r.stdout + r.stderr))
    return `control or invisible characters printed: ${JSON.stringify((r.stderr || r.stdout).slice(0, 200))}`;
  if (r.code === 2) {
    if (!/\S{3,}/.test(r.stderr)) return `exit 2 without a message (stdout ${JSON.stringify(r.stdout.slice(0, 80))})`;
    if (r.stderr.length > 4096) return `a message of ${r.stderr.length} characters`;
    return undefined;
  }
  if (json) {
    try {
      const out = JSON.parse(r.stdout) as { valid?: boolean; decision?: string; errors?: { message?: unknown }[] };
      if (r.code === 1 && out.valid !== false && out.decision !== 'deny') return `exit 1 but ${r.stdout.slice(0, 120)}`;
      for (const e of out.errors ?? [])
        if (typeof e.message !== 'string' || e.message.length < 5)
          return `a finding without a message: ${JSON.stringify(e)}`;
    } catch {
      return `--json printed no JSON: ${r.stdout.slice(0, 120)}`;
    }
  } else if (r.stdout.trim() === '') return `exit ${r.code} and nothing printed`;
  return undefined;
}

async function check(label: string, input: string, args: string[], expected: number[], stdin?: Buffer): Promise<void> {
  const r = await inProcess(args, stdin);
  tally.add(label, input, judgeRun(r, expected, args.includes('--json')), r.code === null ? 500 : 0);
}

function file(name: string, content: string | Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

const validDoc = (clientId = `${ORIGIN}/c.json`) => ({
  client_id: clientId,
  client_name: 'Fuzz',
  redirect_uris: [`${ORIGIN}/callback`],
  token_endpoint_auth_method: 'none',
});

/** Files that are not a metadata document (or not a file), and what each must end with. */
function badFiles(): { name: string; path: string; codes: number[]; checkCodes: number[] }[] {
  // authorize-check takes the request's client_id from the document: without a string one, it
  // is a usage error (exit 2) unless --client-id is given.
  const f = (name: string, content: string | Buffer, codes = [2], checkCodes = codes) => ({
    name,
    path: file(name, content),
    codes,
    checkCodes,
  });
  const folder = join(dir, 'a-folder');
  mkdirSync(folder, { recursive: true });
  return [
    f('empty', ''),
    f('whitespace', ' \n\t '),
    f('not JSON', 'client_id: https://x'),
    f('truncated JSON', '{"client_id": "https://client.test/c.json"'),
    f('trailing garbage', '{}}'),
    f('single quotes', "{'a':1}"),
    f('NaN', '{"a":NaN}'),
    f(
      'non-UTF-8',
      Buffer.concat([Buffer.from('{"client_name":"'), Buffer.from([0xff, 0xfe, 0xc0, 0xae]), Buffer.from('"}')]),
    ),
    f('UTF-16 with BOM', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('{"a":1}', 'utf16le')])),
    f('UTF-8 BOM', `\ufeff${JSON.stringify(validDoc())}`, [0, 1]),
    f('NUL byte', Buffer.from('{"a":"\u0000"}')),
    f('binary', Buffer.from(Array.from({ length: 512 }, (_, i) => i % 256))),
    f('deep array 100k', deepJson(100_000), [1, 2], [2]),
    f('deep object 50k', deepJson(50_000, 'object'), [1, 2], [2]),
    f('deep in a field', `{"client_id":"${ORIGIN}/c.json","redirect_uris":${deepJson(100_000)}}`, [1, 2]),
    f('just under 1 MiB', JSON.stringify({ ...validDoc(), pad: 'a'.repeat(1024 * 1024 - 200) }), [0, 1]),
    f('over 1 MiB', JSON.stringify({ ...validDoc(), pad: 'a'.repeat(1024 * 1024 + 10) })),
    f('10 MiB', Buffer.alloc(10 * 1024 * 1024, 0x20)),
    f('wide object', `{${Array.from({ length: 20_000 }, (_, i) => `"k${i}":1`).join(',')}}`, [1], [2]),
    f('null', 'null', [1], [2]),
    f('array', '[]', [1], [2]),
    f('string', '"https://client.test/c.json"', [1], [2]),
    f('number', '1e400', [1], [2]),
    f(
      'escaped control characters',
      JSON.stringify({ ...validDoc(), client_name: '\u001b[31mred\u001b[0m\u202e' }),
      [0, 1],
    ),
    f('lone surrogates', '{"client_id":"\\ud800","client_name":"\\udfff","redirect_uris":["\\ud800"]}', [1]),
    f(
      'proto pollution',
      '{"__proto__":{"client_id":"https://client.test/c.json"},"constructor":{"prototype":{}}}',
      [1],
      [2],
    ),
    { name: 'a folder', path: folder, codes: [2], checkCodes: [2] },
    { name: 'missing file', path: join(dir, 'nope.json'), codes: [2], checkCodes: [2] },
    { name: '/dev/null', path: '/dev/null', codes: [2], checkCodes: [2] },
    { name: 'a path with control characters', path: join(dir, 'x\u001b[2J\u0007.json'), codes: [2], checkCodes: [2] },
  ];
}

let mark = 0;
beforeEach(() => {
  mark = tally.problems.size;
});

afterAll(() => {
  record(
    'bad_inputs',
    { tried: tally.tried, passed: tally.passed, fivexx: tally.fivexx, details: tally.list().slice(0, 50) },
    FILE,
  );
  process.stdout.write(
    `  fuzz-cli: ${tally.tried} inputs, ${tally.passed} handled properly, ${tally.problems.size} kinds of problem\n`,
  );
});

beforeAll(() => {
  process.stdout.write(`  fuzz-cli: FUZZ_SEED=${FUZZ_SEED}\n`);
});

describe('cimd CLI under bad input', () => {
  it('check-url: every client_id trap, and fast-check strings', async () => {
    for (const trap of clientIdTraps()) {
      for (const json of [true, false]) {
        await check('check-url', show(trap), ['check-url', trap, ...(json ? ['--json'] : [])], [0, 1]);
      }
    }
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(arbClientId(ORIGIN), fc.string({ unit: 'binary', maxLength: 300 })),
        fc.boolean(),
        async (url, json) => {
          await check(
            'check-url',
            show(url),
            ['check-url', url, ...(json ? ['--json'] : [])],
            url.startsWith('-') ? [0, 1, 2] : [0, 1],
          );
          return true;
        },
      ),
      { ...FUZZ_LIMITS, numRuns: 1500, seed: FUZZ_SEED },
    );
    // Usage errors: no URL, two URLs, an unknown option, an unknown command.
    for (const args of [['check-url'], ['check-url', 'a', 'b'], ['check-url', '--nope', 'x'], ['nope'], []]) {
      await check('check-url usage', show(args), args, [2]);
    }
    expect(tally.list(mark)).toEqual([]);
  }, 120_000);

  it('lint and authorize-check: files that are not a metadata document', async () => {
    for (const bad of badFiles()) {
      for (const json of [true, false]) {
        const j = json ? ['--json'] : [];
        await check('lint', bad.name, ['lint', bad.path, ...j], bad.codes);
        await check(
          'authorize-check --document',
          bad.name,
          ['authorize-check', '--document', bad.path, '--redirect-uri', `${ORIGIN}/callback`, ...j],
          bad.checkCodes,
        );
        await check(
          'authorize-check --document --client-id',
          bad.name,
          [
            'authorize-check',
            '--document',
            bad.path,
            '--client-id',
            `${ORIGIN}/c.json`,
            '--redirect-uri',
            `${ORIGIN}/callback`,
            ...j,
          ],
          bad.codes,
        );
        // As a policy: anything but a valid policy object is a usage error (exit 2).
        await check(
          'authorize-check --policy',
          bad.name,
          [
            'authorize-check',
            '--document',
            VSCODE,
            '--redirect-uri',
            'https://vscode.dev/redirect',
            '--policy',
            bad.path,
            ...j,
          ],
          [2],
        );
      }
    }
    // The same bytes on standard input.
    for (const bad of badFiles().filter(
      (b) => existsSync(b.path) && !b.path.endsWith('a-folder') && b.path !== '/dev/null',
    )) {
      const bytes = spawnSync('cat', [bad.path], { maxBuffer: 64 * 1024 * 1024 }).stdout;
      await check('lint -', bad.name, ['lint', '-', '--json'], bad.codes, bytes);
    }
    expect(tally.list(mark)).toEqual([]);
  }, 120_000);

  it('fast-check: documents with wrong JSON types and odd values, and odd authorize-check options', async () => {
    const odd = fc.oneof(
      fc.jsonValue({ maxDepth: 3 }),
      arbClientId(ORIGIN),
      fc.constantFrom(null, [], {}, '', 0, -1, 1e308, true, '\u0000', '\ud800', 'x'.repeat(10_000)),
    );
    // Values that are also options of cimd or of the command: still values after an option.
    const optionNames = fc.constantFrom('-V', '-V8', '--version', '-h', '--help', '--json', '--', '-');
    const fields = [
      'client_id',
      'client_name',
      'redirect_uris',
      'token_endpoint_auth_method',
      'jwks',
      'jwks_uri',
      'logo_uri',
      'client_uri',
      'grant_types',
      'response_types',
      'scope',
      'tos_uri',
      'policy_uri',
      'contacts',
      'software_id',
    ];
    let n = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(fc.constantFrom(...fields), odd, { maxKeys: 6 }),
        fc.boolean(),
        fc.oneof(arbClientId(ORIGIN), fc.constant(`${ORIGIN}/callback`)),
        fc.option(arbClientId(ORIGIN)),
        fc.option(
          fc.oneof(fc.constantFrom('', 'plain', 'S256', 's256', 'none'), optionNames, fc.string({ maxLength: 20 })),
        ),
        fc.option(fc.oneof(optionNames, fc.string({ maxLength: 60 }))),
        async (changes, keepBase, redirect, clientId, method, scope) => {
          const doc = { ...(keepBase ? validDoc() : {}), ...changes };
          const path = file(`doc-${n++ % 50}.json`, JSON.stringify(doc));
          await check('lint', show(doc), ['lint', path, '--json'], [0, 1]);
          const args = ['authorize-check', '--document', path, '--redirect-uri', redirect, '--json'];
          if (clientId !== null) args.push('--client-id', clientId);
          if (method !== null) args.push('--code-challenge-method', method);
          if (scope !== null) args.push('--scope', scope);
          // An option value that looks like an option is a usage error.
          const optionLike = [redirect, clientId, method, scope].some(
            (v) => typeof v === 'string' && v.startsWith('-'),
          );
          const noClientId = clientId === null && typeof doc.client_id !== 'string';
          await check(
            'authorize-check',
            show({ doc, redirect, clientId, method, scope }),
            args,
            optionLike ? [0, 1, 2] : noClientId ? [2] : [0, 1],
          );
          return true;
        },
      ),
      { ...FUZZ_LIMITS, numRuns: 800, seed: FUZZ_SEED },
    );
    expect(tally.list(mark)).toEqual([]);
  }, 120_000);

  it('the built binary: a sample of the same inputs as real processes', () => {
    expect(existsSync(CLI)).toBe(true);
    const runs: [string, string[], number[], Buffer?][] = [];
    for (const trap of clientIdTraps()
      .filter((t) => !t.includes('\u0000'))
      .filter((_, i) => i % 3 === 0)) {
      runs.push(['check-url', ['check-url', trap, '--json'], [0, 1]]);
    }
    for (const bad of badFiles().filter((_, i) => i % 2 === 0)) {
      runs.push(['lint', ['lint', bad.path], bad.codes]);
      runs.push([
        'authorize-check',
        ['authorize-check', '--document', bad.path, '--redirect-uri', `${ORIGIN}/callback`, '--json'],
        bad.checkCodes,
      ]);
    }
    runs.push(['lint -', ['lint', '-'], [2], Buffer.from([0xff, 0xfe, 0x00])]);
    runs.push(['lint -', ['lint', '-', '--json'], [1, 2], Buffer.from(deepJson(200_000))]);
    runs.push(['lint -', ['lint', '-'], [2], Buffer.alloc(3 * 1024 * 1024, 0x7b)]);
    runs.push(['authorize-check', ['authorize-check', '--document', VSCODE], [2]]);
    runs.push(['authorize-check', ['authorize-check', '--redirect-uri', 'x'], [2]]);
    runs.push([
      'authorize-check',
      [
        'authorize-check',
        '--document',
        VSCODE,
        '--redirect-uri',
        'https://vscode.dev/redirect',
        '--policy',
        join(dir, 'nope.json'),
      ],
      [2],
    ]);
    runs.push(['--help', ['--help'], [0]]);
    runs.push(['nothing', [], [2]]);
    for (const [label, args, codes, stdin] of runs) {
      const r = spawned(args, stdin);
      tally.add(
        `spawned ${label}`,
        show(args.slice(1)),
        judgeRun(r, codes, args.includes('--json')),
        r.code === null ? 500 : 0,
      );
    }
    process.stdout.write(`  fuzz-cli: ${runs.length} runs of the built binary\n`);
    expect(tally.list(mark)).toEqual([]);
  }, 180_000);
});
