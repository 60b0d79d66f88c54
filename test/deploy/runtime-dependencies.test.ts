import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { ROOT } from './support/manifests';

/**
 * The image installs production dependencies only (`npm ci --omit=dev`), so the built apps must
 * need nothing else: checked on dist/ (built by `npm test`'s pretest) twice, by reading every
 * require() the entrypoints reach, and by loading them over a node_modules that holds only the
 * packages `npm ci --omit=dev` installs (the lockfile's non-dev entries).
 */
const ENTRYPOINTS = [
  'dist/apps/gateway/src/main.js',
  'dist/apps/fetcher/src/main.js',
  'dist/apps/gateway/src/database/migrate.js',
  'dist/apps/cli/src/main.js',
];

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, { dev?: boolean; link?: boolean }>;
};

function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? `${parts[0]}/${parts[1]}` : (parts[0] as string);
}

/** Every file of dist/ the entrypoints reach through relative requires, and the packages they name. */
function importClosure(entries: string[]): { files: Set<string>; packages: Map<string, string> } {
  const files = new Set<string>();
  const packages = new Map<string, string>();
  const queue = entries.map((e) => join(ROOT, e));
  while (queue.length > 0) {
    const file = queue.pop() as string;
    if (files.has(file)) continue;
    files.add(file);
    const source = readFileSync(file, 'utf8');
    for (const m of source.matchAll(/\brequire\(\s*["']([^"']+)["']\s*\)/g)) {
      const spec = m[1] as string;
      if (spec.startsWith('.')) {
        const base = resolve(dirname(file), spec);
        const target = [`${base}.js`, join(base, 'index.js'), base].find((f) => existsSync(f) && f.endsWith('.js'));
        if (!target) throw new Error(`${file}: cannot resolve ${spec}`);
        queue.push(target);
      } else if (!spec.startsWith('node:') && !builtinModules.includes(packageName(spec))) {
        packages.set(packageName(spec), file.slice(ROOT.length + 1));
      }
    }
  }
  return { files, packages };
}

describe('the built apps at run time', () => {
  it('import no devDependency and nothing from libs/testing (their require() closure from dist/)', () => {
    for (const e of ENTRYPOINTS) expect({ e, built: existsSync(join(ROOT, e)) }).toEqual({ e, built: true });
    const { files, packages } = importClosure(ENTRYPOINTS);
    expect(files.size).toBeGreaterThan(50);
    expect([...files].filter((f) => f.includes('/dist/libs/testing/'))).toEqual([]);
    const notProduction = [...packages].filter(([name]) => !(name in pkg.dependencies));
    expect(notProduction.map(([name, from]) => `${name} (required by ${from})`)).toEqual([]);
  });

  it('load with only the packages npm ci --omit=dev installs', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cimd-prod-deps-'));
    try {
      const modules = join(dir, 'node_modules');
      mkdirSync(modules);
      const production = Object.entries(lock.packages)
        .filter(([path, entry]) => /^node_modules\/(@[^/]+\/)?[^/]+$/.test(path) && !entry.dev)
        .map(([path]) => path.slice('node_modules/'.length));
      expect(production).toContain('@nestjs/core');
      for (const name of production) {
        if (name.startsWith('@')) mkdirSync(join(modules, name.split('/')[0] as string), { recursive: true });
        symlinkSync(join(ROOT, 'node_modules', name), join(modules, name));
      }
      symlinkSync(join(ROOT, 'dist'), join(dir, 'dist'));
      // --preserve-symlinks: packages resolve their own requires from this node_modules, not the repository's.
      const load = (code: string) =>
        spawnSync(process.execPath, ['--preserve-symlinks', '-e', code], {
          cwd: dir,
          encoding: 'utf8',
          timeout: 60_000,
        });
      const apps = load(
        `for (const f of ${JSON.stringify(ENTRYPOINTS.slice(0, 3))}) require(require('node:path').resolve(f));`,
      );
      expect({ status: apps.status, stderr: apps.stderr.split('\n').slice(0, 8).join('\n') }).toEqual({
        status: 0,
        stderr: '',
      });
      // The check is not vacuous: a devDependency is not there.
      const dev = load("require('typescript')");
      expect(dev.status).not.toBe(0);
      expect(dev.stderr).toContain("Cannot find module 'typescript'");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
