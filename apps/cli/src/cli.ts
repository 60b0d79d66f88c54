import {
  AuthorizeDecision,
  AuthorizeRequest,
  checkClientIdUrl,
  checkDocumentSize,
  CheckResult,
  decideAuthorization,
  DEFAULT_TENANT_POLICY,
  escapeInvisible,
  FetchOutcome,
  Finding,
  KeySetOutcome,
  MetadataDocument,
  parseTenantPolicy,
  TenantPolicy,
  validateMetadataDocument,
} from '@cimd/core';
import { Command, CommanderError, Option } from 'commander';
import {
  DEFAULT_SAFE_FETCH_OPTIONS,
  DEFAULT_MAX_JWKS_BYTES,
  fetchClientMetadata,
  fetchKeySet,
  parseResolveMap,
  SafeFetcher,
  SafeFetchOptions,
} from '@cimd/safe-fetch';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { clientAssertion, ClientAssertionOptions } from './client-assertion';
import { readJsonInput, UsageError } from './input';
import { jsonLine } from './output';

/** Where the CLI reads and writes, so tests can run it in-process. */
export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  stdin: () => AsyncIterable<Buffer | string>;
}

export const EXIT_OK = 0;
export const EXIT_INVALID = 1;
export const EXIT_USAGE = 2;

