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

export const port = (fallback: number) => z.coerce.number().int().min(1).max(65535).default(fallback);

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
