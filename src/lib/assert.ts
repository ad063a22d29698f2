// Always-on assertions. A broken invariant is a bug: it throws with a message and never returns.
// Expected failures (etcd error codes) are values (see result.ts), not assertions.

export class AssertionError extends Error {
  override name = "AssertionError";
}

export function assert(condition: unknown, message: string | (() => string)): asserts condition {
  if (!condition) {
    throw new AssertionError(typeof message === "string" ? message : message());
  }
}

/** Marks a switch as exhaustive: the compiler rejects a missing case, the runtime names the value. */
export function unreachable(value: never, what = "value"): never {
  throw new AssertionError(`unreachable ${what}: ${JSON.stringify(value)}`);
}
