// Recording client operations for the linearizability checker: each call becomes an operation as
// the etcd model sees it (src/porcupine/models/etcd-types.ts; keys and values as latin1 text). The
// traffic that issues the calls is in kv-traffic.ts.
//
// Recording rules: an answered operation gets its return time and output; a timeout, or an error
// that may come after the request reached Raft (Timeout, LeaderChanged, Stopped), leaves the
// outcome unknown for writes; reads with no answer are dropped (they changed nothing); requests
// refused before Raft or dropped by it (NoLeader, TooManyRequests, ProposalDropped) are dropped too: they certainly had no effect.
import { unreachable } from "../../src/lib/assert.js";
import { bytesToLatin1 } from "../../src/lib/bytes.js";
import type { EtcdError } from "../../src/api/errors.js";
import type { AuthRequest } from "../../src/api/auth.js";
import type { KeyValue as ApiKeyValue } from "../../src/api/kv.js";
import type * as Api from "../../src/api/rpc.js";
import type * as Model from "../../src/porcupine/models/etcd-types.js";
import type { Operation } from "../../src/porcupine/types.js";
import type { ClientRequest, ClientResponse } from "./kv-cluster.js";
import type { Outcome } from "./kv-client.js";

export type EtcdOperation = Operation<Model.EtcdInput, Model.EtcdOutput>;

export interface KvWorkloadOptions {
  readonly keyPrefix: string;
  readonly keys: number;
  readonly thinkMs: number;
  /** TTL of granted leases; long enough not to expire unless expiry is being exercised. */
  readonly leaseTtlS: number;
  /** Stop issuing operations after this virtual time. */
  readonly endMs: number;
}

const DEFINITE_ERRORS: Readonly<Record<string, Model.EtcdErrorCode>> = {
  Compacted: "compacted",
  FutureRev: "future-revision",
  LeaseNotFound: "lease-not-found",
  LeaseExist: "lease-exists",
  DuplicateKey: "duplicate-key",
  // Auth refuses a request before it changes anything (reads where served, writes as they apply).
  PermissionDenied: "permission-denied",
  UserEmpty: "user-empty",
  AuthOldRevision: "auth-old-revision",
};

/** The role whose WRITE the auth traffic gives and takes (see kv-auth.ts). */
export const AUTH_WRITER_ROLE = "writer";

/** An auth change the model follows (enable, disable, the writer's WRITE); others are setup. */
function authInput(a: AuthRequest): Model.AuthRequest | undefined {
  switch (a.op) {
    case "auth-enable":
      return { type: "auth", change: "enable" };
    case "auth-disable":
      return { type: "auth", change: "disable" };
    case "role-grant-permission":
      if (a.name !== AUTH_WRITER_ROLE || a.perm === undefined) return undefined;
      return { type: "auth", change: a.perm.permType === "READ" ? "revoke-write" : "grant-write" };
    default:
      return undefined;
  }
}
// A member with the CORRUPT alarm refuses before Raft too.
const NOT_APPLIED = new Set(["NoLeader", "TooManyRequests", "ProposalDropped", "Corrupt"]);

const t = bytesToLatin1;

function modelKv(kv: ApiKeyValue): Model.KeyValue {
  return {
    key: t(kv.key),
    value: t(kv.value),
    create_revision: kv.create_revision,
    mod_revision: kv.mod_revision,
    version: kv.version,
    lease: Number(kv.lease),
  };
}

function end(rangeEnd: Uint8Array | undefined): { range_end?: string } {
  return rangeEnd === undefined || rangeEnd.length === 0 ? {} : { range_end: t(rangeEnd) };
}

function modelOp(op: Api.RequestOp): Model.RequestOp {
  switch (op.request) {
    case "request_range":
      return { type: "range", key: t(op.request_range.key), ...end(op.request_range.range_end) };
    case "request_put": {
      const p = op.request_put;
      return {
        type: "put",
        key: t(p.key),
        value: t(p.value ?? new Uint8Array(0)),
        lease: Number(p.lease ?? 0n),
      };
    }
    case "request_delete_range":
      return {
        type: "delete-range",
        key: t(op.request_delete_range.key),
        ...end(op.request_delete_range.range_end),
      };
    case "request_txn":
      throw new Error("nested txns are not generated");
    default:
      return unreachable(op, "request op");
  }
}

function modelCompare(c: Api.Compare): Model.Compare {
  const base = {
    key: t(c.key),
    result: c.result.toLowerCase() as Model.CompareResult,
    ...end(c.range_end),
  };
  switch (c.target) {
    case "VERSION":
      return { ...base, target: "version", version: c.version ?? 0 };
    case "CREATE":
      return { ...base, target: "create", create_revision: c.create_revision ?? 0 };
    case "MOD":
      return { ...base, target: "mod", mod_revision: c.mod_revision ?? 0 };
    case "VALUE":
      return { ...base, target: "value", value: t(c.value ?? new Uint8Array(0)) };
    case "LEASE":
      return { ...base, target: "lease", lease: Number(c.lease ?? 0n) };
    default:
      return unreachable(c, "compare");
  }
}

