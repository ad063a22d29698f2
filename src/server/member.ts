// The etcd member: client requests in, Raft proposals and reads through the Ready loop, committed
// entries applied to the kv store and the lessor, replies out through callbacks.
//
// Everything is synchronous and driven from outside: client methods, receive() for peer messages,
// and the member's own timers (Raft tick, watch sync, lease expiry). Each of those ends by pumping:
// the Ready loop runs (persist, send, apply, advance) until Raft has nothing more, then the queued
// replies run. Replies never run inside the Ready loop, so a reply callback may call the member.
//
// Writes: validated as etcd's gRPC layer does, encoded with a cluster-unique request id, proposed,
// and answered when this member applies the entry (or after requestTimeoutMs with Timeout; the
// write may still commit later). Linearizable reads: ReadIndex, then read once applied >= index.
// Serializable reads: local, at once. Lease keepalive and timetolive: the leader's lessor answers,
// once it has applied its backlog; a follower forwards them to the leader over the peer transport
// and tries again at the new leader when leadership moves.
//
// Persistence: the Raft log lives in the MemoryStorage given to the constructor, which outlives a
// crash; a member built on an existing storage rebuilds its state machine by re-applying every
// committed entry. consistentIndex (the last applied index) makes apply idempotent: an entry at or
// below it is skipped.

import { assert, unreachable } from "../lib/assert.js";
import { err, ok, type Result } from "../lib/result.js";
import { Errors, type EtcdError } from "../api/errors.js";
import type { LeaseId } from "../api/kv.js";
import {
  checkDeleteRangeRequest,
  checkPutRequest,
  checkRangeRequest,
  checkTxnRequest,
} from "../api/validate.js";
import type {
  CompactionRequest,
  CompactionResponse,
  DeleteRangeRequest,
  DeleteRangeResponse,
  HashKVRequest,
  HashKVResponse,
  LeaseGrantRequest,
  LeaseGrantResponse,
  LeaseKeepAliveRequest,
  LeaseKeepAliveResponse,
  LeaseLeasesRequest,
  LeaseLeasesResponse,
  LeaseRevokeRequest,
  LeaseRevokeResponse,
  LeaseTimeToLiveRequest,
  LeaseTimeToLiveResponse,
  PutRequest,
  PutResponse,
  RangeRequest,
  RangeResponse,
  ResponseHeader,
  TxnRequest,
  TxnResponse,
  WatchRequest,
  WatchResponse,
} from "../api/rpc.js";
import type { MemberEnv } from "../env/index.js";
import type { TimerId, Timers } from "../env/timers.js";
import { Lessor, MAX_LEASE_TTL_SECONDS } from "../lease/index.js";
import { KvStore } from "../mvcc/kv-store.js";
import { MemoryStorage, RawNode } from "../raft/index.js";
import type {
  ConfState,
  Entry,
  HardState,
  Message,
  NodeId,
  Ready,
  StateType,
} from "../raft/types.js";
import { WatchableStore, type WatchStream } from "../watch/watchable-store.js";
import { applyRequest, type AppliedResponse } from "./apply.js";
import { ApplyWait } from "./apply-wait.js";
import { memberConfig, type MemberConfig } from "./config.js";
import {
  decodeInternalRequest,
  encodeInternalRequest,
  type InternalRequest,
} from "./internal-request.js";
import { LeaseRequests } from "./lease-requests.js";
import type { ForwardedRequest, ForwardedResponse, MemberMessage } from "./messages.js";
import { ReadIndexQueue } from "./read-index.js";
import { RequestIds, WaitRegistry } from "./wait-registry.js";

/** A reply callback: called exactly once per request (see Member). */
export type Done<T> = (result: Result<T, EtcdError>) => void;

/**
 * Observes the Raft side of the Ready loop (the simulator's safety checker). Each hook runs inside
 * the loop, synchronously, and must not call the member.
 */
export interface RaftObserver {
  /** Entries about to be persisted; prevTerm is the term of the entry before the first. */
  onAppend(entries: readonly Entry[], prevTerm: number): void;
  /** A hard state about to be persisted; entryAt reads the persisted log. */
  onHardState(hardState: HardState, entryAt: (index: number) => Entry | undefined): void;
  /** The member became leader of `term`; termAt reads its persisted log. */
  onLeader(term: number, termAt: (index: number) => number | undefined): void;
  /** An entry applied (every committed entry, including empty ones), in index order. */
  onApply(entry: Entry): void;
}

