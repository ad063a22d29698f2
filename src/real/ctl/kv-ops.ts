// get, put and del: their flags and the request each builds from arguments and flags, with
// etcdctl's checks and messages. The command line and `txn` request lines both go through here.

import type {
  DeleteRangeRequest,
  PutRequest,
  RangeRequest,
  SortOrder,
  SortTarget,
} from "../../api/rpc.js";
import { prefixEnd } from "../../lib/bytes.js";
import { badArgs, badFeature } from "./exit.js";
import { flag, parseHexId, type Flags, type FlagSpec } from "./flags.js";
import { goQuote } from "./go-format.js";

export const GET_FLAGS: readonly FlagSpec[] = [
  flag("consistency", "string", "l", "Linearizable(l) or Serializable(s)"),
  flag("order", "string", "", "Order of results; ASCEND or DESCEND (ASCEND by default)"),
  flag("sort-by", "string", "", "Sort target; CREATE, KEY, MODIFY, VALUE, or VERSION"),
  flag("limit", "int", 0, "Maximum number of results"),
  flag("prefix", "bool", false, "Get keys with matching prefix"),
  flag(
    "from-key",
    "bool",
    false,
    "Get keys that are greater than or equal to the given key using byte compare",
  ),
  flag("rev", "int", 0, "Specify the kv revision"),
  flag("keys-only", "bool", false, "Get only the keys"),
  flag("count-only", "bool", false, "Get only the count"),
  flag(
    "print-value-only",
    "bool",
    false,
    'Only write values when using the "simple" output format',
  ),
  flag("min-mod-rev", "int", 0, "Minimum modify revision"),
  flag("max-mod-rev", "int", 0, "Maximum modify revision"),
  flag("min-create-rev", "int", 0, "Minimum create revision"),
  flag("max-create-rev", "int", 0, "Maximum create revision"),
];

export const PUT_FLAGS: readonly FlagSpec[] = [
  flag("lease", "string", "0", "lease ID (in hexadecimal) to attach to the key"),
  flag("prev-kv", "bool", false, "return the previous key-value pair before modification"),
  flag("ignore-value", "bool", false, "updates the key using its current value"),
  flag("ignore-lease", "bool", false, "updates the key using its current lease"),
];

export const DEL_FLAGS: readonly FlagSpec[] = [
  flag("prefix", "bool", false, "delete keys with matching prefix"),
  flag("prev-kv", "bool", false, "return deleted key-value pairs"),
  flag(
    "from-key",
    "bool",
    false,
    "delete keys that are greater than or equal to the given key using byte compare",
  ),
  flag("range", "bool", false, "delete range of keys"),
];

const FROM_KEY_END = Uint8Array.of(0);

const SORT_ORDERS: ReadonlyMap<string, SortOrder> = new Map([
  ["ASCEND", "ASCEND"],
  ["DESCEND", "DESCEND"],
  ["", "NONE"],
]);

const SORT_TARGETS: ReadonlyMap<string, SortTarget> = new Map([
  ["CREATE", "CREATE"],
  ["KEY", "KEY"],
  ["MODIFY", "MOD"],
  ["VALUE", "VALUE"],
  ["VERSION", "VERSION"],
  ["", "KEY"],
]);

function exclusiveRangeFlags(prefix: boolean, fromKey: boolean): void {
  if (prefix && fromKey) {
    throw badArgs("`--prefix` and `--from-key` cannot be set at the same time, choose one");
  }
}

const TOO_MANY_WITH_RANGE_FLAG =
  "too many arguments, only accept one argument when `--prefix` or `--from-key` is set";

/** key and range_end for --prefix / --from-key; an empty key means "every key". */
function rangeOf(
  key: Uint8Array,
  prefix: boolean,
  fromKey: boolean,
): { key: Uint8Array; range_end?: Uint8Array } {
  if (prefix) {
    return key.length === 0
      ? { key: FROM_KEY_END, range_end: FROM_KEY_END }
      : { key, range_end: prefixEnd(key) };
  }
  if (fromKey) return { key: key.length === 0 ? FROM_KEY_END : key, range_end: FROM_KEY_END };
  return { key };
}

