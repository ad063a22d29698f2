// A key-value store with get, put and append (the model of the Porcupine kv logs). A missing key
// reads as "". Keys are independent, so `kvModel` splits the history per key and each partition
// holds a single string; `kvModelUnpartitioned` checks the whole history with a map as its state
// (slower: it exists to measure the search without P-compositionality).
import { hashString, mix32 } from "../hash.js";
import type { Model, Operation, StepResult } from "../types.js";

export type KvInput =
  | { readonly kind: "get"; readonly key: string }
  | { readonly kind: "put"; readonly key: string; readonly value: string }
  | { readonly kind: "append"; readonly key: string; readonly value: string };

/** A get returns the whole value of the key; put and append return nothing. */
export type KvOutput = { readonly kind: "get"; readonly value: string } | { readonly kind: "done" };

export type KvOperation = Operation<KvInput, KvOutput>;

const ILLEGAL = { ok: false } as const;

/** The value after a write, or undefined for a read. */
function written(value: string, input: KvInput): string | undefined {
  switch (input.kind) {
    case "get":
      return undefined;
    case "put":
      return input.value;
    case "append":
      return value + input.value;
    default:
      return unreachableInput(input);
  }
}

function unreachableInput(input: never): never {
  throw new Error(`kv: unknown input ${JSON.stringify(input)}`);
}

function legalOutput(value: string, input: KvInput, output: KvOutput | undefined): boolean {
  if (output === undefined) return true;
  return input.kind === "get"
    ? output.kind === "get" && output.value === value
    : output.kind === "done";
}

/** Groups operations by key, keys in order of first appearance, operations in input order. */
export function partitionByKey<O>(
  history: readonly Operation<KvInput, O>[],
): Operation<KvInput, O>[][] {
  const parts = new Map<string, Operation<KvInput, O>[]>();
  for (const op of history) {
    const part = parts.get(op.input.key);
    if (part === undefined) parts.set(op.input.key, [op]);
    else part.push(op);
  }
  return [...parts.values()];
}

function describeOperation(input: KvInput, output: KvOutput | undefined): string {
  if (input.kind === "get") {
    const value = output?.kind === "get" ? JSON.stringify(output.value) : "?";
    return `get(${JSON.stringify(input.key)}) -> ${value}`;
  }
  const suffix = output === undefined ? " -> ?" : "";
  return `${input.kind}(${JSON.stringify(input.key)}, ${JSON.stringify(input.value)})${suffix}`;
}

/** Per-key model: a partition's state is the value of its one key. */
export const kvModel: Model<string, KvInput, KvOutput> = {
  init: () => "",
  step: (state, input, output): StepResult<string> => {
    if (!legalOutput(state, input, output)) return ILLEGAL;
    return { ok: true, state: written(state, input) ?? state };
  },
  hash: (state) => hashString(state),
  partition: partitionByKey,
  describeOperation,
  describeState: (state) => JSON.stringify(state),
};

/** Whole-store state: each key's value with its string hash; `hash` is the sum over keys. */
export interface KvStoreState {
  readonly values: ReadonlyMap<string, { readonly value: string; readonly hash: number }>;
  readonly hash: number;
}

function entryHash(key: string, valueHash: number): number {
  return mix32((hashString(key) * 31 + valueHash) | 0);
}

function stepStore(
  state: KvStoreState,
  input: KvInput,
  output: KvOutput | undefined,
): StepResult<KvStoreState> {
  const old = state.values.get(input.key);
  const value = old?.value ?? "";
  if (!legalOutput(value, input, output)) return ILLEGAL;
  const next = written(value, input);
  if (next === undefined) return { ok: true, state };
  // Append continues the old value's hash instead of rehashing the whole string.
  const oldHash = old?.hash ?? hashString("");
  const valueHash = input.kind === "append" ? hashString(input.value, oldHash) : hashString(next);
  const values = new Map(state.values);
  // "" is stored as a missing key, so equal stores have equal maps and equal hashes.
  if (next === "") values.delete(input.key);
  else values.set(input.key, { value: next, hash: valueHash });
  const removed = old === undefined ? 0 : entryHash(input.key, old.hash);
  const added = next === "" ? 0 : entryHash(input.key, valueHash);
  const hash = (state.hash - removed + added) | 0;
  return { ok: true, state: { values, hash } };
}

function sameStore(a: KvStoreState, b: KvStoreState): boolean {
  if (a === b) return true;
  if (a.hash !== b.hash || a.values.size !== b.values.size) return false;
  for (const [key, entry] of a.values) {
    if (b.values.get(key)?.value !== entry.value) return false;
  }
  return true;
}

/** Whole-store model without partitioning (for measuring the unpartitioned search). */
export const kvModelUnpartitioned: Model<KvStoreState, KvInput, KvOutput> = {
  init: () => ({ values: new Map(), hash: 0 }),
  step: stepStore,
  hash: (state) => state.hash,
  equal: sameStore,
  describeOperation,
  describeState: (state) =>
    [...state.values.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([key, v]) => `${JSON.stringify(key)}: ${JSON.stringify(v.value)}`)
      .join("\n"),
};