export interface MemberOptions {
  /** This member's Raft id, in [1, 512). */
  readonly id: NodeId;
  /** Every voter's id, this member included (used only when `storage` is fresh). */
  readonly peers: readonly NodeId[];
  /**
   * Clock, timers and randomness. A restarted member must get a Random it has not drawn from in
   * an earlier life: request ids and read contexts take an epoch from it and must not repeat.
   */
  readonly env: MemberEnv;
  /**
   * Sends a peer message. Contract: best effort, never delivers synchronously; the member never
   * mutates a message after sending it.
   */
  readonly send: (to: NodeId, message: MemberMessage) => void;
  readonly config?: Partial<MemberConfig>;
  /** The persisted Raft log; pass the same one to a restarted member. Fresh if absent. */
  readonly storage?: MemoryStorage;
  readonly observer?: RaftObserver;
}

/** A short summary of a member (etcd's Maintenance.Status, reduced). */
export interface MemberStatus {
  readonly id: NodeId;
  readonly leader: NodeId;
  readonly role: StateType;
  readonly raftTerm: number;
  readonly raftIndex: number;
  readonly commitIndex: number;
  readonly appliedIndex: number;
  readonly revision: number;
  readonly stopped: boolean;
}

/**
 * One client watch stream on this member. Responses go to `onResponses` in order, after the
 * member's Ready loop (never from inside request()).
 */
export interface MemberWatch {
  request(req: WatchRequest): void;
  close(): void;
}

interface OpenWatch {
  readonly stream: WatchStream;
  readonly onResponses: (responses: WatchResponse[]) => void;
}

const EMPTY_CONF_STATE: Omit<ConfState, "voters"> = {
  learners: [],
  votersOutgoing: [],
  learnersNext: [],
  autoLeave: false,
};

/**
 * How many applied request ids a member remembers to skip duplicated entries: copies of one
 * proposal that commit further apart than this would both apply. A pure function of the log, so
 * every member (and a restarted one) skips the same entries.
 */
const APPLIED_IDS_REMEMBERED = 65_536;

/** A set of the most recent `capacity` ids, oldest forgotten first. */
class RecentIds {
  private readonly ids = new Set<number>();
  private readonly order: number[] = [];
  private head = 0;

  constructor(private readonly capacity: number) {}

  /** Adds `id`; false if it is already there. */
  add(id: number): boolean {
    if (this.ids.has(id)) return false;
    this.ids.add(id);
    if (this.order.length < this.capacity) {
      this.order.push(id);
      return true;
    }
    this.ids.delete(this.order[this.head] as number);
    this.order[this.head] = id;
    this.head = (this.head + 1) % this.capacity;
    return true;
  }
}

/** A stable 64-bit id for the cluster, from its initial voters (etcd hashes the member list). */
function clusterIdOf(peers: readonly NodeId[]): bigint {
  let h = 0xcbf29ce484222325n;
  for (const id of [...peers].sort((a, b) => a - b)) {
    h ^= BigInt(id);
    h = (h * 0x100000001b3n) & 0xffff_ffff_ffff_ffffn;
  }
  return h & 0x7fff_ffff_ffff_ffffn;
}

/**
 * An etcd member. Contract for every client method: `done` is called exactly once, never from
 * inside the Ready loop (possibly before the method returns). Errors are etcd's: NoLeader when the
 * member knows no leader, Stopped after stop(), Timeout when an answer did not come in time (a
 * write may still be applied later), LeaderChanged for a read interrupted by a leader change,
 * ProposalDropped when Raft refused a write although a leader exists (it was not applied),
 * TimeoutWaitAppliedIndex for a lease request the leader could not serve in time, RequestTooLarge
 * (reads and writes), TooManyOps and the request checks of src/api/validate.ts, and the store's
 * own errors from apply.
 */
