/**
 * Poll `check` until it returns something truthy. The deadline only bounds a failing test;
 * it asserts nothing about speed (timings belong in the benchmark).
 */
export async function waitFor<T>(
  check: () => T | undefined | false | Promise<T | undefined | false>,
  what: string,
  ms = 15_000,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The error of class `type` that `run` throws; fails the test if it throws nothing or something else. */
export function thrownBy<E extends Error>(run: () => unknown, type: new (...args: never[]) => E): E {
  try {
    run();
  } catch (e) {
    if (e instanceof type) return e;
    throw new Error(`expected a ${type.name}, got ${String(e)}`);
  }
  throw new Error(`expected a ${type.name}, but nothing was thrown`);
}