/** Run `cimd` with the arguments after the program name; resolves to the exit code. */
export async function runCli(args: readonly string[], io: CliIo): Promise<number> {
  let exitCode = EXIT_OK;
  const program = new Command('cimd')
    .description('Check OAuth Client ID Metadata Documents the way cimd-gateway does.')
    .version(version(), '-V, --version')
    // Program options only before the command: otherwise an option value such as
    // `--scope -V` is read as the program's --version.
    .enablePositionalOptions()
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: (text) => io.stderr(printable(text)) })
    .showHelpAfterError('(run "cimd --help" for usage)');

  program
    .command('check-url')
    .description('check a client_id against the client identifier URL rules')
    .argument('<url>', 'the client_id to check')
    .option('--json', 'print one JSON object')
    .action((url: string, opts: { json?: boolean }) => {
      const result = checkClientIdUrl(url);
      exitCode = printCheck({ valid: result.valid, errors: result.errors, warnings: result.warnings }, opts.json, io);
    });

  program
    .command('lint')
    .description('check a metadata document against the document rules')
    .argument('<file>', 'the document, or - for standard input')
    .option('--client-id <url>', 'the URL the document is published at (default: its own client_id)')
    .option('--json', 'print one JSON object')
    .action(async (file: string, opts: { clientId?: string; json?: boolean }) => {
      const input = await readJsonInput(file, io.stdin);
      const check = validateMetadataDocument(input.value, clientIdOption(opts.clientId));
      const size = checkDocumentSize(input.byteLength);
      const out: CheckResult & { document?: unknown } = {
        valid: check.valid,
        errors: check.errors,
        warnings: size ? [...check.warnings, size] : check.warnings,
      };
      if (check.document) out.document = check.document;
      exitCode = printCheck(out, opts.json, io);
    });

  program
    .command('authorize-check')
    .description('the decision the gateway would give for an authorization request, offline')
    .requiredOption('--document <file>', 'the client metadata document, or - for standard input')
    .requiredOption('--redirect-uri <uri>', 'the redirect_uri of the request')
    .option('--client-id <url>', "the client_id of the request (default: the document's client_id)")
    .option('--response-type <type>', 'the response_type of the request', 'code')
    .option('--scope <scope>', 'the scope of the request')
    .addOption(
      new Option('--code-challenge-method <method>', 'the PKCE method of the request').default(
        'S256',
        'S256; pass "" to send none',
      ),
    )
    .option('--policy <file>', 'tenant policy as JSON (default: the default policy)')
    .option('--json', 'print one JSON object')
    .action(async (opts: AuthorizeOptions) => {
      const input = await readJsonInput(opts.document, io.stdin);
      const policy = opts.policy ? await readPolicy(opts.policy, io) : DEFAULT_TENANT_POLICY;
      const clientId = opts.clientId ?? documentClientId(input.value);
      const request: AuthorizeRequest = {
        client_id: clientId,
        redirect_uri: opts.redirectUri,
        response_type: opts.responseType,
      };
      if (opts.scope !== undefined) request.scope = opts.scope;
      if (opts.codeChallengeMethod !== '') request.code_challenge_method = opts.codeChallengeMethod;
      const decision = decideAuthorization({
        request,
        document: validateMetadataDocument(input.value, { clientId }),
        policy,
        // Offline there is no gateway copy of the logo: show the document's own logo_uri.
        logoUrl: (uri) => uri,
      });
      io.stdout(opts.json ? jsonLine(decision) : formatDecision(decision));
      exitCode = decision.decision === 'allow' ? EXIT_OK : EXIT_INVALID;
    });

  program
    .command('fetch')
    .description('fetch a client_id as the fetcher does (URL rules, safe fetch, document rules), without Redis')
    .argument('<url>', 'the client_id to fetch')
    .option(
      '--resolve <host:port:addr[,addr…]>',
      'use these addresses for host:port instead of DNS (still checked; repeatable)',
      collect,
      [],
    )
    .option('--ca-file <pem>', 'also trust the CA certificates in this PEM file')
    .option('--allow-cidr <cidr>', 'exempt this range from the special-use address block (repeatable)', collect, [])
    .option('--allow-port <port>', 'also allow this port besides 443 (repeatable)', collect, [])
    .option('--max-bytes <n>', `largest document accepted (default ${DEFAULT_SAFE_FETCH_OPTIONS.maxBytes})`)
    .option('--timeout-ms <n>', `deadline for the whole fetch (default ${DEFAULT_SAFE_FETCH_OPTIONS.timeoutMs})`)
    .option('--jwks-max-bytes <n>', `largest key set accepted from jwks_uri (default ${DEFAULT_MAX_JWKS_BYTES})`)
    .option('--json', 'print one JSON object')
    .action(async (url: string, opts: FetchOptions) => {
      const fetcher = await fetcherFor(opts);
      try {
        const outcome = await fetchClientMetadata(fetcher, url);
        const jwksUri = outcome.outcome === 'ok' ? outcome.document.jwks_uri : undefined;
        const keys =
          jwksUri === undefined
            ? undefined
            : await fetchKeySet(fetcher, jwksUri, {
                maxBytes: positiveInt('--jwks-max-bytes', opts.jwksMaxBytes, 1024 * 1024) ?? DEFAULT_MAX_JWKS_BYTES,
              });
        const out = fetchReport(outcome, keys);
        if (opts.json) io.stdout(jsonLine(out));
        else {
          const ttl = out.cache ? `, cache ${out.cache.ttl_seconds} s` : '';
          const lines = [`${out.valid ? 'valid' : 'invalid'}: ${out.outcome}${ttl}`];
          for (const e of out.errors) lines.push(findingLine('error', e));
          for (const w of out.warnings) lines.push(findingLine('warning', w));
          if (out.keys) {
            lines.push(
              `keys at jwks_uri: ${out.keys.outcome}${out.keys.key_ids ? ` (${out.keys.key_ids.length} usable: ${out.keys.key_ids.join(', ') || 'no kid'})` : ''}`,
            );
            for (const e of out.keys.errors) lines.push(findingLine('error', e));
            for (const w of out.keys.warnings) lines.push(findingLine('warning', w));
          }
          io.stdout(`${lines.join('\n')}\n`);
        }
        exitCode = out.valid ? EXIT_OK : EXIT_INVALID;
      } finally {
        await fetcher.close();
      }
    });

  program
    .command('client-assertion')
    .description(
      "sign a client assertion (private_key_jwt) as a client would send it to an authorization server's token endpoint",
    )
    .requiredOption('--key <file>', "the client's private key: a PKCS #8 PEM or a private JWK")
    .requiredOption('--client-id <url>', 'the client_id: the iss and sub of the assertion')
    .requiredOption('--aud <issuer>', "the authorization server's issuer (or token endpoint): the aud")
    .option('--kid <kid>', "the key's id in the published key set (default: the JWK's kid)")
    .option('--alg <alg>', 'the signing algorithm (default: by key type: RS256, ES256…, EdDSA)')
    .option('--lifetime <seconds>', 'seconds until it expires', '60')
    .option('--json', 'print the token request parameters as one JSON object')
    .action(async (opts: ClientAssertionOptions) => {
      io.stdout(await clientAssertion(opts));
    });

  try {
    await program.parseAsync([...args], { from: 'user' });
    return exitCode;
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version end through here with code 0; everything else is a usage error.
      return e.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    }
    if (e instanceof UsageError) {
      io.stderr(`cimd: ${printable(e.message)}\n`);
      return EXIT_USAGE;
    }
    io.stderr(`cimd: unexpected error: ${printable((e as Error).message ?? String(e))}\n`);
    return EXIT_USAGE;
  }
}

