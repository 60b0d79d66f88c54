import { spawn } from 'node:child_process';
import { join } from 'node:path';

/** Run `scripts/<name>` to its end: what it wrote (stdout and stderr, interleaved) and its exit code. */
export async function runScript(name: string): Promise<{ out: string; code: number | null }> {
  const child = spawn(process.execPath, [join(__dirname, '..', '..', 'scripts', name)], { env: process.env });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  return { out, code };
}
