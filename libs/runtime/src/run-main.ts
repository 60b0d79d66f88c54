import { ConfigError, Env } from './env';

/**
 * The one way an app's main.ts starts: load and validate the configuration (a ConfigError is
 * printed as is and exits 2: nothing can start), then start the app; a failure to start is one
 * line on stderr and exit 1, never a stack trace.
 */
export function runMain<C>(name: string, load: (env: Env) => C, start: (config: C) => Promise<unknown>): void {
  let config: C;
  try {
    config = load(process.env);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`${name}: ${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
  start(config).catch((e: unknown) => {
    process.stderr.write(`${name}: failed to start: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  });
}
