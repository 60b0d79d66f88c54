import { open } from 'node:fs/promises';

/** Local files are allowed to be larger than fetched documents, but not unbounded. */
export const MAX_INPUT_BYTES = 1024 * 1024;

/** A problem with what the user gave us (exit code 2), as opposed to an invalid document. */
export class UsageError extends Error {}

export interface JsonInput {
  value: unknown;
  byteLength: number;
  source: string;
}

/** Read a JSON file, or standard input for `-`, refusing what is not a small UTF-8 JSON text. */
export async function readJsonInput(path: string, stdin: () => AsyncIterable<Buffer | string>): Promise<JsonInput> {
  const source = path === '-' ? 'standard input' : path;
  const bytes = path === '-' ? await readLimited(stdin(), source) : await readFileLimited(path);
  if (bytes.length === 0) throw new UsageError(`${source} is empty; expected a JSON document.`);
  if (bytes.includes(0)) throw new UsageError(`${source} is a binary file, not a JSON document.`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new UsageError(`${source} is not UTF-8 text, so it cannot be a JSON document.`);
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  try {
    return { value: JSON.parse(text), byteLength: bytes.length, source };
  } catch (e) {
    throw new UsageError(`${source} is not valid JSON: ${jsonErrorWhere(text, (e as Error).message)}`);
  }
}

async function readFileLimited(path: string): Promise<Buffer> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UsageError(`${path}: no such file.`);
    if (code === 'EACCES') throw new UsageError(`${path}: permission denied.`);
    if (code === 'EISDIR') throw new UsageError(`${path} is a directory, not a file.`);
    throw new UsageError(`${path}: cannot open (${code ?? 'unknown error'}).`);
  }
  try {
    const stat = await handle.stat();
    if (stat.isDirectory()) throw new UsageError(`${path} is a directory, not a file.`);
    if (stat.isFile() && stat.size > MAX_INPUT_BYTES) throw tooLarge(path, stat.size);
    return await readLimited(handle.createReadStream({ autoClose: false }), path);
  } catch (e) {
    if (e instanceof UsageError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EISDIR') throw new UsageError(`${path} is a directory, not a file.`);
    throw new UsageError(`${path}: cannot read (${code ?? (e as Error).message}).`);
  } finally {
    await handle.close();
  }
}

async function readLimited(stream: AsyncIterable<Buffer | string>, source: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of stream) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    total += buf.length;
    if (total > MAX_INPUT_BYTES) throw tooLarge(source, total, true);
    chunks.push(buf);
  }
  return Buffer.concat(chunks);
}

function tooLarge(source: string, size: number, atLeast = false): UsageError {
  return new UsageError(
    `${source} is ${atLeast ? 'more than ' : ''}${size} bytes; a metadata document is at most a few kilobytes (limit ${MAX_INPUT_BYTES} bytes).`,
  );
}

/** Turn V8's "… at position 123" into a line and column a person can find. */
function jsonErrorWhere(text: string, message: string): string {
  const m = /position (\d+)/.exec(message);
  if (!m) return message;
  const pos = Number(m[1]);
  const before = text.slice(0, pos);
  const line = before.split('\n').length;
  const column = pos - before.lastIndexOf('\n');
  return `${message.replace(/ in JSON at position \d+.*$/, '').replace(/\s*\(line \d+ column \d+\)$/, '')} (line ${line}, column ${column})`;
}
