// The backend quota (etcd's --quota-backend-bytes): a write that would take the store past it is
// refused with ErrNoSpace and raises the NOSPACE alarm for the cluster. Costs follow etcd's
// estimate: a put costs its key and value plus a fixed overhead, a txn the sum of its puts (both
// branches, nested txns included), a lease grant a fixed amount; other requests cost nothing.

import type { InternalRequest } from "./internal-request.js";
import type { TxnRequest } from "../api/rpc.js";

/** etcd's default quota: 2 GiB. */
export const DEFAULT_QUOTA_BACKEND_BYTES = 2 * 1024 * 1024 * 1024;
const PUT_OVERHEAD_BYTES = 256;
const LEASE_OVERHEAD_BYTES = 64;

/** The quota in force for a configured value: 0 or less means etcd's default. */
export function effectiveQuotaBytes(configured: number): number {
  return configured > 0 ? configured : DEFAULT_QUOTA_BACKEND_BYTES;
}

/** How many bytes the request may add to the store (0: it cannot grow it). */
export function requestCostBytes(req: InternalRequest): number {
  switch (req.kind) {
    case "put":
      return putCost(req.put.key, req.put.value);
    case "txn":
      return txnCost(req.txn);
    case "lease-grant":
      return LEASE_OVERHEAD_BYTES;
    default:
      return 0;
  }
}

function putCost(key: Uint8Array, value: Uint8Array | undefined): number {
  return PUT_OVERHEAD_BYTES + key.length + (value?.length ?? 0);
}

function txnCost(txn: TxnRequest): number {
  let cost = 0;
  for (const op of [...(txn.success ?? []), ...(txn.failure ?? [])]) {
    if (op.request === "request_put") cost += putCost(op.request_put.key, op.request_put.value);
    else if (op.request === "request_txn") cost += txnCost(op.request_txn);
  }
  return cost;
}
