// The KV + lease workload: each client issues one operation at a time (get, prefix range, put, put
// with a lease, delete, txn, lease grant / revoke / keepalive) against a random member, with every
// written value unique, and records each operation as the etcd model of the linearizability
// checker sees it (src/porcupine/models/etcd-types.ts; keys and values as latin1 text).
//
// Recording rules: an answered operation gets its return time and output; a timeout, or an error
// that may come after the request reached Raft (Timeout, LeaderChanged, Stopped), leaves the
// outcome unknown for writes; reads with no answer are dropped (they changed nothing); requests
// refused before Raft or dropped by it (NoLeader, TooManyRequests, ProposalDropped) are dropped too: they certainly had no effect.
import { unreachable } from "../../src/lib/assert.js";
import { bytesToLatin1, latin1ToBytes, prefixEnd } from "../../src/lib/bytes.js";
import type { Prng } from "../../src/lib/prng.js";
import type { EtcdError } from "../../src/api/errors.js";
import type { KeyValue as ApiKeyValue } from "../../src/api/kv.js";
import type * as Api from "../../src/api/rpc.js";
import type * as Model from "../../src/porcupine/models/etcd-types.js";
import type { Operation } from "../../src/porcupine/types.js";
import type { World } from "../world.js";
import type { ClientRequest, ClientResponse } from "./kv-cluster.js";
import type { Outcome, SimClient } from "./kv-client.js";

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
};
const NOT_APPLIED = new Set(["NoLeader", "TooManyRequests", "ProposalDropped"]);

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
      return undefined;
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
      return undefined;
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

/** Turns one finished call into a history operation, or undefined if it belongs to no history. */
export function recordOperation(
  clientId: number,
  request: ClientRequest,
  callMs: number,
  returnMs: number,
  outcome: Outcome,
): EtcdOperation | undefined {
  const input = modelInput(request);
  if (input === undefined) return undefined;
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

/** The clients' loop: pick an operation, send it to a random member, record, think, repeat. */
export class KvWorkload {
  readonly history: EtcdOperation[] = [];
  /** Lease ids whose grant was answered ok. */
  readonly grantedLeases: bigint[] = [];
  issued = 0;
  private nextValue = 0;
  private readonly ownLeases = new Map<number, bigint[]>();

  constructor(
    private readonly world: World,
    private readonly clients: readonly SimClient[],
    private readonly members: readonly string[],
    private readonly random: Prng,
    private readonly o: KvWorkloadOptions,
  ) {}

  start(): void {
    this.clients.forEach((c, i) => this.next(c, i));
  }

  private next(client: SimClient, clientId: number): void {
    const delay = this.random.int(0, this.o.thinkMs);
    this.world.schedule(delay, client.name, "workload", clientId, () => {
      if (this.world.nowMs >= this.o.endMs) return;
      const request = this.pick(clientId);
      const callMs = this.world.nowMs;
      this.issued++;
      client.call(this.random.pick(this.members), request, (outcome) => {
        this.observe(clientId, request, outcome);
        const op = recordOperation(clientId, request, callMs, this.world.nowMs, outcome);
        if (op !== undefined) this.history.push(op);
        this.next(client, clientId);
      });
    });
  }

  private observe(clientId: number, request: ClientRequest, outcome: Outcome): void {
    if (
      request.kind === "lease-grant" &&
      outcome.type === "ok" &&
      outcome.response.kind === "lease-grant"
    ) {
      this.grantedLeases.push(outcome.response.response.ID);
    }
    if (
      request.kind === "lease-revoke" ||
      (request.kind === "lease-keepalive" && outcome.type === "error")
    ) {
      const own = this.ownLeases.get(clientId) ?? [];
      this.ownLeases.set(
        clientId,
        own.filter((id) => id !== request.request.ID),
      );
    }
  }

  private key(): Uint8Array {
    return latin1ToBytes(`${this.o.keyPrefix}${this.random.int(0, this.o.keys - 1)}`);
  }

  private value(clientId: number): Uint8Array {
    return latin1ToBytes(`c${clientId}-${this.nextValue++}`);
  }

  private pick(clientId: number): ClientRequest {
    const own = this.ownLeases.get(clientId) ?? [];
    const roll = this.random.int(0, 99);
    if (roll < 20) return { kind: "range", request: { key: this.key() } };
    if (roll < 28) {
      const prefix = latin1ToBytes(this.o.keyPrefix);
      return { kind: "range", request: { key: prefix, range_end: prefixEnd(prefix) } };
    }
    if (roll < 50)
      return { kind: "put", request: { key: this.key(), value: this.value(clientId) } };
    if (roll < 58 && own.length > 0) {
      return {
        kind: "put",
        request: { key: this.key(), value: this.value(clientId), lease: this.random.pick(own) },
      };
    }
    if (roll < 66) return { kind: "delete-range", request: { key: this.key() } };
    if (roll < 82) return this.txn(clientId);
    if (roll < 87) return this.grant(clientId);
    if (roll < 91 && own.length > 0)
      return { kind: "lease-revoke", request: { ID: this.random.pick(own) } };
    if (own.length > 0) return { kind: "lease-keepalive", request: { ID: this.random.pick(own) } };
    return { kind: "put", request: { key: this.key(), value: this.value(clientId) } };
  }

  private txn(clientId: number): ClientRequest {
    const key = this.key();
    const other = this.key();
    return {
      kind: "txn",
      request: {
        compare: [{ key, result: "GREATER", target: "VERSION", version: this.random.int(0, 2) }],
        success: [{ request: "request_put", request_put: { key, value: this.value(clientId) } }],
        failure: [{ request: "request_range", request_range: { key: other } }],
      },
    };
  }

  private grant(clientId: number): ClientRequest {
    const ID = BigInt((clientId + 1) * 1_000_000 + this.nextValue++);
    const own = this.ownLeases.get(clientId) ?? [];
    own.push(ID);
    this.ownLeases.set(clientId, own);
    return { kind: "lease-grant", request: { ID, TTL: this.o.leaseTtlS } };
  }
}
