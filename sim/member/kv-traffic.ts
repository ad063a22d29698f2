// Client traffic for the KV cluster, in two profiles shaped after etcd's robustness traffic:
//
//   etcd-kv     get, prefix list, stale get at a past revision, put, delete, multi-op txn,
//               compare-and-set on mod_revision, put with a lease, lease grant / revoke / keepalive;
//   kubernetes  optimistic update (If mod_revision == x Then put Else get), create (If mod_revision
//               == 0), delete (If mod_revision == x), get, stale get, and lists paginated with a
//               limit at the revision of their first page.
//
// Both run a compactor: etcd-kv compacts at a random revision in [last compaction, current + 5]
// (so compacted and future-revision answers happen on purpose); kubernetes compacts, every
// interval, at the revision it saw one interval before (the apiserver's compactor).
//
// Clients are sequential (one request in flight), every written value is unique, requests time out
// on virtual time, and nothing is retried (the recorded clients are raw gRPC calls). After an
// unknown outcome a client continues under a new history identity: that operation never returns,
// so the checker must see the client's later operations as another client's.
import { unreachable } from "../../src/lib/assert.js";
import { bytesToLatin1, latin1ToBytes, prefixEnd } from "../../src/lib/bytes.js";
import type { Prng } from "../../src/lib/prng.js";
import type * as Api from "../../src/api/rpc.js";
import type { AuthUser } from "../../src/porcupine/models/etcd-types.js";
import type { OperationRecord } from "../run-artifacts.js";
import type { World } from "../world.js";
import type { ClientRequest, ClientResponse } from "./kv-cluster.js";
import type { Outcome, SimClient } from "./kv-client.js";
import { recordOperation, type EtcdOperation } from "./kv-workload.js";

export type KvProfile = "etcd-kv" | "kubernetes";

export interface KvTrafficOptions {
  readonly profile: KvProfile;
  readonly keyPrefix: string;
  readonly keys: number;
  /** Operations per second over all clients (each client waits about clients / rate between). */
  readonly ratePerS: number;
  /** TTL of granted leases; long, so that only revokes end them. */
  readonly leaseTtlS: number;
  readonly compactEveryMs: number;
  /** No operation starts at or after this virtual time. */
  readonly endMs: number;
  /** With auth traffic: who each client (by name) is, for the history. */
  readonly userOf?: (client: string) => AuthUser;
}

interface ClientState {
  readonly client: SimClient;
  /** The identity in the history; a new one after each unknown outcome. */
  historyId: number;
  /** The highest header revision this client has seen. */
  lastRevision: number;
  /** mod_revision of each key as this client last saw it (0: absent). */
  readonly mods: Map<string, number>;
  leases: bigint[];
  /** The next page of a paginated list, at the revision of its first page. */
  nextPage: { readonly key: Uint8Array; readonly revision: number } | undefined;
}

const PAGE_LIMIT = 10;

/** The traffic of all clients plus the compactor; `history` and `operations` grow as they run. */
export class KvTraffic {
  readonly history: EtcdOperation[] = [];
  readonly operations: OperationRecord[] = [];
  issued = 0;
  private nextHistoryId = 0;
  private nextValue = 0;
  private readonly states: ClientState[];
  private lastCompaction = 0;
  /** kubernetes compactor: the revision seen one interval ago. */
  private seenOneIntervalAgo = 0;

  constructor(
    private readonly world: World,
    clients: readonly SimClient[],
    private readonly compactor: SimClient,
    private readonly members: readonly string[],
    private readonly random: Prng,
    private readonly o: KvTrafficOptions,
  ) {
    this.states = clients.map((client) => ({
      client,
      historyId: this.nextHistoryId++,
      lastRevision: 1,
      mods: new Map(),
      leases: [],
      nextPage: undefined,
    }));
  }

  start(): void {
    for (const s of this.states) this.next(s);
    if (this.o.compactEveryMs > 0) this.scheduleCompaction();
  }

  private thinkMs(): number {
    if (this.o.ratePerS <= 0) return this.o.endMs;
    const meanMs = (this.states.length * 1000) / this.o.ratePerS;
    return this.random.int(0, Math.max(1, Math.round(2 * meanMs)));
  }

