import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

const ROOT = join(__dirname, '..');
const COMMITTED = join(ROOT, 'libs', 'contracts', 'src', 'grpc', 'generated');

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

describe('the TypeScript types of proto/cimd/v1/gateway.proto', () => {
  it('are what `npm run proto:types` generates from the proto now (regenerate after changing it)', () => {
    const out = mkdtempSync(join(tmpdir(), 'cimd-proto-types-'));
    try {
      execFileSync(process.execPath, [join(ROOT, 'scripts', 'generate-proto-types.js'), '--out', out], {
        stdio: 'pipe',
      });
      expect(files(out)).toEqual(files(COMMITTED));
      for (const file of files(out))
        expect(readFileSync(join(out, file), 'utf8')).toBe(readFileSync(join(COMMITTED, file), 'utf8'));
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