export class Member {
  readonly id: NodeId;
  readonly config: MemberConfig;
  readonly kv: KvStore;
  readonly lessor: Lessor;
  readonly watchable: WatchableStore;
  readonly storage: MemoryStorage;
  private readonly clusterId: bigint;
  private readonly node: RawNode;
  private readonly requestIds: RequestIds;
  private readonly waits: WaitRegistry<AppliedResponse>;
  private readonly leaseRequests: LeaseRequests;
  private readonly applyWait: ApplyWait;
  private readonly reads: ReadIndexQueue;
  private readonly watches: OpenWatch[] = [];
  private readonly timers: TimerId[] = [];
  private replies: (() => void)[] = [];
  private pumping = false;
  private stopped = false;
  private role: StateType = "StateFollower";
  private lead: NodeId = 0;
  private applied = 0;
  /**
   * The index of the first entry of this member's current leadership (its empty entry). Once it
   * is applied, so is every entry committed before the election.
   */
  private leaderStartIndex = 0;
  private readonly appliedIds = new RecentIds(APPLIED_IDS_REMEMBERED);

  constructor(private readonly o: MemberOptions) {
    this.id = o.id;
    const config = memberConfig(o.config);
    this.config = config;
    assert(config.electionMs % config.heartbeatMs === 0, "electionMs must be whole heartbeats");
    assert(o.peers.includes(o.id), () => `member ${o.id} is not among its peers`);
    this.clusterId = clusterIdOf(o.peers);
    this.storage =
      o.storage ?? new MemoryStorage({ confState: { voters: [...o.peers], ...EMPTY_CONF_STATE } });
    this.lessor = new Lessor({
      clock: o.env.clock,
      electionTimeoutMs: config.electionMs,
      checkpointIntervalMs: config.leaseCheckpointIntervalMs,
    });
    this.kv = new KvStore({
      maxTxnOps: config.maxTxnOps,
      leaseExists: (id) => this.lessor.has(id),
    });
    this.kv.onCommit((txn) => this.lessor.applyKvEvents(txn.events));
    this.watchable = new WatchableStore(this.kv, {
      maxResponseBytes: config.maxRequestBytes,
      maxQueuedResponses: config.watchMaxQueuedResponses,
    });
    this.node = this.newNode();
    this.requestIds = new RequestIds(o.id, o.env.random);
    const defer = (callback: () => void) => this.replies.push(callback);
    // These timers answer callers, so the replies must run right after, not at the next tick.
    const timers = this.pumpingTimers();
    this.waits = new WaitRegistry(timers, defer);
    this.applyWait = new ApplyWait(timers, defer, () => this.applied);
    this.leaseRequests = new LeaseRequests({
      timers,
      nowMs: () => o.env.clock.now(),
      defer,
      leader: () => this.lead,
      isLeader: () => this.isLeader,
      answerHere: (request, done) => this.answerLeaseAsLeader(request, done),
      forward: (to, forwardId, request) =>
        this.o.send(to, { type: "forward-request", forwardId, request }),
      requestTimeoutMs: config.requestTimeoutMs,
      attemptTimeoutMs: config.electionMs,
      retryDelayMs: config.leaseForwardRetryMs,
      maxAttempts: config.leaseForwardMaxAttempts,
    });
    this.reads = new ReadIndexQueue({
      timers,
      random: o.env.random,
      requestReadIndex: (ctx) => this.node.readIndex(ctx),
      appliedIndex: () => this.applied,
      defer,
      timeoutMs: config.requestTimeoutMs,
      retryMs: config.readIndexRetryMs,
    });
    this.every(config.heartbeatMs, () => this.node.tick());
    this.every(config.watchSyncMs, () => this.watchable.sync());
    this.every(config.watchProgressNotifyMs, () => this.watchable.tickProgress());
    this.every(config.leaseTickMs, () => this.leaseTick());
    this.pump();
  }

  // ---- peers ------------------------------------------------------------------------------------

  /** A message from peer `from`. */
  receive(from: NodeId, message: MemberMessage): void {
    if (this.stopped) return;
    switch (message.type) {
      case "raft":
        this.node.step(message.message);
        break;
      case "forward-request":
        this.answerForwarded(from, message.forwardId, message.request);
        break;
      case "forward-response":
        this.leaseRequests.onResponse(message.forwardId, message.result);
        break;
      default:
        unreachable(message, "member message");
    }
    this.pump();
  }

