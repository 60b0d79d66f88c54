import { RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { ModulesContainer } from '@nestjs/core';
import { DECORATORS } from '@nestjs/swagger';
import { compileErrors, validate } from '@readme/openapi-parser';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { OpenAPIV3_1 } from 'openapi-types';
import ts from 'typescript';
import { documentFor, GatewayStack, startGatewayStack } from '../support/gateway-stack';

/**
 * The OpenAPI document the gateway serves, as a tool that imports it would take it: valid
 * OpenAPI 3.1 (a real validator), complete (every route of the controllers, with request and
 * response schemas, the error body, the bearer scheme, examples), and precise enough that a
 * client generated from it (openapi-typescript + openapi-fetch) type-checks against the real
 * shapes and works against the real gateway.
 */
const ROOT = join(__dirname, '..', '..');
type Document = OpenAPIV3_1.Document;
type Operation = OpenAPIV3_1.OperationObject;

let stack: GatewayStack;
let document: Document;
let dir: string;

/** Every operation of the document, as "METHOD /path". */
function operations(doc: Document): Map<string, Operation> {
  const ops = new Map<string, Operation>();
  for (const [path, item] of Object.entries(doc.paths ?? {}))
    for (const method of ['get', 'put', 'post', 'delete', 'patch'] as const) {
      const op = item?.[method];
      if (op) ops.set(`${method.toUpperCase()} ${path}`, op);
    }
  return ops;
}

/** Every route the gateway's controllers declare, except controllers excluded from the document on purpose. */
function controllerRoutes(): { routes: string[]; excluded: string[] } {
  const routes: string[] = [];
  const excluded: string[] = [];
  for (const module of stack.app.get(ModulesContainer).values()) {
    for (const wrapper of module.controllers.values()) {
      const controller = wrapper.metatype as (new (...args: never[]) => unknown) | null;
      if (!controller) continue;
      const base = String(Reflect.getMetadata(PATH_METADATA, controller) ?? '');
      const hidden = Reflect.getMetadata(DECORATORS.API_EXCLUDE_CONTROLLER, controller) as unknown[] | undefined;
      for (const name of Object.getOwnPropertyNames(controller.prototype)) {
        const handler = (controller.prototype as Record<string, unknown>)[name];
        if (typeof handler !== 'function' || Reflect.getMetadata(METHOD_METADATA, handler) === undefined) continue;
        const method = RequestMethod[Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod];
        const path = ['', base, String(Reflect.getMetadata(PATH_METADATA, handler) ?? '')]
          .join('/')
          .replace(/\/+/g, '/')
          .replace(/\/$/, '')
          .replace(/:([A-Za-z0-9_]+)/g, '{$1}');
        (hidden?.[0] ? excluded : routes).push(`${method} ${path}`);
      }
    }
  }
  return { routes: routes.sort(), excluded: excluded.sort() };
}

/** openapi-typescript's types for `doc` (its CLI, as a project would run it), written as api.d.ts in `into`. */
function generateTypes(doc: Document, into: string): void {
  writeFileSync(join(into, 'openapi.json'), JSON.stringify(doc));
  const cli = join(ROOT, 'node_modules', 'openapi-typescript', 'bin', 'cli.js');
  const run = spawnSync(process.execPath, [cli, join(into, 'openapi.json'), '--output', join(into, 'api.d.ts')], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (run.status !== 0) throw new Error(`openapi-typescript failed: ${run.stderr}`);
}

const COMPILER_OPTIONS: ts.CompilerOptions = {
  strict: true,
  noEmit: true,
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.Node16,
  moduleResolution: ts.ModuleResolutionKind.Node16,
  types: ['node'],
  skipLibCheck: true,
};
/** The last program, so that the next one reuses its library files instead of parsing them again. */
let previous: ts.Program | undefined;

/** The compiler's complaints about `file` (strict TypeScript, resolving packages from the project). */
function typeErrors(file: string): string[] {
  const program = ts.createProgram({ rootNames: [file], options: COMPILER_OPTIONS, oldProgram: previous });
  previous = program;
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const at = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line + 1 : 0;
    return `${d.file?.fileName.replace(/^.*\//, '') ?? ''}:${at}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
  });
}

/**
 * A client of the generated types, as an integrator would write one. Each typed line fails to
 * compile if the document describes the API differently; `@ts-expect-error` lines fail to
 * compile if the document allows what the API refuses.
 */
const CLIENT_PROGRAM = `
import createClient from 'openapi-fetch';
import type { components, paths } from './api';

type Decision = paths['/v1/tenants/{tenant}/authorize/check']['post']['responses'][200]['content']['application/json'];
type CheckBody = paths['/v1/tenants/{tenant}/authorize/check']['post']['requestBody']['content']['application/json'];
type ErrorBody = components['schemas']['ErrorBody'];

export const decisions: Decision['decision'][] = ['allow', 'deny', 'pending'];
// @ts-expect-error a decision is one of three words
export const notADecision: Decision['decision'] = 'maybe';
// @ts-expect-error the body has no field it does not define
export const extraField: CheckBody = { client_id: 'https://app.example/c.json', redirect_uri: 'https://app.example/cb', prompt: 'consent' };
// @ts-expect-error redirect_uri is required
export const noRedirect: CheckBody = { client_id: 'https://app.example/c.json' };

export async function run(baseUrl: string, adminToken: string, clientId: string, redirectUri: string) {
  const admin = createClient<paths>({ baseUrl, headers: { authorization: 'Bearer ' + adminToken } });
  const created = await admin.POST('/v1/tenants', { body: { id: 'typed', policy: { deny_hosts: ['blocked.example'] } } });
  if (!created.data) throw new Error('POST /v1/tenants: ' + JSON.stringify(created.error));
  const policyVersion: number = created.data.policy_version;
  const denied: string[] = created.data.policy.deny_hosts;
  const key = await admin.POST('/v1/tenants/{tenant}/keys', { params: { path: { tenant: 'typed' } } });
  if (!key.data) throw new Error('POST keys: ' + JSON.stringify(key.error));
  const tenant = createClient<paths>({ baseUrl, headers: { authorization: 'Bearer ' + key.data.key } });
  const path = { tenant: 'typed' };

  const check = await tenant.POST('/v1/tenants/{tenant}/authorize/check', {
    params: { path },
    body: { client_id: clientId, redirect_uri: redirectUri, code_challenge_method: 'S256' },
  });
  const decision: 'allow' | 'deny' | 'pending' | undefined = check.data?.decision;
  const host: string | undefined = check.data?.client?.host;
  const level: 'trusted' | 'verified_origin' | 'unverified' | undefined = check.data?.trust?.level;
  const cache: 'hit' | 'refreshing' | 'fetched' | 'stale' | undefined = check.data?.cache?.status;

  // What the types keep out, sent anyway: the gateway refuses it with the documented error body.
  const sneaked = { client_id: clientId, redirect_uri: redirectUri, prompt: 'consent' };
  const refused = await tenant.POST('/v1/tenants/{tenant}/authorize/check', { params: { path }, body: sneaked });
  const refusal: ErrorBody | undefined = refused.error;

  const session = await tenant.POST('/v1/tenants/{tenant}/sessions', {
    params: { path },
    body: { session_id: 'typed-1', client_id: clientId, subject: 'alice', expires_at: '2030-01-01T00:00:00Z' },
  });
  const active: boolean | undefined = session.data?.active;
  const missing = await tenant.GET('/v1/tenants/{tenant}/sessions/{session}', {
    params: { path: { tenant: 'typed', session: 'no-such-session' } },
  });
  const missingError: string | undefined = missing.error?.error_description;
  const revoked = await tenant.DELETE('/v1/tenants/{tenant}/sessions/{session}', {
    params: { path: { tenant: 'typed', session: 'typed-1' } },
  });
  const after = await tenant.GET('/v1/tenants/{tenant}/sessions/{session}', {
    params: { path: { tenant: 'typed', session: 'typed-1' } },
  });
  const reason: string | undefined = after.data?.reason;

  const events = await tenant.GET('/v1/tenants/{tenant}/events', { params: { path, query: { limit: 10 } } });
  const nextAfter: string | undefined = events.data?.next_after;
  const cached = await tenant.GET('/v1/clients', { params: { query: { client_id: clientId } } });
  const status: 'valid' | 'invalid' | 'gone' | undefined = cached.data?.status;
  const redirects: string[] | undefined = cached.data?.document?.redirect_uris;
  const policy = await tenant.GET('/v1/tenants/{tenant}/policy', { params: { path } });
  const onRemoved: 'revoke' | 'notify' | undefined = policy.data?.policy.on_change.redirect_uris_removed;
  const forbidden = await tenant.POST('/v1/tenants/{tenant}/keys', { params: { path } });

  return {
    policyVersion, denied, decision, host, level, cache,
    refused: { status: refused.response.status, error: refusal?.error },
    active, missing: { status: missing.response.status, described: typeof missingError === 'string' },
    revokedStatus: revoked.response.status, reason,
    nextAfter: typeof nextAfter, status, redirects, onRemoved,
    forbidden: { status: forbidden.response.status, error: forbidden.error?.error },
  };
}

if (require.main === module) {
  const [baseUrl = '', token = '', clientId = '', redirectUri = ''] = process.argv.slice(2);
  run(baseUrl, token, clientId, redirectUri).then(
    (r) => process.stdout.write(JSON.stringify(r)),
    (e: Error) => { process.stderr.write(e.stack ?? e.message); process.exitCode = 1; },
  );
}
`;

beforeAll(async () => {
  stack = await startGatewayStack('openapi');
  const res = await fetch(`${stack.url}/docs/openapi.json`);
  expect(res.status).toBe(200);
  document = (await res.json()) as Document;
  dir = mkdtempSync(join(tmpdir(), 'cimd-openapi-'));
  // The program resolves openapi-fetch and @types/node as a project of its own would.
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  writeFileSync(join(dir, 'client.ts'), CLIENT_PROGRAM);
}, 60_000);

afterAll(async () => {
  await stack?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the served OpenAPI document', () => {
  it('is valid OpenAPI 3.1 for a real validator (@readme/openapi-parser)', async () => {
    expect(document.openapi).toBe('3.1.0');
    const result = await validate(structuredClone(document) as never);
    expect(result.valid ? [] : compileErrors(result)).toEqual([]);
    expect(result.warnings).toEqual([]);
    // JSON Schema dialect markers belong to the document, not to each schema.
    expect(JSON.stringify(document)).not.toContain('"$schema"');
  });

  it('describes every route of the controllers; only the operations endpoints and the console page are left out', () => {
    const { routes, excluded } = controllerRoutes();
    expect(routes.length).toBeGreaterThanOrEqual(14);
    expect([...operations(document).keys()].sort()).toEqual(routes);
    expect(excluded).toEqual([
      'GET /console',
      'GET /console/js/pages/{file}',
      'GET /console/js/{file}',
      'GET /console/{file}',
      'GET /healthz',
      'GET /metrics',
      'GET /readyz',
    ]);
  });

  it('gives each operation its bodies with schemas and examples, the error body and the bearer scheme', () => {
    expect(document.components?.securitySchemes?.bearer).toEqual(
      expect.objectContaining({ type: 'http', scheme: 'bearer' }),
    );
    expect(document.components?.schemas?.ErrorBody).toMatchObject({
      type: 'object',
      required: ['error', 'error_description'],
      properties: { error: { type: 'string' }, error_description: { type: 'string' } },
    });
    const problems: string[] = [];
    for (const [name, op] of operations(document)) {
      const responses = op.responses ?? {};
      const success = Object.keys(responses).filter((s) => /^2\d\d$/.test(s));
      if (success.length !== 1) problems.push(`${name}: ${success.length} success responses`);
      for (const status of success) {
        const content = (responses[status] as OpenAPIV3_1.ResponseObject).content;
        if (status === '204') {
          if (content) problems.push(`${name}: a 204 with a body`);
        } else if (name === 'GET /v1/logos/{sha256}') {
          if (!Object.keys(content ?? {}).every((type) => type.startsWith('image/')))
            problems.push(`${name}: not images`);
        } else {
          const type = name === 'GET /v1/tenants/{tenant}/events/stream' ? 'text/event-stream' : 'application/json';
          const media = content?.[type];
          if (!media?.schema) problems.push(`${name}: ${status} has no ${type} schema`);
          if (media?.example === undefined && Object.keys(media?.examples ?? {}).length === 0)
            problems.push(`${name}: ${status} no example`);
        }
      }
      for (const [status, response] of Object.entries(responses).filter(([s]) => !/^2/.test(s))) {
        const json = (response as OpenAPIV3_1.ResponseObject).content?.['application/json'];
        if ((json?.schema as OpenAPIV3_1.ReferenceObject | undefined)?.$ref !== '#/components/schemas/ErrorBody')
          problems.push(`${name}: ${status} is not an ErrorBody`);
        if (!json?.example) problems.push(`${name}: ${status} has no example`);
      }
      if (!responses.default) problems.push(`${name}: no default error response`);
      const isPublic = name === 'GET /v1/logos/{sha256}';
      const secured = (op.security ?? []).some((s) => 'bearer' in s);
      if (secured === isPublic) problems.push(`${name}: ${isPublic ? 'public but secured' : 'not secured'}`);
      if (!isPublic && !responses['401']) problems.push(`${name}: no 401`);
      if (op.requestBody) {
        const json = (op.requestBody as OpenAPIV3_1.RequestBodyObject).content['application/json'];
        const schema = (json?.schema ?? {}) as OpenAPIV3_1.SchemaObject;
        if (schema.type !== 'object' || schema.additionalProperties !== false)
          problems.push(`${name}: the body schema is not a closed object`);
        if (!json?.examples || Object.keys(json.examples).length === 0) problems.push(`${name}: no body example`);
        for (const code of ['400', '413', '415']) if (!responses[code]) problems.push(`${name}: no ${code}`);
      } else if (['POST /v1/tenants', 'PUT /v1/tenants/{tenant}/policy'].includes(name)) {
        problems.push(`${name}: no request body`);
      }
      for (const p of (op.parameters ?? []) as OpenAPIV3_1.ParameterObject[])
        if (!p.schema || Object.keys(p.schema).length === 0)
          problems.push(`${name}: parameter ${p.name} has no schema`);
    }
    expect(problems).toEqual([]);
  });
});

describe('a client generated from it (openapi-typescript, openapi-fetch)', () => {
  it('type-checks against the generated types, and fails to when the document is wrong', () => {
    generateTypes(document, dir);
    expect(typeErrors(join(dir, 'client.ts'))).toEqual([]);

    // The same program against a document that misdescribes two fields: compilation catches both.
    const wrong = structuredClone(document);
    const check = wrong.paths?.['/v1/tenants/{tenant}/authorize/check']?.post;
    const decision = (check?.responses?.['200'] as OpenAPIV3_1.ResponseObject).content?.['application/json']
      ?.schema as OpenAPIV3_1.SchemaObject;
    (decision.properties?.decision as OpenAPIV3_1.SchemaObject).enum = ['allow', 'deny'];
    const key = wrong.paths?.['/v1/tenants/{tenant}/keys']?.post?.responses?.['201'] as OpenAPIV3_1.ResponseObject;
    const keySchema = key.content?.['application/json']?.schema as OpenAPIV3_1.SchemaObject;
    keySchema.properties = { id: { type: 'string' }, token: { type: 'string' } };
    keySchema.required = ['id', 'token'];
    const wrongDir = mkdtempSync(join(dir, 'wrong-'));
    symlinkSync(join(ROOT, 'node_modules'), join(wrongDir, 'node_modules'), 'dir');
    writeFileSync(join(wrongDir, 'client.ts'), CLIENT_PROGRAM);
    generateTypes(wrong, wrongDir);
    const errors = typeErrors(join(wrongDir, 'client.ts')).join('\n');
    expect(errors).toMatch(/"pending"/);
    expect(errors).toMatch(/Property 'key' does not exist/);
  }, 60_000);

  it('works against the real gateway', async () => {
    const clientId = stack.clientId('/typed-client.json');
    stack.origin.json('/typed-client.json', documentFor(clientId), { 'cache-control': 'max-age=600' });
    const js = ts.transpileModule(CLIENT_PROGRAM, {
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
    }).outputText;
    writeFileSync(join(dir, 'client.js'), js);
    const redirect = `https://${new URL(clientId).host}/callback`;
    // Asynchronously: the gateway it calls runs in this process.
    const child = spawn(process.execPath, [join(dir, 'client.js'), stack.url, stack.adminToken, clientId, redirect]);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    expect(await new Promise((resolve) => child.on('close', resolve))).toBe(0);
    expect(stderr).toBe('');
    expect(JSON.parse(stdout)).toEqual({
      policyVersion: 1,
      denied: ['blocked.example'],
      decision: 'allow',
      host: new URL(clientId).hostname,
      level: expect.any(String),
      cache: 'fetched',
      refused: { status: 400, error: 'invalid_request' },
      active: true,
      missing: { status: 404, described: true },
      revokedStatus: 204,
      reason: 'api',
      nextAfter: 'string',
      status: 'valid',
      redirects: documentFor(clientId).redirect_uris,
      onRemoved: 'revoke',
      forbidden: { status: 403, error: 'access_denied' },
    });
  });
});