/** A message for the terminal: file names and option values come from the user (escapeInvisible). */
export const printable = escapeInvisible;

interface FetchOptions {
  resolve: string[];
  caFile?: string;
  allowCidr: string[];
  allowPort: string[];
  maxBytes?: string;
  timeoutMs?: string;
  jwksMaxBytes?: string;
  json?: boolean;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function positiveInt(name: string, value: string | undefined, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > max)
    throw new UsageError(`${name} must be a whole number from 1 to ${max}; got ${JSON.stringify(value)}.`);
  return n;
}

async function fetcherFor(opts: FetchOptions): Promise<SafeFetcher> {
  const options: Partial<SafeFetchOptions> = {};
  try {
    if (opts.resolve.length > 0) options.resolve = parseResolveMap(opts.resolve.join(';'));
  } catch (e) {
    throw new UsageError(`--resolve: ${(e as Error).message}`);
  }
  if (opts.caFile !== undefined) {
    try {
      options.extraCa = await readFile(opts.caFile, 'utf8');
    } catch (e) {
      throw new UsageError(`--ca-file: cannot read ${opts.caFile} (${(e as NodeJS.ErrnoException).code ?? 'error'}).`);
    }
    if (!options.extraCa.includes('-----BEGIN CERTIFICATE-----'))
      throw new UsageError(`--ca-file: ${opts.caFile} holds no PEM certificate.`);
  }
  options.allowCidrs = opts.allowCidr;
  options.allowedPorts = [443, ...opts.allowPort.map((p) => positiveInt('--allow-port', p, 65535) ?? 443)];
  const maxBytes = positiveInt('--max-bytes', opts.maxBytes, 1024 * 1024);
  if (maxBytes !== undefined) options.maxBytes = maxBytes;
  const timeoutMs = positiveInt('--timeout-ms', opts.timeoutMs, 120_000);
  if (timeoutMs !== undefined) options.timeoutMs = timeoutMs;
  try {
    return new SafeFetcher(options);
  } catch (e) {
    throw new UsageError(`--allow-cidr: ${(e as Error).message}`);
  }
}

/** The `cimd fetch --json` shape: the document, and the key set at its jwks_uri when it has one. */
function fetchReport(
  o: FetchOutcome,
  keys?: KeySetOutcome,
): {
  valid: boolean;
  outcome: string;
  errors: Finding[];
  warnings: Finding[];
  document?: MetadataDocument;
  cache?: { ttl_seconds: number };
  keys?: { outcome: string; key_ids?: string[]; errors: Finding[]; warnings: Finding[] };
} {
  if (o.outcome === 'ok') {
    const keyReport = keys && {
      outcome: keys.outcome,
      ...(keys.outcome === 'ok'
        ? { key_ids: keys.jwks.keys.map((k) => (typeof k.kid === 'string' ? k.kid : '')) }
        : {}),
      errors: 'errors' in keys ? keys.errors : [],
      warnings: keys.outcome === 'ok' ? keys.warnings : [],
    };
    return {
      // A document whose keys cannot be had cannot authenticate with them.
      valid: keys === undefined || keys.outcome === 'ok',
      outcome: o.outcome,
      errors: [],
      warnings: o.warnings,
      document: o.document,
      cache: { ttl_seconds: o.lifetime.ttlSeconds },
      ...(keyReport ? { keys: keyReport } : {}),
    };
  }
  return {
    valid: false,
    outcome: o.outcome,
    errors: 'errors' in o ? o.errors : [],
    warnings: 'warnings' in o ? o.warnings : [],
  };
}