  // ---- KV ---------------------------------------------------------------------------------------

  range(req: RangeRequest, done: Done<RangeResponse>): void {
    const checked = checkRangeRequest(req);
    if (!checked.ok) return this.reply(done, checked);
    if (rangeRequestBytes(req) > this.config.maxRequestBytes) {
      return this.reply(done, err(Errors.RequestTooLarge));
    }
    const serve = () => this.respond(done, this.kv.range(req));
    if (req.serializable === true) return this.local(done, serve);
    this.linearizable(done, serve);
  }

  put(req: PutRequest, done: Done<PutResponse>): void {
    const checked = checkPutRequest(req);
    if (!checked.ok) return this.reply(done, checked);
    this.propose(
      (id) => ({ kind: "put", id, put: req }),
      (a) => (a.kind === "put" ? a.response : undefined),
      done,
    );
  }

  deleteRange(req: DeleteRangeRequest, done: Done<DeleteRangeResponse>): void {
    const checked = checkDeleteRangeRequest(req);
    if (!checked.ok) return this.reply(done, checked);
    this.propose(
      (id) => ({ kind: "delete-range", id, deleteRange: req }),
      (a) => (a.kind === "delete-range" ? a.response : undefined),
      done,
    );
  }

  /** A txn; a read-only txn is served like a linearizable range (etcd does the same). */
  txn(req: TxnRequest, done: Done<TxnResponse>): void {
    const checked = checkTxnRequest(req, this.config.maxTxnOps);
    if (!checked.ok) return this.reply(done, checked);
    if (isReadOnlyTxn(req)) {
      // Not proposed, but etcd limits every request's size, reads included.
      const bytes = encodeInternalRequest({ kind: "txn", id: 0, txn: req }).length;
      if (bytes > this.config.maxRequestBytes) return this.reply(done, err(Errors.RequestTooLarge));
      return this.linearizable(done, () => this.readOnlyTxn(req, done));
    }
    this.propose(
      (id) => ({ kind: "txn", id, txn: req }),
      (a) => (a.kind === "txn" ? a.response : undefined),
      done,
    );
  }

  compact(req: CompactionRequest, done: Done<CompactionResponse>): void {
    this.propose(
      (id) => ({ kind: "compaction", id, compaction: req }),
      (a) => (a.kind === "compaction" ? a.response : undefined),
      done,
    );
  }

  /** HashKV of this member's store (local, no Raft), as etcd's Maintenance.HashKV. */
  hashKV(req: HashKVRequest, done: Done<HashKVResponse>): void {
    this.local(done, () => this.respond(done, this.kv.hashKV(req)));
  }

  // ---- Lease ------------------------------------------------------------------------------------

  /** ID 0 lets this member choose one (from its Random), so the entry is the same everywhere. */
  leaseGrant(req: LeaseGrantRequest, done: Done<LeaseGrantResponse>): void {
    if (req.TTL > MAX_LEASE_TTL_SECONDS) return this.reply(done, err(Errors.LeaseTTLTooLarge));
    const ID =
      req.ID === undefined || req.ID === 0n ? this.lessor.chooseId(this.o.env.random) : req.ID;
    const grant: LeaseGrantRequest = { TTL: req.TTL, ID };
    this.propose(
      (id) => ({ kind: "lease-grant", id, leaseGrant: grant }),
      (a) => (a.kind === "lease-grant" ? a.response : undefined),
      done,
    );
  }

  leaseRevoke(req: LeaseRevokeRequest, done: Done<LeaseRevokeResponse>): void {
    const revoke = { ID: req.ID };
    this.propose(
      (id) => ({ kind: "lease-revoke", id, leaseRevoke: revoke }),
      (a) => (a.kind === "lease-revoke" ? a.response : undefined),
      done,
    );
  }

  /** Renews on the leader; LeaseNotFound for a lease that is gone or already expired. */
  leaseKeepAlive(req: LeaseKeepAliveRequest, done: Done<LeaseKeepAliveResponse>): void {
    this.leaderOnly({ kind: "lease-keepalive", request: req }, (result) =>
      done(expectForwarded(result, (f) => (f.kind === "lease-keepalive" ? f.response : undefined))),
    );
  }

