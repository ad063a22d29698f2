// Range post-processing as etcd does it after reading the index: revision filters, sorting, the
// limit with `more`, and keys_only. Pure functions over KeyValue lists.

import { compareBytes } from "../lib/bytes.js";
import { unreachable } from "../lib/assert.js";
import type { KeyValue } from "../api/kv.js";
import type { RangeRequest, SortOrder, SortTarget } from "../api/rpc.js";
import { emptyBytes } from "../lib/bytes.js";

/** Key ascending, which is how the index yields keys; no sort needed. */
export function isDefaultOrdering(target: SortTarget, order: SortOrder): boolean {
  return order === "NONE" || (target === "KEY" && order === "ASCEND");
}

export function hasRevisionFilters(r: RangeRequest): boolean {
  return (
    (r.min_mod_revision ?? 0) !== 0 ||
    (r.max_mod_revision ?? 0) !== 0 ||
    (r.min_create_revision ?? 0) !== 0 ||
    (r.max_create_revision ?? 0) !== 0
  );
}

/**
 * How many rows the index scan should collect: limit + 1 (to learn `more`) when no filter runs and
 * the order is "default", or every row (0) otherwise. As in etcd, sort_order NONE counts as default
 * even with a non-KEY target, so such a range sorts only the first limit + 1 keys (an etcd quirk
 * kept for fidelity).
 */
export function scanLimit(r: RangeRequest): number {
  const limit = r.limit ?? 0;
  const target = r.sort_target ?? "KEY";
  const order = r.sort_order ?? "NONE";
  if (limit <= 0 || !isDefaultOrdering(target, order) || hasRevisionFilters(r)) return 0;
  return limit + 1;
}

/** Drops rows outside the min/max mod/create revision bounds (0 = no bound). */
export function filterKvs(kvs: KeyValue[], r: RangeRequest): KeyValue[] {
  if (!hasRevisionFilters(r)) return kvs;
  const minMod = r.min_mod_revision ?? 0;
  const maxMod = r.max_mod_revision ?? 0;
  const minCreate = r.min_create_revision ?? 0;
  const maxCreate = r.max_create_revision ?? 0;
  return kvs.filter(
    (kv) =>
      (maxMod === 0 || kv.mod_revision <= maxMod) &&
      (minMod === 0 || kv.mod_revision >= minMod) &&
      (maxCreate === 0 || kv.create_revision <= maxCreate) &&
      (minCreate === 0 || kv.create_revision >= minCreate),
  );
}

function comparatorFor(target: SortTarget): (a: KeyValue, b: KeyValue) => number {
  switch (target) {
    case "KEY":
      return (a, b) => compareBytes(a.key, b.key);
    case "VERSION":
      return (a, b) => a.version - b.version;
    case "CREATE":
      return (a, b) => a.create_revision - b.create_revision;
    case "MOD":
      return (a, b) => a.mod_revision - b.mod_revision;
    case "VALUE":
      return (a, b) => compareBytes(a.value, b.value);
    default:
      return unreachable(target, "sort target");
  }
}

/**
 * Sorts in place as requested. A target other than KEY with order NONE sorts ascending (etcd's
 * rule). The sort is stable over the key-ascending input, so ties stay in key order in both
 * directions; etcd leaves the order of ties unspecified, detcd pins it for determinism.
 */
export function sortKvs(kvs: KeyValue[], r: RangeRequest): void {
  const target = r.sort_target ?? "KEY";
  let order = r.sort_order ?? "NONE";
  if (target !== "KEY" && order === "NONE") order = "ASCEND";
  if (isDefaultOrdering(target, order)) return;
  const cmp = comparatorFor(target);
  if (order === "ASCEND") kvs.sort(cmp);
  else kvs.sort((a, b) => cmp(b, a));
}

/** Applies the limit (setting `more`) and keys_only. */
export function finishKvs(kvs: KeyValue[], r: RangeRequest): { kvs: KeyValue[]; more: boolean } {
  const limit = r.limit ?? 0;
  let more = false;
  let out = kvs;
  if (limit > 0 && out.length > limit) {
    out = out.slice(0, limit);
    more = true;
  }
  if (r.keys_only === true) out = out.map((kv) => ({ ...kv, value: emptyBytes }));
  return { kvs: out, more };
}
