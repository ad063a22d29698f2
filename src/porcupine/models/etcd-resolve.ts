// Resolving unknown outcomes that the history itself proves, before the search.
//
// A write whose response was lost may or may not have been applied. If it put a (key, value) pair
// that no other operation puts, and some completed response shows that pair (a range, a prev_kv,
// a txn's nested range), then the write was applied, at revision kv.mod_revision, and before that
// response returned. So it becomes "persisted at that revision" with that return time: the model no
// longer forks on it, and the search window for it shrinks from "any time after the call" to a
// bounded interval. Pairs written twice prove nothing (the response may show the other write), so
// they are left alone; so is a write observed before its own call (the search will reject that).
import type { Operation } from "../types.js";
import type { EtcdInput, EtcdOutput, KeyValue, RequestOp, ResponseOp } from "./etcd-types.js";

type EtcdOperation = Operation<EtcdInput, EtcdOutput>;

function putsOf(input: EtcdInput): { key: string; value: string }[] {
  const fromOps = (ops: readonly RequestOp[]) =>
    ops.flatMap((op) => (op.type === "put" ? [{ key: op.key, value: op.value }] : []));
  switch (input.type) {
    case "put":
      return [{ key: input.key, value: input.value }];
    case "txn":
      return [...fromOps(input.success), ...fromOps(input.failure)];
    case "range":
    case "delete-range":
    case "lease-grant":
    case "lease-revoke":
    case "compaction":
    case "auth":
      return [];
    default:
      return unreachable(input);
  }
}

function kvsOfResponseOp(response: ResponseOp): readonly KeyValue[] {
  switch (response.type) {
    case "range":
      return response.kvs;
    case "put":
      return response.prev_kv ? [response.prev_kv] : [];
    case "delete-range":
      return response.prev_kvs ?? [];
    default:
      return unreachable(response);
  }
}

/** Every key-value a completed operation's response shows. */
function observedKvs(output: EtcdOutput | undefined): readonly KeyValue[] {
  if (output === undefined) return [];
  switch (output.type) {
    case "range":
    case "put":
    case "delete-range":
      return kvsOfResponseOp(output);
    case "txn":
      return output.responses.flatMap(kvsOfResponseOp);
    case "error":
    case "persisted":
    case "lease-grant":
    case "lease-revoke":
    case "compaction":
    case "auth":
      return [];
    default:
      return unreachable(output);
  }
}

const pairKey = (key: string, value: string) => `${key.length}:${key}${value}`;

interface Sighting {
  readonly returnTime: number;
  readonly revision: number;
}

/** Earliest completed response showing each (key, value) pair. */
function firstSightings(history: readonly EtcdOperation[]): Map<string, Sighting> {
  const seen = new Map<string, Sighting>();
  for (const op of history) {
    if (op.return === undefined) continue;
    for (const kv of observedKvs(op.output)) {
      const pair = pairKey(kv.key, kv.value);
      const earlier = seen.get(pair);
      if (earlier === undefined || op.return < earlier.returnTime) {
        seen.set(pair, { returnTime: op.return, revision: kv.mod_revision });
      }
    }
  }
  return seen;
}

/**
 * Returns the history with every provably applied unknown write turned into a persisted one (see
 * the file comment). Other operations are returned unchanged and in the same order; the input is
 * not modified. Sound only when values are compared exactly, which the etcd model does.
 */
export function resolveUnknownWrites(history: readonly EtcdOperation[]): EtcdOperation[] {
  const writers = new Map<string, number>();
  for (const op of history) {
    for (const p of putsOf(op.input)) {
      const pair = pairKey(p.key, p.value);
      writers.set(pair, (writers.get(pair) ?? 0) + 1);
    }
  }
  const sightings = firstSightings(history);
  return history.map((op) => {
    if (op.return !== undefined) return op;
    let proof: Sighting | undefined;
    for (const p of putsOf(op.input)) {
      const pair = pairKey(p.key, p.value);
      const seen = sightings.get(pair);
      if (writers.get(pair) !== 1 || seen === undefined || seen.returnTime < op.call) continue;
      if (proof === undefined || seen.returnTime < proof.returnTime) proof = seen;
    }
    if (proof === undefined) return op;
    return {
      ...op,
      output: { type: "persisted", revision: proof.revision },
      return: proof.returnTime,
    };
  });
}

function unreachable(value: never): never {
  throw new Error(`etcd resolve: unexpected ${JSON.stringify(value)}`);
}