  /** Remaining TTL from the leader; TTL -1 for a lease that does not exist (as etcd answers). */
  leaseTimeToLive(req: LeaseTimeToLiveRequest, done: Done<LeaseTimeToLiveResponse>): void {
    this.leaderOnly({ kind: "lease-timetolive", request: req }, (result) =>
      done(
        expectForwarded(result, (f) => (f.kind === "lease-timetolive" ? f.response : undefined)),
      ),
    );
  }

  /** Every lease id, read linearizably from the replicated lease table. */
  leaseLeases(_req: LeaseLeasesRequest, done: Done<LeaseLeasesResponse>): void {
    this.linearizable(done, () => {
      const leases = this.lessor.leases().map((ID) => ({ ID }));
      this.reply(done, ok({ header: this.header(this.kv.currentRevision), leases }));
    });
  }

  // ---- Watch ------------------------------------------------------------------------------------

  /**
   * Opens a watch stream served from this member's store. Contract: `onResponses` gets every
   * response of the stream in order, after the Ready loop; it must not throw.
   */
  watch(onResponses: (responses: WatchResponse[]) => void): MemberWatch {
    assert(!this.stopped, "watch on a stopped member");
    const open: OpenWatch = {
      stream: this.watchable.openStream(),
      onResponses,
    };
    this.watches.push(open);
    return {
      request: (req) => {
        if (this.stopped) return;
        open.stream.request(req);
        this.pump();
      },
      close: () => {
        const i = this.watches.indexOf(open);
        if (i < 0) return;
        this.watches.splice(i, 1);
        open.stream.close();
      },
    };
  }

  // ---- state ------------------------------------------------------------------------------------

  status(): MemberStatus {
    const s = this.node.status();
    return {
      id: this.id,
      leader: this.lead,
      role: this.role,
      raftTerm: s.hardState.term,
      raftIndex: s.lastIndex,
      commitIndex: s.hardState.commit,
      appliedIndex: this.applied,
      revision: this.kv.currentRevision,
      stopped: this.stopped,
    };
  }

  /** The index of the last applied entry: entries at or below it are never applied again. */
  get consistentIndex(): number {
    return this.applied;
  }

  get isLeader(): boolean {
    return this.role === "StateLeader";
  }

  get leader(): NodeId {
    return this.lead;
  }

  /** Starts an election now (tests and operators). */
  campaign(): void {
    if (this.stopped) return;
    this.node.campaign();
    this.pump();
  }

  /** Asks the leader to hand leadership to `to` (etcd's MoveLeader, without waiting). */
  transferLeadership(to: NodeId): void {
    if (this.stopped) return;
    this.node.transferLeader(to);
    this.pump();
  }

  /** Stops the member: every waiting request fails with Stopped, timers stop, watches close. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    for (const t of this.timers) this.o.env.timers.cancel(t);
    this.waits.failAll(Errors.Stopped);
    this.leaseRequests.failAll(Errors.Stopped);
    this.applyWait.failAll(Errors.Stopped);
    this.reads.failAll(Errors.Stopped);
    for (const w of this.watches.splice(0)) w.stream.close();
    if (this.lessor.isPrimary) this.lessor.demote();
    this.runReplies();
  }

  // ---- request paths ----------------------------------------------------------------------------

  private propose<T extends { header: ResponseHeader }>(
    build: (id: number) => InternalRequest,
    pick: (applied: AppliedResponse) => T | undefined,
    done: Done<T>,
  ): void {
    const refused = this.refusal();
    if (refused !== undefined) return this.reply(done, err(refused));
    const id = this.requestIds.next();
    const data = encodeInternalRequest(build(id));
    if (data.length > this.config.maxRequestBytes) {
      return this.reply(done, err(Errors.RequestTooLarge));
    }
    this.waits.register(id, this.config.requestTimeoutMs, (result) =>
      this.respond(done, result.ok ? ok(expectApplied(result.value, pick)) : result),
    );
    if (this.node.propose(data) === "dropped") {
      // Raft will certainly not commit it: a leadership transfer or the uncommitted-size limit.
      // etcd hands raft's ErrProposalDropped to the client as is (no gRPC mapping covers it).
      this.waits.trigger(id, err(this.lead === 0 ? Errors.NoLeader : Errors.ProposalDropped));
    }
    this.pump();
  }

  /** Proposes without anyone waiting (lease expiry and checkpoints decided by the leader). */
  private proposeInternal(build: (id: number) => InternalRequest): void {
    this.node.propose(encodeInternalRequest(build(this.requestIds.next())));
  }

