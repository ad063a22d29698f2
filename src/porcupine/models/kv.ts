// A key-value store with get, put and append (the model of the Porcupine kv logs). A missing key
// reads as "". Keys are independent, so `kvModel` splits the history per key and each partition
// holds a single string; `makeKvStoreModel()` checks the whole history with the store as its state
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
  readOnly: (input) => input.kind === "get",
  partition: partitionByKey,
  describeOperation,
  describeState: (state) => JSON.stringify(state),
};

/**
 * Whole-store state: values and their string hashes indexed by a key number, and `hash`, the sum
 * of the per-key hashes. Key numbers come from the model's own table (first use gets the next
 * number); arrays copy much faster than maps, and that copy is the cost of every write here.
 * A missing key and "" are both stored as "" with hash 0, so equal stores are equal arrays.
 */
export interface KvStoreState {
  readonly values: readonly string[];
  readonly valueHashes: readonly number[];
  readonly hash: number;
}

function entryHash(keyIndex: number, valueHash: number): number {
  return mix32((Math.imul(keyIndex + 1, 0x9e3779b1) + valueHash) | 0);
}

/** Whole-store model without partitioning (for measuring the search without P-compositionality). */
export function makeKvStoreModel(): Model<KvStoreState, KvInput, KvOutput> {
  const keyIndex = new Map<string, number>();
  const indexOf = (key: string): number => {
    let i = keyIndex.get(key);
    if (i === undefined) keyIndex.set(key, (i = keyIndex.size));
    return i;
  };
  const step = (
    state: KvStoreState,
    input: KvInput,
    output: KvOutput | undefined,
  ): StepResult<KvStoreState> => {
    const k = indexOf(input.key);
    const value = state.values[k] ?? "";
    if (!legalOutput(value, input, output)) return ILLEGAL;
    const next = written(value, input);
    if (next === undefined) return { ok: true, state };
    const oldHash = state.valueHashes[k] ?? 0;
    // Append continues the old value's hash instead of rehashing the whole string.
    const valueHash =
      next === ""
        ? 0
        : hashString(
            input.kind === "append" ? input.value : next,
            input.kind === "append" && value !== "" ? oldHash : undefined,
          );
    const values = state.values.slice();
    const valueHashes = state.valueHashes.slice();
    for (let i = values.length; i < k; i++) {
      values.push("");
      valueHashes.push(0);
    }
    values[k] = next;
    valueHashes[k] = valueHash;
    const removed = value === "" ? 0 : entryHash(k, oldHash);
    const added = next === "" ? 0 : entryHash(k, valueHash);
    return { ok: true, state: { values, valueHashes, hash: (state.hash - removed + added) | 0 } };
  };
  return {
    init: () => ({ values: [], valueHashes: [], hash: 0 }),
    step,
    hash: (state) => state.hash,
    equal: sameStore,
    readOnly: (input) => input.kind === "get",
    describeOperation,
    describeState: (state) =>
      [...keyIndex.entries()]
        .filter(([, i]) => (state.values[i] ?? "") !== "")
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([key, i]) => `${JSON.stringify(key)}: ${JSON.stringify(state.values[i])}`)
        .join("\n"),
  };
}

function sameStore(a: KvStoreState, b: KvStoreState): boolean {
  if (a === b) return true;
  if (a.hash !== b.hash) return false;
  const n = Math.max(a.values.length, b.values.length);
  for (let i = 0; i < n; i++) {
    if ((a.values[i] ?? "") !== (b.values[i] ?? "")) return false;
  }
  return true;
}
