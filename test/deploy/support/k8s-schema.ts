import { join } from 'node:path';
import ts from 'typescript';
import { Manifest, ROOT } from './manifests';

/**
 * Validation of rendered manifests against the Kubernetes API schemas, offline:
 *
 * - `kubernetes-models` (and `@kubernetes-models/prometheus-operator` for ServiceMonitor):
 *   JSON-schema validators generated from the Kubernetes OpenAPI spec. They check types,
 *   formats (quantities, int-or-string), enums and required fields, but like the OpenAPI spec
 *   they let unknown fields through.
 * - Unknown fields (a misspelt `securityContex` that the API server would drop or refuse) are
 *   caught by the TypeScript types of the same packages: every manifest is type-checked as an
 *   object literal of its kind's interface, where excess properties are errors at any depth.
 */

interface ModelClass {
  new (data: unknown): { validate(): void };
}

const MODEL_PACKAGES: { match: (apiVersion: string) => boolean; pkg: string }[] = [
  { match: (v) => v.startsWith('monitoring.coreos.com/'), pkg: '@kubernetes-models/prometheus-operator' },
  { match: () => true, pkg: 'kubernetes-models' },
];

function modelModule(apiVersion: string, kind: string): string {
  const pkg = MODEL_PACKAGES.find((p) => p.match(apiVersion))?.pkg as string;
  return `${pkg}/${apiVersion}/${kind}`;
}

function hasModel(apiVersion: string, kind: string): boolean {
  try {
    require.resolve(modelModule(apiVersion, kind));
    return true;
  } catch {
    return false;
  }
}

/** Schema problems of one manifest (empty when valid). */
export function schemaProblems(m: Manifest): string[] {
  const where = `${m.kind} ${m.metadata?.name ?? '(no name)'}`;
  if (typeof m.apiVersion !== 'string' || typeof m.kind !== 'string') return [`${where}: no apiVersion or kind`];
  if (!hasModel(m.apiVersion, m.kind)) return [`${where}: no schema for ${m.apiVersion} ${m.kind}`];
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const Model = (require(modelModule(m.apiVersion, m.kind)) as Record<string, ModelClass>)[m.kind] as ModelClass;
  try {
    new Model(normalized(m)).validate();
    return [];
  } catch (e) {
    return [`${where}: ${(e as Error).message}`];
  }
}

/**
 * Kustomize writes long base64 Secret values over several lines; the API server's decoder
 * (Go's encoding/base64) skips the line breaks, the schema's "byte" format does not.
 */
function normalized(m: Manifest): Manifest {
  if (m.kind !== 'Secret' || !m.data) return m;
  const data = Object.fromEntries(
    Object.entries(m.data as Record<string, string>).map(([k, v]) => [k, v.replace(/\s+/g, '')]),
  );
  return { ...m, data };
}

/** Unknown or mistyped fields, from the TypeScript interfaces of the same models. */
export function strictFieldProblems(manifests: Manifest[]): string[] {
  // A module that exists only in memory; it sits under the repository so node_modules resolve.
  const file = join(ROOT, 'test', 'deploy', '__manifests__.ts');
  const lines: string[] = [];
  const owners: { from: number; where: string }[] = [];
  manifests.forEach((m, i) => {
    lines.push(`import type { I${m.kind} as T${i} } from '${modelModule(m.apiVersion, m.kind)}';`);
  });
  manifests.forEach((m, i) => {
    owners.push({ from: lines.length, where: `${m.kind} ${m.metadata.name}` });
    lines.push(...`export const m${i}: T${i} = ${JSON.stringify(m, null, 2)};`.split('\n'));
  });
  const source = lines.join('\n');
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: [],
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.CommonJS,
    moduleResolution: ts.ModuleResolutionKind.Node10,
  };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, version, ...rest) =>
    name === file ? ts.createSourceFile(name, source, version) : getSourceFile(name, version, ...rest);
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => name === file || fileExists(name);
  host.readFile = ((readFile) => (name: string) => (name === file ? source : readFile(name)))(host.readFile.bind(host));
  const program = ts.createProgram([file], options, host);
  const sf = program.getSourceFile(file);
  if (!sf) throw new Error('the generated manifest module was not loaded');
  return [...program.getSyntacticDiagnostics(sf), ...program.getSemanticDiagnostics(sf)].map((d) => {
    const { line } = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start) : { line: -1 };
    const owner = [...owners].reverse().find((o) => o.from <= line);
    const text = d.file && d.start !== undefined ? d.file.text.slice(d.start, d.start + 60).split('\n')[0] : '';
    return `${owner?.where ?? '(imports)'}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')} (at ${text})`;
  });
}