  private linearizable<T>(done: Done<T>, serve: () => void): void {
    const refused = this.refusal();
    if (refused !== undefined) return this.reply(done, err(refused));
    this.reads.read(serve, (error) => done(err(error)));
    this.pump();
  }

  private local<T>(done: Done<T>, serve: () => void): void {
    if (this.stopped) return this.reply(done, err(Errors.Stopped));
    serve();
    this.pump();
  }

  private refusal(): EtcdError | undefined {
    if (this.stopped) return Errors.Stopped;
    if (this.lead === 0) return Errors.NoLeader;
    return undefined;
  }

  private readOnlyTxn(req: TxnRequest, done: Done<TxnResponse>): void {
    // A read-only txn changes nothing, so running it as a write txn commits no revision.
    this.respond(done, this.kv.txn(req));
  }

  /**
   * Keepalive / timetolive: answered by the leader's lessor, forwarded there from a follower, and
   * tried again at the new leader when leadership moves (see LeaseRequests).
   */
  private leaderOnly(request: ForwardedRequest, done: Done<ForwardedResponse>): void {
    const refused = this.refusal();
    if (refused !== undefined) return this.reply(done, err(refused));
    this.leaseRequests.request(request, done);
    this.pump();
  }

  private answerForwarded(from: NodeId, forwardId: number, request: ForwardedRequest): void {
    const send = (result: Result<ForwardedResponse, EtcdError>) =>
      this.o.send(from, { type: "forward-response", forwardId, result });
    if (!this.isLeader) return send(err(Errors.NotLeader));
    this.answerLeaseAsLeader(request, send);
  }

  /**
   * The leader answers once it has applied everything committed before it became leader and up
   * to the commit index now (etcd's waitAppliedIndex): a revoke committed under the previous
   * leader but not yet applied here must not be answered by a renewal of the lease it removed.
   */
  private answerLeaseAsLeader(
    request: ForwardedRequest,
    done: (result: Result<ForwardedResponse, EtcdError>) => void,
  ): void {
    const index = Math.max(this.leaderStartIndex, this.node.status().hardState.commit);
    this.applyWait.wait(
      index,
      this.config.applyWaitTimeoutMs,
      Errors.TimeoutWaitAppliedIndex,
      () => done(this.isLeader ? this.answerLease(request) : err(Errors.NotLeader)),
      (error) => done(err(error)),
    );
  }

  private answerLease(request: ForwardedRequest): Result<ForwardedResponse, EtcdError> {
    switch (request.kind) {
      case "lease-keepalive":
        return this.keepAliveHere(request.request.ID);
      case "lease-timetolive":
        return this.timeToLiveHere(request.request);
      default:
        return unreachable(request, "forwarded request");
    }
  }

  private keepAliveHere(ID: LeaseId): Result<ForwardedResponse, EtcdError> {
    const renewed = this.lessor.keepAlive(ID);
    if (!renewed.ok) return renewed;
    const reset = renewed.value.resetCheckpoint;
    if (reset !== undefined) {
      this.proposeInternal((id) => ({
        kind: "lease-checkpoint",
        id,
        leaseCheckpoint: { checkpoints: [reset] },
      }));
    }
    const response = {
      header: this.header(this.kv.currentRevision),
      ID,
      TTL: renewed.value.ttlSeconds,
    };
    return ok({ kind: "lease-keepalive", response });
  }

  private timeToLiveHere(req: LeaseTimeToLiveRequest): Result<ForwardedResponse, EtcdError> {
    const ttl = this.lessor.timeToLive(req.ID, req.keys === true);
    const h = this.header(this.kv.currentRevision);
    if (!ttl.ok && ttl.error.name === "LeaseNotFound") {
      const response = { header: h, ID: req.ID, TTL: -1, grantedTTL: 0, keys: [] };
      return ok({ kind: "lease-timetolive", response });
    }
    if (!ttl.ok) return ttl;
    const { ttlSeconds, grantedTtlSeconds, keys } = ttl.value;
    const response = {
      header: h,
      ID: req.ID,
      TTL: ttlSeconds,
      grantedTTL: grantedTtlSeconds,
      keys,
    };
    return ok({ kind: "lease-timetolive", response });
  }

