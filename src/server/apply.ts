// Deterministic apply of one replicated request to the state machine (kv store + lessor). Every
// member runs exactly this for every committed entry, in log order, so every member reaches the
// same kv history and the same lease table. Nothing here reads a clock or a random source; the
// lessor's leader-local half (expiry times) is the only state that differs between members.

import { unreachable } from "../lib/assert.js";
import { emptyBytes } from "../lib/bytes.js";
import { err, ok, type Result } from "../lib/result.js";
import { Errors, type EtcdError } from "../api/errors.js";
import {
  header,
  type CompactionResponse,
  type DeleteRangeResponse,
  type LeaseGrantResponse,
  type LeaseRevokeResponse,
  type PutResponse,
  type TxnRequest,
  type TxnResponse,
} from "../api/rpc.js";
import type { Lessor } from "../lease/index.js";
import type { KvStore } from "../mvcc/kv-store.js";
import type { AuthApplied, AuthStore, SimpleTokens } from "../auth/index.js";
import type { AlarmStore } from "./alarms.js";
import { applyAuthChange, checkInternal } from "./auth-gate.js";
import type { InternalRequest } from "./internal-request.js";

/** What applying a request answers; the header's cluster, member and term are filled later. */
export type AppliedResponse =
  | { readonly kind: "put"; readonly response: PutResponse }
  | { readonly kind: "delete-range"; readonly response: DeleteRangeResponse }
  | { readonly kind: "txn"; readonly response: TxnResponse }
  | { readonly kind: "compaction"; readonly response: CompactionResponse }
  | { readonly kind: "lease-grant"; readonly response: LeaseGrantResponse }
  | { readonly kind: "lease-revoke"; readonly response: LeaseRevokeResponse }
  | { readonly kind: "lease-checkpoint" }
  | { readonly kind: "alarm"; readonly changed: boolean }
  | {
      readonly kind: "auth";
      readonly applied: AuthApplied & { readonly token: string };
      /** The kv revision when it applied, for the response header. */
      readonly revision: number;
    };

export interface StateMachine {
  readonly kv: KvStore;
  readonly lessor: Lessor;
  readonly alarms: AlarmStore;
  readonly auth: AuthStore;
  /**
   * This member's simple tokens (member-local; logins and user changes update them); undefined
   * while the member replays entries it applied in an earlier life.
   */
  readonly loginTokens: SimpleTokens | undefined;
  /** The index of the entry being applied. */
  readonly consistentIndex: number;
}

type Applied = Result<AppliedResponse, EtcdError>;

function wrap<K extends AppliedResponse["kind"], R>(
  kind: K,
  result: Result<R, EtcdError>,
): Applied {
  return result.ok ? ok({ kind, response: result.value } as AppliedResponse) : result;
}

/** Applies one request; an etcd error (lease not found, compacted, ...) leaves the state as it was. */
export function applyRequest(sm: StateMachine, req: InternalRequest): Applied {
  // etcd's auth applier runs first: a write whose proposer may not make it applies as an error.
  const denied = checkInternal(sm, req);
  if (denied !== undefined) return err(denied);
  // etcd's capped applier: with NOSPACE raised, nothing that can grow the store applies.
  if (sm.alarms.has("NOSPACE") && mayGrow(req)) return err(Errors.NoSpace);
  switch (req.kind) {
    case "put":
      return wrap(req.kind, sm.kv.put(req.put));
    case "delete-range":
      return wrap(req.kind, sm.kv.deleteRange(req.deleteRange));
    case "txn":
      return wrap(req.kind, sm.kv.txn(req.txn));
    case "compaction":
      return wrap(req.kind, sm.kv.compact(req.compaction));
    case "lease-grant":
      return applyLeaseGrant(sm, req.leaseGrant.ID ?? 0n, req.leaseGrant.TTL);
    case "lease-revoke":
      return applyLeaseRevoke(sm, req.leaseRevoke.ID);
    case "lease-checkpoint":
      sm.lessor.applyCheckpoint(req.leaseCheckpoint);
      return ok({ kind: req.kind });
    case "alarm": {
      const a = req.alarm;
      const changed = a.action === "ACTIVATE" ? sm.alarms.activate(a) : sm.alarms.deactivate(a);
      return ok({ kind: req.kind, changed });
    }
    case "auth": {
      const applied = applyAuthChange(sm.auth, sm.loginTokens, req, sm.consistentIndex);
      if (!applied.ok) return applied;
      return ok({ kind: req.kind, applied: applied.value, revision: sm.kv.currentRevision });
    }
    default:
      return unreachable(req, "internal request");
  }
}

/** Puts, txns that may put, and lease grants (etcd's applierV3Capped refuses exactly these). */
function mayGrow(req: InternalRequest): boolean {
  switch (req.kind) {
    case "put":
    case "lease-grant":
      return true;
    case "txn":
      return txnMayPut(req.txn);
    default:
      return false;
  }
}

function txnMayPut(txn: TxnRequest): boolean {
  const ops = [...(txn.success ?? []), ...(txn.failure ?? [])];
  return ops.some(
    (op) =>
      op.request === "request_put" || (op.request === "request_txn" && txnMayPut(op.request_txn)),
  );
}

function applyLeaseGrant(sm: StateMachine, id: bigint, ttlSeconds: number): Applied {
  // The proposer chose a non-zero id; an entry with id 0 can only come from a corrupt log.
  if (id === 0n) return err(Errors.LeaseNotFound);
  const granted = sm.lessor.applyGrant(id, ttlSeconds);
  if (!granted.ok) return granted;
  const response: LeaseGrantResponse = {
    header: header(sm.kv.currentRevision),
    ID: granted.value.id,
    TTL: granted.value.ttlSeconds,
    error: "",
  };
  return ok({ kind: "lease-grant", response });
}

/**
 * Removes the lease and deletes its keys in one kv write txn: one revision, so a watcher sees every
 * delete of the revoke at that revision and a reader sees all the keys or none.
 */
function applyLeaseRevoke(sm: StateMachine, id: bigint): Applied {
  const revoked = sm.lessor.applyRevoke(id);
  if (!revoked.ok) return revoked;
  const keys = revoked.value.keys;
  if (keys.length > 0) {
    sm.kv.write((txn) => {
      for (const key of keys) txn.deleteRange(key, emptyBytes);
    });
  }
  return ok({ kind: "lease-revoke", response: { header: header(sm.kv.currentRevision) } });
}