/** The Range request of `get` (etcdctl's getGetOp). */
export function getRequest(args: readonly Uint8Array[], f: Flags): RangeRequest {
  if (args.length === 0) {
    throw badArgs("get command needs one argument as key and an optional argument as range_end");
  }
  const prefix = f.bool("prefix");
  const fromKey = f.bool("from-key");
  exclusiveRangeFlags(prefix, fromKey);
  if (f.bool("keys-only") && f.bool("count-only")) {
    throw badArgs("`--keys-only` and `--count-only` cannot be set at the same time, choose one");
  }
  const consistency = f.string("consistency");
  if (consistency !== "l" && consistency !== "s") {
    throw badFeature(`unknown consistency flag ${goQuote(consistency)}`);
  }
  if (args.length > 1 && (prefix || fromKey)) throw badArgs(TOO_MANY_WITH_RANGE_FLAG);
  const order = SORT_ORDERS.get(f.string("order").toUpperCase());
  if (order === undefined) throw badFeature(`bad sort order ${f.string("order")}`);
  const target = SORT_TARGETS.get(f.string("sort-by").toUpperCase());
  if (target === undefined) throw badFeature(`bad sort target ${f.string("sort-by")}`);
  const range = args.length > 1 ? { key: args[0] as Uint8Array, range_end: args[1] } : undefined;
  return {
    ...(range ?? rangeOf(args[0] as Uint8Array, prefix, fromKey)),
    limit: f.number("limit"),
    revision: Math.max(0, f.number("rev")),
    // The server already returns keys in ascending order: the client asks for no sort then.
    sort_order: target === "KEY" && order === "ASCEND" ? "NONE" : order,
    sort_target: target,
    serializable: consistency === "s",
    keys_only: f.bool("keys-only"),
    count_only: f.bool("count-only"),
    min_mod_revision: f.number("min-mod-rev"),
    max_mod_revision: f.number("max-mod-rev"),
    min_create_revision: f.number("min-create-rev"),
    max_create_revision: f.number("max-create-rev"),
  };
}

const PUT_ARGS = "put command needs 1 argument and input from stdin or 2 arguments";

/**
 * The Put request of `put` (etcdctl's getPutOp). Without a value argument the value is `stdin`'s
 * whole content; `stdin` undefined means there is none to read (a txn line).
 */
export function putRequest(
  args: readonly Uint8Array[],
  f: Flags,
  stdin: Uint8Array | undefined,
): PutRequest {
  if (args.length === 0) throw badArgs(PUT_ARGS);
  const ignoreValue = f.bool("ignore-value");
  if (ignoreValue && args.length > 1) {
    throw badArgs("put command needs only 1 argument when 'ignore-value' is set");
  }
  let value: Uint8Array = new Uint8Array(0);
  if (!ignoreValue) {
    value = args[1] ?? stdin ?? new Uint8Array(0);
    if (args.length < 2 && value.length === 0) throw badArgs(PUT_ARGS);
  }
  let lease: bigint;
  try {
    lease = parseHexId(f.string("lease"));
  } catch (e) {
    throw badArgs(`bad lease ID (${(e as Error).message}), expecting ID in Hex`);
  }
  return {
    key: args[0] as Uint8Array,
    value,
    lease,
    prev_kv: f.bool("prev-kv"),
    ignore_value: ignoreValue,
    ignore_lease: f.bool("ignore-lease"),
  };
}

/** The DeleteRange request of `del` (etcdctl's getDelOp). */
export function delRequest(args: readonly Uint8Array[], f: Flags): DeleteRangeRequest {
  if (args.length === 0 || args.length > 2) {
    throw badArgs("del command needs one argument as key and an optional argument as range_end");
  }
  const prefix = f.bool("prefix");
  const fromKey = f.bool("from-key");
  exclusiveRangeFlags(prefix, fromKey);
  if (args.length > 1 && (prefix || fromKey)) throw badArgs(TOO_MANY_WITH_RANGE_FLAG);
  const range =
    args.length > 1
      ? { key: args[0] as Uint8Array, range_end: args[1] as Uint8Array }
      : rangeOf(args[0] as Uint8Array, prefix, fromKey);
  return { ...range, prev_kv: f.bool("prev-kv") };
}