  /** The leader revokes expired leases and checkpoints remaining TTLs, through Raft. */
  private leaseTick(): void {
    if (!this.isLeader || !this.lessor.isPrimary) return;
    for (const ID of this.lessor.expiredLeases()) {
      this.proposeInternal((id) => ({ kind: "lease-revoke", id, leaseRevoke: { ID } }));
    }
    const checkpoints = this.lessor.checkpointsDue();
    if (checkpoints.length > 0) {
      this.proposeInternal((id) => ({
        kind: "lease-checkpoint",
        id,
        leaseCheckpoint: { checkpoints },
      }));
    }
  }

  // ---- the Ready loop ---------------------------------------------------------------------------

  /** Runs the Ready loop to quiescence, then the queued replies and watch responses. */
  private pump(): void {
    if (this.pumping || this.stopped) return;
    this.pumping = true;
    try {
      do {
        this.drain();
        this.flushWatches();
        this.runReplies();
      } while (this.node.hasReady() && !this.stopped);
    } finally {
      this.pumping = false;
    }
  }

  private drain(): void {
    while (this.node.hasReady()) {
      const rd = this.node.ready();
      this.persist(rd);
      if (rd.softState !== undefined) this.onSoftState(rd.softState.raftState, rd.softState.lead);
      for (const m of rd.messages) this.sendRaft(m);
      for (const e of rd.committedEntries) this.applyEntry(e);
      for (const rs of rd.readStates) this.reads.onReadState(rs);
      this.node.advance(rd);
      this.reads.onApplied();
      this.applyWait.onApplied();
    }
  }

  private persist(rd: Ready): void {
    // Snapshots need a compacted log, which this member never makes: the leader sends entries.
    assert(rd.snapshot === undefined, "member: unexpected snapshot in Ready");
    const first = rd.entries[0];
    if (first !== undefined) {
      this.o.observer?.onAppend(rd.entries, this.termAt(first.index - 1) ?? 0);
      this.storage.append(rd.entries);
    }
    if (rd.hardState !== undefined) {
      this.o.observer?.onHardState(rd.hardState, (i) => this.entryAt(i));
      this.storage.setHardState(rd.hardState);
    }
  }

  private sendRaft(m: Message): void {
    assert(m.to !== this.id, () => `member ${this.id} sent ${m.type} to itself`);
    this.o.send(m.to, { type: "raft", message: m });
  }

  private onSoftState(role: StateType, lead: NodeId): void {
    const wasLeader = this.role === "StateLeader";
    const leadChanged = lead !== this.lead;
    this.role = role;
    this.lead = lead;
    if (role === "StateLeader" && !wasLeader) {
      const status = this.node.status();
      // Raft appended this term's empty entry on becoming leader: it is the last entry now.
      this.leaderStartIndex = status.lastIndex;
      this.o.observer?.onLeader(status.hardState.term, (i) => this.termAt(i));
      this.lessor.promote(this.config.electionMs);
    } else if (role !== "StateLeader" && wasLeader) {
      this.lessor.demote();
    }
    if (leadChanged) {
      this.reads.onLeaderChanged();
      this.leaseRequests.onLeaderChanged();
    }
  }

  private applyEntry(e: Entry): void {
    if (e.index <= this.applied) return;
    this.o.observer?.onApply(e);
    this.applied = e.index;
    if (e.type !== "EntryNormal" || e.data.length === 0) return;
    const decoded = decodeInternalRequest(e.data);
    assert(decoded.ok, () => `entry ${e.index}: ${decoded.ok ? "" : decoded.error}`);
    const req = decoded.value;
    // A proposal forwarded to the leader can reach it twice (the peer transport may duplicate a
    // MsgProp) and then sits in the log twice; only its first copy takes effect.
    if (!this.appliedIds.add(req.id)) return;
    this.waits.trigger(req.id, applyRequest(this, req));
  }