  private next(s: ClientState): void {
    this.world.schedule(this.thinkMs(), s.client.name, "traffic", s.historyId, () => {
      if (this.world.nowMs >= this.o.endMs) return;
      const request = this.o.profile === "etcd-kv" ? this.etcdOp(s) : this.kubernetesOp(s);
      this.issue(s, request, () => this.next(s));
    });
  }

  /** Sends one request to a random member and records it; `then` runs after the answer. */
  private issue(s: ClientState, request: ClientRequest, then: () => void): void {
    const callMs = this.world.nowMs;
    this.issued++;
    s.client.call(this.random.pick(this.members), request, (outcome) => {
      const returnMs = this.world.nowMs;
      const as = this.o.userOf?.(s.client.name);
      const op = recordOperation(s.historyId, request, callMs, returnMs, outcome, as);
      if (op !== undefined) this.history.push(op);
      this.operations.push(operationRecord(s.client.name, request, callMs, returnMs, outcome));
      if (op !== undefined && op.return === undefined) s.historyId = this.nextHistoryId++;
      this.observe(s, request, outcome);
      then();
    });
  }

  /** Learns revisions, mod_revisions, leases and list continuations from an answer. */
  private observe(s: ClientState, request: ClientRequest, outcome: Outcome): void {
    if (request.kind === "range") s.nextPage = undefined;
    if (outcome.type !== "ok") {
      if (request.kind === "lease-revoke" || request.kind === "lease-keepalive") {
        s.leases = s.leases.filter((id) => id !== request.request.ID);
      }
      return;
    }
    const r = outcome.response;
    s.lastRevision = Math.max(s.lastRevision, r.response.header.revision);
    this.seenRevision(r.response.header.revision);
    learnMods(s, request, r);
    if (r.kind === "lease-grant") s.leases.push(r.response.ID);
    if (request.kind === "lease-revoke")
      s.leases = s.leases.filter((id) => id !== request.request.ID);
    if (request.kind === "range" && r.kind === "range" && r.response.more) {
      const last = r.response.kvs[r.response.kvs.length - 1];
      const revision = request.request.revision ?? r.response.header.revision;
      if (last !== undefined) {
        s.nextPage = { key: latin1ToBytes(`${bytesToLatin1(last.key)}\0`), revision };
      }
    }
  }

  private currentRevision = 1;
  private seenRevision(revision: number): void {
    this.currentRevision = Math.max(this.currentRevision, revision);
  }

  /**
   * One recorded call from outside the traffic (the liveness probe): it gets its own history
   * identity, so it may overlap the clients' operations.
   */
  callRecorded(
    client: SimClient,
    member: string,
    request: ClientRequest,
    done: (outcome: Outcome) => void,
  ): void {
    const historyId = this.nextHistoryId++;
    const callMs = this.world.nowMs;
    client.call(member, request, (outcome) => {
      const returnMs = this.world.nowMs;
      const as = this.o.userOf?.(client.name);
      const op = recordOperation(historyId, request, callMs, returnMs, outcome, as);
      if (op !== undefined) this.history.push(op);
      this.operations.push(operationRecord(client.name, request, callMs, returnMs, outcome));
      done(outcome);
    });
  }

  // ---- etcd-kv ----------------------------------------------------------------------------------

  private etcdOp(s: ClientState): ClientRequest {
    const roll = this.random.int(0, 99);
    const key = this.key();
    if (roll < 15) return { kind: "range", request: { key } };
    if (roll < 23) {
      const back = this.random.int(0, 10);
      const revision = Math.max(1, s.lastRevision - back);
      return { kind: "range", request: { key, revision } };
    }
    if (roll < 31) return { kind: "range", request: this.prefixRange() };
    if (roll < 33)
      return { kind: "range", request: { ...this.prefixRange(), revision: s.lastRevision } };
    if (roll < 53) return { kind: "put", request: { key, value: this.value(s) } };
    if (roll < 58) return { kind: "delete-range", request: { key } };
    if (roll < 68) return this.multiOpTxn(s);
    if (roll < 78) return this.compareAndSet(s, key);
    if (roll < 84 && s.leases.length > 0) {
      return {
        kind: "put",
        request: { key, value: this.value(s), lease: this.random.pick(s.leases) },
      };
    }
    if (roll < 88 || s.leases.length === 0) return this.grant(s);
    if (roll < 93) return { kind: "lease-revoke", request: { ID: this.random.pick(s.leases) } };
    return { kind: "lease-keepalive", request: { ID: this.random.pick(s.leases) } };
  }