/** The model input of a recorded request, or undefined for requests the model does not cover. */
export function modelInput(r: ClientRequest): Model.EtcdInput | undefined {
  switch (r.kind) {
    case "range":
      return {
        type: "range",
        key: t(r.request.key),
        ...end(r.request.range_end),
        ...(r.request.revision !== undefined && r.request.revision > 0
          ? { revision: r.request.revision }
          : {}),
        limit: r.request.limit ?? 0,
      };
    case "put":
    case "delete-range":
      return modelOp(
        r.kind === "put"
          ? { request: "request_put", request_put: r.request }
          : { request: "request_delete_range", request_delete_range: r.request },
      );
    case "txn":
      return {
        type: "txn",
        compare: (r.request.compare ?? []).map(modelCompare),
        success: (r.request.success ?? []).map(modelOp),
        failure: (r.request.failure ?? []).map(modelOp),
      };
    case "lease-grant":
      return { type: "lease-grant", id: Number(r.request.ID ?? 0n), ttl: r.request.TTL };
    case "lease-revoke":
      return { type: "lease-revoke", id: Number(r.request.ID) };
    case "compaction":
      return { type: "compaction", revision: r.request.revision };
    case "lease-keepalive":
    case "lease-timetolive":
    case "lease-leases":
    case "hash-kv":
    case "member-add":
    case "member-remove":
    case "member-promote":
    case "member-list":
      return undefined;
    case "auth":
      return authInput(r.request);
    default:
      return unreachable(r, "client request");
  }
}

function modelResponseOp(r: Api.ResponseOp): Model.ResponseOp {
  switch (r.response) {
    case "response_range": {
      const x = r.response_range;
      return { type: "range", kvs: x.kvs.map(modelKv), count: x.count, more: x.more };
    }
    case "response_put":
      return {
        type: "put",
        ...(r.response_put.prev_kv ? { prev_kv: modelKv(r.response_put.prev_kv) } : {}),
      };
    case "response_delete_range":
      return { type: "delete-range", deleted: r.response_delete_range.deleted };
    case "response_txn":
      throw new Error("nested txns are not generated");
    default:
      return unreachable(r, "response op");
  }
}

/** The model output of an answer. */
export function modelOutput(r: ClientResponse): Model.EtcdOutput | undefined {
  const header = { revision: r.response.header.revision };
  switch (r.kind) {
    case "range":
      return {
        type: "range",
        header,
        kvs: r.response.kvs.map(modelKv),
        count: r.response.count,
        more: r.response.more,
      };
    case "put":
      return {
        type: "put",
        header,
        ...(r.response.prev_kv ? { prev_kv: modelKv(r.response.prev_kv) } : {}),
      };
    case "delete-range":
      return { type: "delete-range", header, deleted: r.response.deleted };
    case "txn":
      return {
        type: "txn",
        header,
        succeeded: r.response.succeeded,
        responses: r.response.responses.map(modelResponseOp),
      };
    case "lease-grant":
      return { type: "lease-grant", header, id: Number(r.response.ID), ttl: r.response.TTL };
    case "lease-revoke":
      return { type: "lease-revoke", header };
    case "compaction":
      return { type: "compaction", header };
    case "lease-keepalive":
    case "lease-timetolive":
    case "lease-leases":
    case "hash-kv":
    case "member-add":
    case "member-remove":
    case "member-promote":
    case "member-list":
      return undefined;
    case "auth":
      return { type: "auth", header };
    default:
      return unreachable(r, "client response");
  }
}

function isRead(r: ClientRequest): boolean {
  return (
    r.kind === "range" ||
    (r.kind === "txn" &&
      (r.request.success ?? []).every((op) => op.request === "request_range") &&
      (r.request.failure ?? []).every((op) => op.request === "request_range"))
  );
}

/**
 * Turns one finished call into a history operation, or undefined if it belongs to no history.
 * `as`: who the client is, in a run with auth traffic.
 */
export function recordOperation(
  clientId: number,
  request: ClientRequest,
  callMs: number,
  returnMs: number,
  outcome: Outcome,
  as?: Model.AuthUser,
): EtcdOperation | undefined {
  const modelled = modelInput(request);
  if (modelled === undefined) return undefined;
  const input =
    as === undefined || modelled.type === "auth"
      ? modelled
      : ({ ...modelled, as } as typeof modelled);
  const unknown: EtcdOperation = { clientId, call: callMs, input };
  switch (outcome.type) {
    case "ok": {
      const output = modelOutput(outcome.response);
      return output === undefined
        ? undefined
        : { clientId, call: callMs, return: returnMs, input, output };
    }
    case "error":
      return recordError(unknown, request, returnMs, outcome.error);
    case "timeout":
      return isRead(request) ? undefined : unknown;
    default:
      return unreachable(outcome, "outcome");
  }
}

function recordError(
  unknown: EtcdOperation,
  request: ClientRequest,
  returnMs: number,
  error: EtcdError,
): EtcdOperation | undefined {
  const code = DEFINITE_ERRORS[error.name];
  if (code !== undefined)
    return { ...unknown, return: returnMs, output: { type: "error", error: code } };
  if (NOT_APPLIED.has(error.name) || isRead(request)) return undefined;
  return unknown;
}

/** One JSON Lines history, as src/porcupine/parse/history-json.ts reads it. */
export function historyJsonLines(ops: readonly EtcdOperation[]): string {
  return ops.map((op) => JSON.stringify(op)).join("\n") + "\n";
}
