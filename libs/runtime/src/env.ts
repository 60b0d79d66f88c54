import { z } from 'zod';

/** Environment variables as read by Node: names to strings. */
export type Env = Record<string, string | undefined>;

/** Raised at boot when the environment is unusable; the message names each variable. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

/** Parse `env` with `schema`, reporting each problem as `NAME: what is wrong (got "value")`. */
export function parseEnv<S extends z.ZodType>(schema: S, env: Env): z.output<S> {
  const r = schema.safeParse(env);
  if (r.success) return r.data;
  throw new ConfigError(
    r.error.issues.map((issue) => {
      const name = String(issue.path[0] ?? '');
      const got = env[name];
      return `${name}: ${issue.message}${got !== undefined ? ` (got ${JSON.stringify(got)})` : ''}`;
    }),
  );
}

/** An empty variable (`PORT=`) means "not set", never 0. */
const blankAsUnset = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);

export const port = (fallback: number) =>
  z.preprocess(blankAsUnset, z.coerce.number().int().min(1).max(65535).default(fallback));

export const url = (fallback: string, protocols: string[]) =>
  z
    .string()
    .default(fallback)
    .refine(
      (s) => {
        try {
          return protocols.includes(new URL(s).protocol);
        } catch {
          return false;
        }
      },
      { message: `must be a ${protocols.map((p) => p.replace(/:$/, '')).join(' or ')} URL` },
    );

export const nodeEnv = z.enum(['development', 'test', 'production']).default('development');

export const logLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info');

/** LOG_FORMAT: unset means "by the rule" (chooseLogFormat in logger.ts). */
export const logFormat = z.preprocess(
  (v) => (typeof v === 'string' && v.trim() === '' ? undefined : v),
  z.enum(['json', 'pretty']).optional(),
);

/** An integer with bounds; environment strings are coerced. */
export const int = (fallback: number, min: number, max: number) =>
  z.preprocess(blankAsUnset, z.coerce.number().int().min(min).max(max).default(fallback));

/** `true`/`false`/`1`/`0`/`yes`/`no`; anything else is an error, not false. */
export const bool = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'must be true or false' })
    .optional()
    .transform((v) => (v === undefined ? fallback : ['true', '1', 'yes'].includes(v)));

/** Comma-separated list, blanks dropped. */
export const list = () =>
  z
    .string()
    .optional()
    .transform((v) =>
      (v ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    );

/** Key prefix for Redis, shared by the apps of one deployment. */
export const redisPrefix = z
  .string()
  .regex(/^[A-Za-z0-9_-]+$/, 'must be letters, digits, _ or -')
  .default('cimd');

/**
 * `parse()`, or undefined with its problems added to `problems` when it throws a ConfigError:
 * so that one start-up error names every bad variable, whichever parser found it.
 */
export function gather<T>(problems: string[], parse: () => T): T | undefined {
  try {
    return parse();
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    problems.push(...e.problems);
    return undefined;
  }
}