interface AuthorizeOptions {
  document: string;
  redirectUri: string;
  clientId?: string;
  responseType: string;
  scope?: string;
  codeChallengeMethod: string;
  policy?: string;
  json?: boolean;
}

function clientIdOption(clientId: string | undefined): { clientId?: string } {
  return clientId === undefined ? {} : { clientId };
}

function documentClientId(doc: unknown): string {
  const id = doc !== null && typeof doc === 'object' ? (doc as Record<string, unknown>).client_id : undefined;
  if (typeof id !== 'string') {
    throw new UsageError('the document has no string client_id; pass the client_id of the request with --client-id.');
  }
  return id;
}

async function readPolicy(path: string, io: CliIo): Promise<TenantPolicy> {
  const input = await readJsonInput(path, io.stdin);
  // `null` or `[]` is not "the default policy": a policy file is a JSON object ({} for the defaults).
  if (input.value === null || typeof input.value !== 'object' || Array.isArray(input.value))
    throw new UsageError(`${path} is not a valid tenant policy: a policy is a JSON object ({} for the defaults).`);
  const parsed = parseTenantPolicy(input.value);
  if (!parsed.ok) throw new UsageError(`${path} is not a valid tenant policy:\n  ${parsed.errors.join('\n  ')}`);
  return parsed.policy;
}

function printCheck(result: CheckResult & { document?: unknown }, json: boolean | undefined, io: CliIo): number {
  if (json) {
    io.stdout(jsonLine(result));
  } else {
    const counts = `${plural(result.errors.length, 'error')}, ${plural(result.warnings.length, 'warning')}`;
    const lines = [`${result.valid ? 'valid' : 'invalid'} (${counts})`];
    for (const e of result.errors) lines.push(findingLine('error', e));
    for (const w of result.warnings) lines.push(findingLine('warning', w));
    io.stdout(`${lines.join('\n')}\n`);
  }
  return result.valid ? EXIT_OK : EXIT_INVALID;
}

function findingLine(kind: string, f: Finding): string {
  return `  ${kind.padEnd(7)} ${f.code}: ${f.message}`;
}

function formatDecision(d: AuthorizeDecision): string {
  const lines: string[] = [];
  if (d.decision === 'allow') {
    lines.push('allow');
  } else {
    lines.push(`deny: ${d.error ?? 'error'} (${d.reason ?? 'unknown'})`, `  ${d.error_description ?? ''}`);
  }
  const c = d.client;
  if (c) {
    lines.push(`  client:   ${c.name !== undefined ? `${c.name} ` : ''}(${c.host})`);
    if (c.redirect_host !== undefined) lines.push(`  redirect: ${c.redirect_host}`);
    if (c.logo_url !== undefined) lines.push(`  logo:     ${c.logo_url}`);
  }
  if (d.trust) {
    lines.push(`  trust:    ${d.trust.level}`);
    if (d.trust.warnings.length > 0) lines.push(`  warnings: ${d.trust.warnings.join(', ')}`);
  }
  return `${lines.join('\n')}\n`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function version(): string {
  // Walk up from this file: the same code runs from apps/ under Jest and from dist/ when built.
  for (let dir = __dirname; dir !== dirname(dir); dir = dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'cimd-gateway' && pkg.version) return pkg.version;
    } catch {
      // not here; keep walking
    }
  }
  return 'unknown';
}
