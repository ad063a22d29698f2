// Small helpers shared by the mvcc tests: text keys, unwrapping Results, readable KeyValues.
import { expect } from "vitest";
import { fromUtf8, utf8 } from "../../src/lib/bytes.js";
import type { Result } from "../../src/lib/result.js";
import type { EtcdError } from "../../src/api/errors.js";
import type { KeyValue } from "../../src/api/kv.js";

export const b = utf8;

export function unwrap<T>(r: Result<T, EtcdError>): T {
  if (!r.ok) throw new Error(`unexpected error: ${r.error.message}`);
  return r.value;
}

export function expectError<T>(r: Result<T, EtcdError>, name: EtcdError["name"]): void {
  expect(r.ok ? "ok" : r.error.name).toBe(name);
}

/** A KeyValue with text key and value, for readable assertions. */
export function show(kv: KeyValue): {
  key: string;
  value: string;
  create: number;
  mod: number;
  version: number;
  lease: bigint;
} {
  return {
    key: fromUtf8(kv.key),
    value: fromUtf8(kv.value),
    create: kv.create_revision,
    mod: kv.mod_revision,
    version: kv.version,
    lease: kv.lease,
  };
}

export function keys(kvs: readonly KeyValue[]): string[] {
  return kvs.map((kv) => fromUtf8(kv.key));
}
