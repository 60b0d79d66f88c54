import { z } from 'zod';

/** An http or https URL setting. */
export const httpUrl = z.url({ protocol: /^https?$/ });

/**
 * PORT and HOST of an example server: listening on 127.0.0.1 unless told otherwise. `lowest` is
 * the smallest PORT taken (0, where any free port will do).
 */
export const listenEnv = (defaultPort: number, lowest: 0 | 1) => ({
  PORT: z.coerce.number().int().min(lowest).max(65535).default(defaultPort),
  HOST: z.string().default('127.0.0.1'),
});

/** `env` read with an example's schema, checked once at start: one error naming every bad setting. */
export function parseExampleEnv<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv): z.output<S> {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`invalid configuration: ${problems}`);
  }
  return parsed.data;
}