  private flushWatches(): void {
    for (const w of [...this.watches]) {
      if (w.stream.queued === 0) continue;
      const responses: WatchResponse[] = [];
      // take() refills the queue from the log, so drain until the stream has caught up.
      while (w.stream.queued > 0) responses.push(...w.stream.take());
      const fill = (r: WatchResponse) => ({ ...r, header: this.header(r.header.revision) });
      this.replies.push(() => w.onResponses(responses.map(fill)));
    }
  }

  private runReplies(): void {
    while (this.replies.length > 0) {
      const batch = this.replies;
      this.replies = [];
      for (const reply of batch) reply();
    }
  }

  // ---- helpers ----------------------------------------------------------------------------------

  private newNode(): RawNode {
    return new RawNode({
      id: this.id,
      electionTick: this.config.electionMs / this.config.heartbeatMs,
      heartbeatTick: 1,
      storage: this.storage,
      applied: 0,
      preVote: true,
      checkQuorum: true,
      maxSizePerMsg: 1 << 20,
      maxInflightMsgs: 512,
      maxUncommittedEntriesSize: this.config.maxUncommittedEntriesBytes,
      random: this.o.env.random,
    });
  }

  /** The env's timers, with the Ready loop and replies run after each callback. */
  private pumpingTimers(): Timers {
    const timers = this.o.env.timers;
    return {
      schedule: (delayMs, callback) =>
        timers.schedule(delayMs, () => {
          if (this.stopped) return;
          callback();
          this.pump();
        }),
      cancel: (id) => timers.cancel(id),
    };
  }

  private every(intervalMs: number, action: () => void): void {
    const slot = this.timers.length;
    const arm = () => {
      this.timers[slot] = this.o.env.timers.schedule(intervalMs, () => {
        if (this.stopped) return;
        action();
        arm();
        this.pump();
      });
    };
    this.timers.push(0);
    arm();
  }

  private header(revision: number): ResponseHeader {
    return {
      cluster_id: this.clusterId,
      member_id: BigInt(this.id),
      revision,
      raft_term: this.node.status().hardState.term,
    };
  }

  /** Fills the header of a response from the store and answers. */
  private respond<T extends { header: ResponseHeader }>(
    done: Done<T>,
    result: Result<T, EtcdError>,
  ): void {
    if (!result.ok) return this.reply(done, result);
    this.reply(done, ok({ ...result.value, header: this.header(result.value.header.revision) }));
  }

  private reply<T>(done: Done<T>, result: Result<T, EtcdError>): void {
    this.replies.push(() => done(result));
    if (!this.pumping) this.runReplies();
  }

  private termAt(index: number): number | undefined {
    const t = this.storage.term(index);
    return typeof t === "number" ? t : undefined;
  }

  private entryAt(index: number): Entry | undefined {
    const got = this.storage.entries(index, index + 1, Number.POSITIVE_INFINITY);
    return typeof got === "string" ? undefined : got[0];
  }
}

/** Fixed bytes a range request carries besides its keys (the options, as etcd encodes them). */
const RANGE_REQUEST_OVERHEAD_BYTES = 64;

/** The size of a range request on the wire, near enough for etcd's request size limit. */
function rangeRequestBytes(req: RangeRequest): number {
  return req.key.length + (req.range_end?.length ?? 0) + RANGE_REQUEST_OVERHEAD_BYTES;
}

function isReadOnlyTxn(req: TxnRequest): boolean {
  const ops = [...(req.success ?? []), ...(req.failure ?? [])];
  return ops.every(
    (op) =>
      op.request === "request_range" ||
      (op.request === "request_txn" && isReadOnlyTxn(op.request_txn)),
  );
}

function expectApplied<T>(
  applied: AppliedResponse,
  pick: (a: AppliedResponse) => T | undefined,
): T {
  const response = pick(applied);
  assert(response !== undefined, () => `applied ${applied.kind} for another kind of request`);
  return response;
}

function expectForwarded<T>(
  result: Result<ForwardedResponse, EtcdError>,
  pick: (f: ForwardedResponse) => T | undefined,
): Result<T, EtcdError> {
  if (!result.ok) return result;
  const response = pick(result.value);
  assert(response !== undefined, () => `${result.value.kind} answered another kind of request`);
  return ok(response);
}