  /** Four operations on distinct keys: half puts, 40% ranges, 10% deletes. */
  private multiOpTxn(s: ClientState): ClientRequest {
    const keys = this.random.shuffle(this.allKeys()).slice(0, 4);
    const ops: Api.RequestOp[] = keys.map((k) => {
      const key = latin1ToBytes(k);
      const roll = this.random.int(0, 9);
      if (roll < 5) return { request: "request_put", request_put: { key, value: this.value(s) } };
      if (roll < 9) return { request: "request_range", request_range: { key } };
      return { request: "request_delete_range", request_delete_range: { key } };
    });
    const first = latin1ToBytes(keys[0] as string);
    const version = this.random.int(0, 2);
    return {
      kind: "txn",
      request: {
        compare: [{ key: first, result: "GREATER", target: "VERSION", version }],
        success: ops,
        failure: [{ request: "request_range", request_range: { key: first } }],
      },
    };
  }

  /** If mod_revision == what this client last saw Then put Else get. */
  private compareAndSet(s: ClientState, key: Uint8Array): ClientRequest {
    const mod_revision = s.mods.get(bytesToLatin1(key)) ?? 0;
    return {
      kind: "txn",
      request: {
        compare: [{ key, result: "EQUAL", target: "MOD", mod_revision }],
        success: [{ request: "request_put", request_put: { key, value: this.value(s) } }],
        failure: [{ request: "request_range", request_range: { key } }],
      },
    };
  }

  private grant(s: ClientState): ClientRequest {
    const ID = BigInt((s.historyId + 1) * 1_000_000 + this.nextValue++);
    return { kind: "lease-grant", request: { ID, TTL: this.o.leaseTtlS } };
  }

  // ---- kubernetes -------------------------------------------------------------------------------

  private kubernetesOp(s: ClientState): ClientRequest {
    const page = s.nextPage;
    if (page !== undefined) {
      return {
        kind: "range",
        request: {
          ...this.prefixRange(),
          key: page.key,
          revision: page.revision,
          limit: PAGE_LIMIT,
        },
      };
    }
    const roll = this.random.int(0, 99);
    const key = this.key();
    const known = s.mods.get(bytesToLatin1(key));
    if (roll < 40) return { kind: "range", request: { ...this.prefixRange(), limit: PAGE_LIMIT } };
    if (roll < 48 || known === undefined) return { kind: "range", request: { key } };
    if (roll < 52) {
      const revision = Math.max(1, s.lastRevision - this.random.int(0, 10));
      return { kind: "range", request: { key, revision } };
    }
    if (roll < 55) return this.optimistic(key, 0, this.putOp(s, key));
    if (roll < 58) {
      return this.optimistic(key, known, {
        request: "request_delete_range",
        request_delete_range: { key },
      });
    }
    return this.optimistic(key, known, this.putOp(s, key));
  }

  private putOp(s: ClientState, key: Uint8Array): Api.RequestOp {
    return { request: "request_put", request_put: { key, value: this.value(s) } };
  }

  /** If mod_revision == expected Then `op` Else get (create when expected is 0). */
  private optimistic(key: Uint8Array, mod_revision: number, op: Api.RequestOp): ClientRequest {
    return {
      kind: "txn",
      request: {
        compare: [{ key, result: "EQUAL", target: "MOD", mod_revision }],
        success: [op],
        failure: [{ request: "request_range", request_range: { key } }],
      },
    };
  }

  // ---- compaction -------------------------------------------------------------------------------

  private scheduleCompaction(): void {
    this.world.schedule(this.o.compactEveryMs, this.compactor.name, "compact", 0, () => {
      if (this.world.nowMs >= this.o.endMs) return;
      const revision = this.compactionRevision();
      this.seenOneIntervalAgo = this.currentRevision;
      if (revision === undefined) return this.scheduleCompaction();
      const request: ClientRequest = { kind: "compaction", request: { revision } };
      const state: ClientState = {
        client: this.compactor,
        historyId: this.nextHistoryId++,
        lastRevision: 1,
        mods: new Map(),
        leases: [],
        nextPage: undefined,
      };
      this.issue(state, request, () => {
        this.lastCompaction = Math.max(this.lastCompaction, revision);
        this.scheduleCompaction();
      });
    });
  }

  private compactionRevision(): number | undefined {
    if (this.o.profile === "kubernetes") {
      const at = this.seenOneIntervalAgo;
      return at > this.lastCompaction ? at : undefined;
    }
    const low = Math.max(1, this.lastCompaction);
    return this.random.int(low, this.currentRevision + 5);
  }

  // ---- helpers ----------------------------------------------------------------------------------

  private allKeys(): string[] {
    return Array.from({ length: this.o.keys }, (_, i) => `${this.o.keyPrefix}${i}`);
  }

  private key(): Uint8Array {
    return latin1ToBytes(`${this.o.keyPrefix}${this.random.int(0, this.o.keys - 1)}`);
  }

  private prefixRange(): Api.RangeRequest {
    const prefix = latin1ToBytes(this.o.keyPrefix);
    return { key: prefix, range_end: prefixEnd(prefix) };
  }

  private value(s: ClientState): Uint8Array {
    return latin1ToBytes(`c${s.historyId}-${this.nextValue++}`);
  }
}

/** What a client's answer says about each key's mod_revision. */
function learnMods(s: ClientState, request: ClientRequest, r: ClientResponse): void {
  const kvsOf = (resp: Api.RangeResponse) => {
    for (const kv of resp.kvs) s.mods.set(bytesToLatin1(kv.key), kv.mod_revision);
  };
  switch (r.kind) {
    case "range":
      if (request.kind === "range" && (request.request.revision ?? 0) === 0) {
        if (request.request.range_end === undefined && r.response.kvs.length === 0) {
          s.mods.set(bytesToLatin1(request.request.key), 0);
        }
        kvsOf(r.response);
      }
      return;
    case "put":
      if (request.kind === "put") {
        s.mods.set(bytesToLatin1(request.request.key), r.response.header.revision);
      }
      return;
    case "txn":
      for (const op of r.response.responses) {
        if (op.response === "response_range") kvsOf(op.response_range);
      }
      if (request.kind === "txn" && r.response.succeeded) learnWrites(s, request.request, r);
      return;
    case "delete-range":
    case "compaction":
    case "lease-grant":
    case "lease-revoke":
    case "lease-keepalive":
    case "lease-timetolive":
    case "lease-leases":
    case "hash-kv":
    case "member-add":
    case "member-remove":
    case "member-promote":
    case "member-list":
    case "auth":
      return;
    default:
      return unreachable(r, "client response");
  }
}

/** A succeeded txn's puts now have its revision; its deletes left the keys absent. */
function learnWrites(s: ClientState, txn: Api.TxnRequest, r: ClientResponse): void {
  const revision = r.response.header.revision;
  for (const op of txn.success ?? []) {
    if (op.request === "request_put") s.mods.set(bytesToLatin1(op.request_put.key), revision);
    if (op.request === "request_delete_range") {
      s.mods.set(bytesToLatin1(op.request_delete_range.key), 0);
    }
  }
}

/** The report's view of one call. */
export function operationRecord(
  client: string,
  request: ClientRequest,
  callMs: number,
  returnMs: number,
  outcome: Outcome,
): OperationRecord {
  switch (outcome.type) {
    case "ok":
      return { client, kind: request.kind, callMs, returnMs, result: "ok" };
    case "error":
      return { client, kind: request.kind, callMs, returnMs, result: outcome.error.name };
    case "timeout":
      return { client, kind: request.kind, callMs, returnMs: undefined, result: "unknown" };
    default:
      return unreachable(outcome, "outcome");
  }
}
