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
// Persistence, two ways. In memory: the Raft log lives in the MemoryStorage given to the
// constructor, which outlives a crash; a member built on it re-applies every committed entry.
// Durable (`durable`): the log is a DiskStorage already recovered by the caller; the state machine
// starts from the newest valid snapshot, and the Ready loop persists each Ready (fsynced when raft
// says mustSync) before it sends a message or applies an entry, with one Ready in flight. Every
// `snapshotCount` applied entries the applied state (mvcc, leases, consistent index) becomes a
// snapshot and the log is compacted below it, keeping catch-up entries; a follower behind the
// compacted log gets a MsgSnap and restores its state machine from it. Either way the consistent
// index (the last applied index) makes apply idempotent: an entry at or below it is skipped.
//
// Membership: MemberAdd / Remove / Update / Promote are conf change entries whose context carries
// the member (membership.ts); applying one changes raft's configuration and the replicated member
// list together, and answers the proposer. The list is part of every snapshot. A removed member
// stops a few ticks after it applied its removal; an added one publishes its name once started.
//
// A member whose data fails its checksums raises the CORRUPT alarm: it answers every request with
// ErrCorrupt and takes no part in Raft, so it never serves data it cannot trust.

import { assert, unreachable } from "../lib/assert.js";
import { err, ok, type Result } from "../lib/result.js";
import { Errors, type EtcdError } from "../api/errors.js";
import {
  isAuthRead,
  type AuthChange,
  type AuthInfo,
  type AuthRequest,
  type AuthResponseOf,
} from "../api/auth.js";
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
import type {
  ClusterMember,
  MemberAddRequest,
  MemberAddResponse,
  MemberListRequest,
  MemberListResponse,
  MemberPromoteRequest,
  MemberPromoteResponse,
  MemberRemoveRequest,
  MemberRemoveResponse,
  MemberUpdateRequest,
  MemberUpdateResponse,
} from "../api/cluster.js";
import type { MemberEnv } from "../env/index.js";
import type { Failpoints } from "../lib/failpoints.js";
import {
  compactIndexFor,
  describeFailure,
  shouldSnapshot,
  type DiskStorage,
  type Recovered,
  type StorageFailure,
} from "../storage/index.js";
import type { CommitListener } from "../mvcc/kv-store.js";
import type { TimerId, Timers } from "../env/timers.js";
import { Lessor, MAX_LEASE_TTL_SECONDS } from "../lease/index.js";
import { KvStore } from "../mvcc/kv-store.js";
import { decodeConfChange, MemoryStorage, RawNode } from "../raft/index.js";
import type {
  ConfState,
  Entry,
  HardState,
  Message,
  NodeId,
  Ready,
  Snapshot,
  StateType,
  Storage,
} from "../raft/types.js";
import { WatchableStore, type WatchStream } from "../watch/watchable-store.js";
import { answerChange, AuthStore, readAuth, SimpleTokens } from "../auth/index.js";
import { AlarmStore, type AlarmName, type RaisedAlarm } from "./alarms.js";
import {
  asSystem,
  checkAuthRead,
  checkLeaseKeysRead,
  checkRange,
  checkTxn,
  checkWatch,
  simpleTokenIndex,
  simpleTokenInfo,
  WATCH_PERMISSION_DENIED_REASON,
  withAuthHeader,
} from "./auth-gate.js";
import { applyRequest, type AppliedResponse } from "./apply.js";
import { effectiveQuotaBytes, requestCostBytes } from "./quota.js";
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
import { decodeMemberSnapshot, encodeMemberSnapshot } from "./member-snapshot.js";
import {
  confChangeOf,
  decodeMemberChange,
  initialMember,
  LEARNER_READY_PERCENT,
  Membership,
  toClusterMember,
  validPeerURLs,
  type MemberChange,
  type MemberInfo,
} from "./membership.js";
import { coalesceMessages } from "../raft/coalesce.js";
import { SnapshotReports } from "./snapshot-reports.js";
import { runSteps, type Step } from "./steps.js";

/** A reply callback: called exactly once per request (see Member). */
export type Done<T> = (result: Result<T, EtcdError>) => void;

/**
 * Observes the Raft side of the Ready loop (the simulator's safety checker). Each hook runs inside
 * the loop, synchronously, and must not call the member.
 */
export interface RaftObserver {
  /** Entries about to be persisted; prevTerm is the term of the entry before the first. */
  onAppend(entries: readonly Entry[], prevTerm: number): void;
  /**
   * A hard state about to be persisted (durable: just persisted); entryAt reads the persisted
   * log, whose entries up to `snapshotIndex` are compacted into its snapshot.
   */
  onHardState(
    hardState: HardState,
    entryAt: (index: number) => Entry | undefined,
    snapshotIndex: number,
  ): void;
  /**
   * The member became leader of `term`; termAt reads its persisted log, whose entries up to
   * `snapshotIndex` are compacted into its snapshot.
   */
  onLeader(
    term: number,
    termAt: (index: number) => number | undefined,
    snapshotIndex: number,
  ): void;
  /** An entry applied (every committed entry, including empty ones), in index order. */
  onApply(entry: Entry): void;
  /** The state machine was replaced by a snapshot at `index` (at start, or a leader's). */
  onRestore?(index: number): void;
}

export interface MemberOptions {
  /** This member's Raft id, in [1, 512). */
  readonly id: NodeId;
  /**
   * The initial cluster's voters, this member included (its configuration when `storage` is
   * fresh, and the initial member list); for a `joining` member, without it.
   */
  readonly peers: readonly NodeId[];
  /**
   * This member was added to a running cluster by MemberAdd: it starts from the initial cluster
   * (`peers`) and learns its own membership, like every later change, from the leader's log.
   */
  readonly joining?: boolean;
  /**
   * The name and client URLs this member publishes once it has started and finds itself in the
   * member list without a name (default: those of the initial cluster's members).
   */
  readonly attributes?: { readonly name: string; readonly clientURLs: readonly string[] };
  /**
   * The initial cluster's members with their names and peer URLs (etcd's --initial-cluster), in
   * the order of `peers`; default: names and URLs made up from the ids (the simulator's).
   */
  readonly initialMembers?: readonly MemberInfo[];
  /** The cluster's id in response headers; default: one derived from `peers`. */
  readonly clusterId?: bigint;
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
  /** Durable storage, already opened and recovered (see MemberDurability); replaces `storage`. */
  readonly durable?: MemberDurability;
  /**
   * Recovery found corruption: the member starts with the CORRUPT alarm raised, refuses every
   * request with ErrCorrupt and takes no part in Raft.
   */
  readonly corrupt?: string;
  /** Called for every committed kv txn, on every store the member builds (restores included). */
  readonly onCommit?: CommitListener;
  /** The state machine was replaced by a leader's snapshot at `index`: watch streams were closed. */
  readonly onRestore?: (index: number) => void;
  /**
   * Decodes a committed entry's request; default decodeInternalRequest. It must answer what that
   * does, and the member never mutates the answer, so a simulator whose members share entry
   * bytes may share one caching decoder among them.
   */
  readonly decodeEntry?: (data: Uint8Array) => Result<InternalRequest, string>;
}

/**
 * A member on disk. Contract: `storage` is open and `recovered` is what it recovered; completions
 * of storage operations must reach the member through its host (none after a crash). The member
 * passes the Ready loop's failpoints on `failpoints`, whose hooks belong to the caller.
 */
export interface MemberDurability {
  readonly storage: DiskStorage;
  readonly recovered: Recovered;
  readonly failpoints: Failpoints;
  /** Applied entries between two snapshots (etcd's --snapshot-count). */
  readonly snapshotCount: number;
  /** Entries kept below a snapshot so a follower just behind needs no MsgSnap. */
  readonly catchUpEntries: number;
  /** How long a MsgSnap may go unacknowledged before raft is told it failed. */
  readonly snapshotReportTimeoutMs: number;
  /**
   * Storage failed with an I/O or injected error: the member has stopped without answering
   * anyone and the process must die now (a supervisor may restart it from its disk).
   */
  readonly onFatal: (reason: string) => void;
  /** The CORRUPT alarm was raised at run time (corruption found by a storage operation). */
  readonly onCorrupt?: (reason: string) => void;
}

/** etcd's alarm types a member raises on itself. */
export type AlarmType = "NOSPACE" | "CORRUPT";

/** What applying a member change answers its proposer. */
interface MembershipApplied {
  readonly member: MemberInfo;
  readonly members: readonly MemberInfo[];
}

/** etcd stops a removed member 10 ticks after it applied its removal, so the commit propagates. */
const REMOVED_STOP_DELAY_TICKS = 10;

/** Counters of the durable path, for tests and reports. */
export interface DurabilityStats {
  snapshotsCreated: number;
  snapshotsSent: number;
  snapshotsInstalled: number;
  snapshotReports: { ok: number; failed: number };
  compactions: number;
  defragments: number;
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
  /** Raised alarms (CORRUPT: the member refuses every request). */
  readonly alarms: readonly AlarmType[];
}

/**
 * One client watch stream on this member. Responses go to `onResponses` in order, after the
 * member's Ready loop (never from inside request()).
 */
export interface MemberWatch {
  request(req: WatchRequest): void;
  close(): void;
}

/**
 * Who opened a watch stream, asked at each watch it creates (a simple token resolves to the auth
 * revision current then); an error (an expired token) refuses the watch.
 */
export type WatchCredentials = () => Result<AuthInfo | undefined, EtcdError>;

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

  /** Every id held, oldest first (a snapshot keeps them). */
  list(): number[] {
    return [...this.order.slice(this.head), ...this.order.slice(0, this.head)];
  }

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
 * (reads and writes), TooManyOps and the request checks of src/api/validate.ts, the store's own
 * errors from apply, NotSupportedForLearner for anything but a serializable read on a learner,
 * and the membership errors of membership.ts (MemberNotFound, MemberExist, PeerURLExist,
 * MemberBadURLs, TooManyLearners, MemberNotLearner, LearnerNotReady, MemberNotEnoughStarted).
 *
 * Auth: client methods take the caller's identity `as` (resolved by the host from a token or a
 * certificate; absent without credentials). With auth enabled, requests are checked as
 * auth-gate.ts describes: reads when they are served (after ReadIndex), writes when they apply:
 * UserEmpty, AuthOldRevision, PermissionDenied, and the auth store's own errors.
 */
export class Member {
  readonly id: NodeId;
  /** `id` as response headers carry it. */
  private readonly memberIdBig: bigint;
  readonly config: MemberConfig;
  readonly lessor: Lessor;
  readonly storage: Storage;
  readonly durabilityStats: DurabilityStats = {
    snapshotsCreated: 0,
    snapshotsSent: 0,
    snapshotsInstalled: 0,
    snapshotReports: { ok: 0, failed: 0 },
    compactions: 0,
    defragments: 0,
  };
  private store: KvStore;
  private watchableStore: WatchableStore;
  private readonly clusterId: bigint;
  private readonly node: RawNode;
  private readonly requestIds: RequestIds;
  private readonly waits: WaitRegistry<AppliedResponse>;
  private readonly memberWaits: WaitRegistry<MembershipApplied>;
  /** The replicated member list; a snapshot replaces it. */
  private membership: Membership;
  /** Heartbeat ticks since this member last tried to publish its attributes. */
  private ticksSincePublish = 0;
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
  private appliedIds = new RecentIds(APPLIED_IDS_REMEMBERED);
  /** Alarms this member raised on itself without Raft (CORRUPT found by its storage). */
  private readonly alarmList: AlarmType[] = [];
  /** The replicated alarm list; a snapshot replaces it. */
  private alarmStore = new AlarmStore();
  /** The replicated auth store; a snapshot replaces it. */
  private authStore = new AuthStore();
  /** Simple tokens this member knows (member-local: see src/auth/simple-tokens.ts). */
  readonly authTokens: SimpleTokens;
  /**
   * The commit index this member's log had when it started: entries up to it applied in an
   * earlier life, so replaying their logins must not bring back tokens that may have expired.
   */
  private readonly committedAtStart: number;
  /** The most the store held since the last defragmentation: etcd's db size (a file's size). */
  private sizeHighWaterBytes = 0;
  private corruptReason: string | undefined;
  // The durable Ready loop: one Ready in flight, one snapshot at a time.
  private persisting = false;
  private snapshotting = false;
  private readonly snapshotReports: SnapshotReports | undefined;

  constructor(private readonly o: MemberOptions) {
    this.id = o.id;
    this.memberIdBig = BigInt(o.id);
    const config = memberConfig(o.config);
    this.config = config;
    assert(config.electionMs % config.heartbeatMs === 0, "electionMs must be whole heartbeats");
    assert(
      o.peers.includes(o.id) !== (o.joining === true),
      () => `member ${o.id}: among its peers ${o.peers.join(",")} although joining is ${o.joining}`,
    );
    this.membership =
      o.initialMembers === undefined
        ? Membership.initial(o.peers)
        : new Membership(o.initialMembers);
    assert(
      sameStrings(
        this.membership
          .list()
          .map((m) => String(m.id))
          .sort(),
        o.peers.map(String).sort(),
      ),
      "member: initialMembers must list exactly the peers",
    );
    this.clusterId = o.clusterId ?? clusterIdOf(o.peers);
    this.storage =
      o.durable?.storage ??
      o.storage ??
      new MemoryStorage({ confState: { voters: [...o.peers], ...EMPTY_CONF_STATE } });
    this.lessor = new Lessor({
      clock: o.env.clock,
      electionTimeoutMs: config.electionMs,
      checkpointIntervalMs: config.leaseCheckpointIntervalMs,
    });
    this.authTokens = new SimpleTokens(o.env.clock, config.authTokenTtlMs);
    this.store = this.wireStore(new KvStore(this.kvOptions()));
    this.watchableStore = this.newWatchable();
    const snapshot = o.durable?.recovered.snapshot;
    const restored = snapshot === undefined ? undefined : this.restoreSnapshot(snapshot);
    const corrupt = o.corrupt ?? restored;
    if (corrupt !== undefined) this.markCorrupt(corrupt);
    this.node = this.newNode();
    this.committedAtStart = this.storage.initialState().hardState.commit;
    this.requestIds = new RequestIds(o.id, o.env.random);
    const defer = (callback: () => void) => this.replies.push(callback);
    // These timers answer callers, so the replies must run right after, not at the next tick.
    const timers = this.pumpingTimers();
    this.waits = new WaitRegistry(timers, defer);
    this.memberWaits = new WaitRegistry(timers, defer);
    this.applyWait = new ApplyWait(timers, defer, () => this.applied);
    this.leaseRequests = new LeaseRequests({
      timers,
      nowMs: () => o.env.clock.now(),
      defer,
      leader: () => this.lead,
      isLeader: () => this.isLeader,
      answerHere: (request, done) => this.answerAsLeader(request, done),
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
    const durable = o.durable;
    this.snapshotReports =
      durable === undefined
        ? undefined
        : new SnapshotReports(timers, durable.snapshotReportTimeoutMs, (to, success) =>
            this.reportSnapshot(to, success),
          );
    // Its own snapshot says it was removed: etcd refuses to start such a member.
    if (this.membership.isRemoved(this.id)) {
      this.stop();
      return;
    }
    // A corrupt member takes no part: no ticks, no watch syncs, no lease expiry.
    if (this.corruptReason !== undefined) return;
    this.every(config.heartbeatMs, () => {
      this.node.tick();
      this.maybePublish();
    });
    this.every(config.watchSyncMs, () => this.watchable.sync());
    this.every(config.watchProgressNotifyMs, () => this.watchable.tickProgress());
    this.every(config.leaseTickMs, () => this.leaseTick());
    this.pump();
  }

  /** The mvcc store; a leader's snapshot replaces it (see restoreSnapshot). */
  get kv(): KvStore {
    return this.store;
  }

  get watchable(): WatchableStore {
    return this.watchableStore;
  }

  /** The replicated alarm list (NOSPACE, and CORRUPT raised through Raft). */
  get alarms(): AlarmStore {
    return this.alarmStore;
  }

  /** The replicated auth store (users, roles, permissions, enabled, auth revision). */
  get auth(): AuthStore {
    return this.authStore;
  }

  /** Where an applying login assigns its token: nowhere while replaying an earlier life's log. */
  get loginTokens(): SimpleTokens | undefined {
    return this.applied > this.committedAtStart ? this.authTokens : undefined;
  }

  /** etcd's dbSize: what the store held at most since its last defragmentation. */
  get dbSizeBytes(): number {
    return Math.max(this.sizeHighWaterBytes, this.kv.sizeInUseBytes);
  }

  /** etcd's dbSizeInUse: what the store holds now. */
  get dbSizeInUseBytes(): number {
    return this.kv.sizeInUseBytes;
  }

  // ---- peers ------------------------------------------------------------------------------------

  /** A message from peer `from`. */
  receive(from: NodeId, message: MemberMessage): void {
    if (this.stopped || this.corruptReason !== undefined) return;
    switch (message.type) {
      case "raft":
        this.node.step(message.message);
        this.snapshotReports?.received(message.message);
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

  range(req: RangeRequest, done: Done<RangeResponse>, as?: AuthInfo): void {
    const checked = checkRangeRequest(req);
    if (!checked.ok) return this.reply(done, checked);
    if (rangeRequestBytes(req) > this.config.maxRequestBytes) {
      return this.reply(done, err(Errors.RequestTooLarge));
    }
    const serve = this.allowed(
      done,
      () => checkRange(this, as, req),
      () => this.respond(done, this.kv.range(req)),
    );
    if (req.serializable === true) return this.local(done, serve);
    this.linearizable(done, serve);
  }

  put(req: PutRequest, done: Done<PutResponse>, as?: AuthInfo): void {
    const checked = checkPutRequest(req);
    if (!checked.ok) return this.reply(done, checked);
    this.propose(
      (id) => ({ kind: "put", id, put: req }),
      (a) => (a.kind === "put" ? a.response : undefined),
      done,
      as,
    );
  }

  deleteRange(req: DeleteRangeRequest, done: Done<DeleteRangeResponse>, as?: AuthInfo): void {
    const checked = checkDeleteRangeRequest(req);
    if (!checked.ok) return this.reply(done, checked);
    this.propose(
      (id) => ({ kind: "delete-range", id, deleteRange: req }),
      (a) => (a.kind === "delete-range" ? a.response : undefined),
      done,
      as,
    );
  }

  /** A txn; a read-only txn is served like a linearizable range (etcd does the same). */
  txn(req: TxnRequest, done: Done<TxnResponse>, as?: AuthInfo): void {
    const checked = checkTxnRequest(req, this.config.maxTxnOps);
    if (!checked.ok) return this.reply(done, checked);
    if (isReadOnlyTxn(req)) {
      // Not proposed, but etcd limits every request's size, reads included.
      const bytes = encodeInternalRequest({ kind: "txn", id: 0, txn: req }).length;
      if (bytes > this.config.maxRequestBytes) return this.reply(done, err(Errors.RequestTooLarge));
      const serve = () => this.readOnlyTxn(req, done);
      return this.linearizable(
        done,
        this.allowed(done, () => checkTxn(this, as, req), serve),
      );
    }
    this.propose(
      (id) => ({ kind: "txn", id, txn: req }),
      (a) => (a.kind === "txn" ? a.response : undefined),
      done,
      as,
    );
  }

  compact(req: CompactionRequest, done: Done<CompactionResponse>, as?: AuthInfo): void {
    this.propose(
      (id) => ({ kind: "compaction", id, compaction: req }),
      (a) => (a.kind === "compaction" ? a.response : undefined),
      done,
      as,
    );
  }

  /** HashKV of this member's store (local, no Raft), as etcd's Maintenance.HashKV; root only. */
  hashKV(req: HashKVRequest, done: Done<HashKVResponse>, as?: AuthInfo): void {
    if (this.isLearner) return this.reply(done, err(Errors.NotSupportedForLearner));
    const serve = () => this.respond(done, this.kv.hashKV(req));
    this.local(
      done,
      this.allowed(done, () => this.authStore.checkAdmin(as), serve),
    );
  }

  // ---- Lease ------------------------------------------------------------------------------------

  /** ID 0 lets this member choose one (from its Random), so the entry is the same everywhere. */
  leaseGrant(req: LeaseGrantRequest, done: Done<LeaseGrantResponse>, as?: AuthInfo): void {
    if (req.TTL > MAX_LEASE_TTL_SECONDS) return this.reply(done, err(Errors.LeaseTTLTooLarge));
    const ID =
      req.ID === undefined || req.ID === 0n ? this.lessor.chooseId(this.o.env.random) : req.ID;
    const grant: LeaseGrantRequest = { TTL: req.TTL, ID };
    this.propose(
      (id) => ({ kind: "lease-grant", id, leaseGrant: grant }),
      (a) => (a.kind === "lease-grant" ? a.response : undefined),
      done,
      as,
    );
  }

  /** Needs WRITE on every key attached to the lease. */
  leaseRevoke(req: LeaseRevokeRequest, done: Done<LeaseRevokeResponse>, as?: AuthInfo): void {
    const revoke = { ID: req.ID };
    this.propose(
      (id) => ({ kind: "lease-revoke", id, leaseRevoke: revoke }),
      (a) => (a.kind === "lease-revoke" ? a.response : undefined),
      done,
      as,
    );
  }

  /** Renews on the leader; LeaseNotFound for a lease that is gone or already expired. */
  leaseKeepAlive(req: LeaseKeepAliveRequest, done: Done<LeaseKeepAliveResponse>): void {
    this.leaderOnly({ kind: "lease-keepalive", request: req }, (result) =>
      done(expectForwarded(result, (f) => (f.kind === "lease-keepalive" ? f.response : undefined))),
    );
  }

  /**
   * Remaining TTL from the leader; TTL -1 for a lease that does not exist (as etcd answers). With
   * `keys`, the caller needs READ on every key listed.
   */
  leaseTimeToLive(
    req: LeaseTimeToLiveRequest,
    done: Done<LeaseTimeToLiveResponse>,
    as?: AuthInfo,
  ): void {
    this.leaderOnly({ kind: "lease-timetolive", request: req }, (result) => {
      const answer = expectForwarded(result, (f) =>
        f.kind === "lease-timetolive" ? f.response : undefined,
      );
      const denied = answer.ok ? checkLeaseKeysRead(this, as, answer.value.keys) : undefined;
      done(denied === undefined ? answer : err(denied));
    });
  }

  /** Every lease id, read linearizably from the replicated lease table. */
  leaseLeases(_req: LeaseLeasesRequest, done: Done<LeaseLeasesResponse>): void {
    this.linearizable(done, () => {
      const leases = this.lessor.leases().map((ID) => ({ ID }));
      this.reply(done, ok({ header: this.header(this.kv.currentRevision), leases }));
    });
  }

  // ---- Cluster ----------------------------------------------------------------------------------

  /**
   * Adds a member (a learner, or a voter) under an id this member chooses; it is unstarted (no
   * name) until it runs and publishes its attributes. A voter is refused when the cluster could
   * lose its quorum of started members (etcd's --strict-reconfig-check).
   */
  memberAdd(req: MemberAddRequest, done: Done<MemberAddResponse>, as?: AuthInfo): void {
    const denied = this.authStore.checkAdmin(as);
    if (denied !== undefined) return this.reply(done, err(denied));
    const refused = this.refusal();
    if (refused !== undefined) return this.reply(done, err(refused));
    if (!validPeerURLs(req.peerURLs)) return this.reply(done, err(Errors.MemberBadURLs));
    const id = this.membership.chooseId(this.o.env.random);
    // Every id below 512 is taken or was removed: no member can be added any more.
    if (id === undefined) return this.reply(done, err(Errors.MemberExist));
    const isLearner = req.isLearner === true;
    const member = { id, name: "", peerURLs: [...req.peerURLs], clientURLs: [], isLearner };
    const strict = isLearner || this.membership.readyToAddVoter();
    this.proposeMemberChange(
      (requestId) => ({ requestId, action: "add", member }),
      strict ? undefined : Errors.MemberNotEnoughStarted,
      (a) => ({ member: toClusterMember(a.member), members: clusterMembers(a.members) }),
      done,
    );
  }

  /** Removes a member; the removed member stops, a removed leader steps down first. */
  memberRemove(req: MemberRemoveRequest, done: Done<MemberRemoveResponse>, as?: AuthInfo): void {
    const denied = this.authStore.checkAdmin(as);
    if (denied !== undefined) return this.reply(done, err(denied));
    const id = memberIdOf(req.ID);
    const current = this.membership.get(id);
    // Removing a learner never changes the quorum.
    const strict =
      current === undefined || current.isLearner || this.membership.readyToRemoveVoter(id);
    this.proposeMemberChange(
      (requestId) => ({ requestId, action: "remove", member: current ?? unknownMember(id) }),
      strict ? undefined : Errors.MemberNotEnoughStarted,
      (a) => ({ members: clusterMembers(a.members) }),
      done,
    );
  }

  /** Replaces a member's peer URLs. */
  memberUpdate(req: MemberUpdateRequest, done: Done<MemberUpdateResponse>, as?: AuthInfo): void {
    const denied = this.authStore.checkAdmin(as);
    if (denied !== undefined) return this.reply(done, err(denied));
    if (!validPeerURLs(req.peerURLs)) return this.reply(done, err(Errors.MemberBadURLs));
    const id = memberIdOf(req.ID);
    const member = { ...(this.membership.get(id) ?? unknownMember(id)), peerURLs: req.peerURLs };
    this.proposeMemberChange(
      (requestId) => ({ requestId, action: "update", member }),
      undefined,
      (a) => ({ members: clusterMembers(a.members) }),
      done,
    );
  }

  /**
   * Makes a learner a voter. Only the leader knows how far the learner got, so a follower forwards
   * the request to it (as etcd does); the learner must hold 90% of the leader's log.
   */
  memberPromote(req: MemberPromoteRequest, done: Done<MemberPromoteResponse>, as?: AuthInfo): void {
    const denied = this.authStore.checkAdmin(as);
    if (denied !== undefined) return this.reply(done, err(denied));
    this.leaderOnly({ kind: "member-promote", request: req }, (result) =>
      done(expectForwarded(result, (f) => (f.kind === "member-promote" ? f.response : undefined))),
    );
  }

  /** MemberPromote on the leader (etcd's isLearnerReady and mayPromoteMember, then Raft). */
  private promoteAsLeader(req: MemberPromoteRequest, done: Done<MemberPromoteResponse>): void {
    const id = memberIdOf(req.ID);
    const member = this.membership.get(id) ?? unknownMember(id);
    const change: MemberChange = { requestId: 0, action: "promote", member };
    const invalid = this.membership.validate(change);
    if (!invalid.ok) return this.reply(done, invalid);
    const notReady = this.learnerNotReady(id);
    const strict = this.membership.readyToPromote() ? undefined : Errors.MemberNotEnoughStarted;
    this.proposeMemberChange(
      (requestId) => ({ ...change, requestId }),
      notReady ?? strict,
      (a) => ({ members: clusterMembers(a.members) }),
      done,
    );
  }

  /** The member list; `linearizable` reads it through ReadIndex, else from this member's state. */
  memberList(req: MemberListRequest, done: Done<MemberListResponse>): void {
    const serve = () =>
      this.reply(
        done,
        ok({
          header: this.header(this.kv.currentRevision),
          members: clusterMembers(this.membership.list()),
        }),
      );
    if (req.linearizable === true) return this.linearizable(done, serve);
    if (this.isLearner) return this.reply(done, err(Errors.NotSupportedForLearner));
    this.local(done, serve);
  }

  // ---- Auth -------------------------------------------------------------------------------------

  /**
   * etcd's Auth service (passwords already hashed by the host). Reads are linearizable and
   * answered from the applied store; changes go through Raft, a login included, so it applies in
   * order with password changes and with disabling auth.
   */
  authRequest<R extends AuthRequest>(req: R, done: Done<AuthResponseOf<R>>, as?: AuthInfo): void {
    const answer = done as Done<AuthResponseOf<AuthRequest>>;
    if (isAuthRead(req)) {
      const serve = () =>
        this.respond(answer, readAuth(this.authStore, req, this.kv.currentRevision));
      return this.linearizable(
        done,
        this.allowed(done, () => checkAuthRead(this.authStore, as, req), serve),
      );
    }
    this.propose(
      (id) => ({ kind: "auth", id, authChange: req as AuthChange }),
      (a) => (a.kind === "auth" ? answerChange(a.applied, a.revision) : undefined),
      answer,
      as,
    );
  }

  /**
   * Who a simple token names (etcd's token check): answered once this member applied the login
   * that made it (the index after the token's dot), so a token works on every member right after
   * the login. While auth is off tokens are ignored; an unknown one is InvalidAuthToken.
   */
  simpleTokenCredentials(token: string, done: Done<AuthInfo | undefined>): void {
    const resolve = () => this.reply(done, simpleTokenInfo(this.authStore, this.authTokens, token));
    const index = simpleTokenIndex(token);
    if (index === undefined || !this.authStore.isEnabled) return resolve();
    const fail = (e: EtcdError) => done(err(e));
    this.applyWait.wait(
      index,
      this.config.requestTimeoutMs,
      Errors.InvalidAuthToken,
      resolve,
      fail,
    );
    if (!this.pumping) this.runReplies();
  }

  // ---- Watch ------------------------------------------------------------------------------------

  /**
   * Opens a watch stream served from this member's store. Contract: `onResponses` gets every
   * response of the stream in order, after the Ready loop; it must not throw.
   */
  watch(
    onResponses: (responses: WatchResponse[]) => void,
    credentials?: WatchCredentials,
  ): MemberWatch {
    assert(!this.stopped, "watch on a stopped member");
    const open: OpenWatch = {
      stream: this.watchable.openStream(),
      onResponses,
    };
    this.watches.push(open);
    return {
      request: (req) => {
        if (this.stopped) return;
        // A corrupt member serves nothing; etcd serves no watch streams on a learner.
        const refused =
          this.corruptReason !== undefined
            ? Errors.Corrupt
            : this.isLearner
              ? Errors.NotSupportedForLearner
              : undefined;
        if (refused !== undefined) {
          if (req.request_union !== "create_request") return;
          const id = req.create_request.watch_id ?? -1;
          this.replies.push(() => onResponses([this.canceledWatch(id, refused)]));
          if (!this.pumping) this.runReplies();
          return;
        }
        if (req.request_union === "create_request" && this.watchDenied(req, credentials)) {
          const id = req.create_request.watch_id ?? 0;
          const canceled = this.canceledWatch(id, WATCH_PERMISSION_DENIED_REASON);
          this.replies.push(() => onResponses([{ ...canceled, created: true }]));
          if (!this.pumping) this.runReplies();
          return;
        }
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
      alarms: [
        ...this.alarmList,
        ...this.alarmStore
          .list()
          .filter((a) => a.memberID === this.id && !this.alarmList.includes(a.alarm))
          .map((a) => a.alarm),
      ],
    };
  }

  /** The index of the last applied entry: entries at or below it are never applied again. */
  get consistentIndex(): number {
    return this.applied;
  }

  get isLeader(): boolean {
    return this.role === "StateLeader";
  }

  /** Whether the member list holds this member as a learner. */
  get isLearner(): boolean {
    return this.membership.get(this.id)?.isLearner === true;
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

  /**
   * Rewrites the member's storage files to drop garbage (etcd's Maintenance.Defragment). Only a
   * durable member has files; a storage failure during it stops the member like any other.
   */
  defragment(done: Done<Record<string, never>>): void {
    const durable = this.o.durable;
    const refused = this.stopped
      ? Errors.Stopped
      : this.corruptReason === undefined
        ? undefined
        : Errors.Corrupt;
    if (refused !== undefined) return this.reply(done, err(refused));
    if (durable === undefined) {
      this.sizeHighWaterBytes = this.kv.sizeInUseBytes;
      return this.reply(done, ok({}));
    }
    durable.storage.defragment((result) => {
      if (this.stopped) return;
      if (!result.ok) {
        this.storageFailed(result.error);
        return done(err(this.corruptReason === undefined ? Errors.Stopped : Errors.Corrupt));
      }
      this.durabilityStats.defragments++;
      this.sizeHighWaterBytes = this.kv.sizeInUseBytes;
      done(ok({}));
    });
  }

  /**
   * etcd's Maintenance.Alarm. GET lists the raised alarms (of one type, or all for NONE) from
   * this member's state, this member's own CORRUPT included; ACTIVATE and DEACTIVATE go through
   * Raft and answer with the alarm if it changed (an empty list if it already was so).
   */
  alarm(req: AlarmChangeRequest, done: Done<AlarmChangeResponse>): void {
    if (req.action === "GET") {
      return this.local(done, () => {
        const alarms = this.alarmsRaised().filter(
          (a) => req.alarm === "NONE" || a.alarm === req.alarm,
        );
        this.reply(
          done,
          ok({ header: this.header(this.kv.currentRevision), alarms: alarms.map(toAlarmMember) }),
        );
      });
    }
    // The alarm list holds member ids as 32-bit numbers (detcd's are below 512): an id beyond
    // that names no member and changes nothing, answered like an alarm already so.
    if (req.alarm === "NONE" || req.memberID > 0xffff_ffffn)
      return this.reply(done, ok({ header: this.header(this.kv.currentRevision), alarms: [] }));
    const change = { action: req.action, memberID: Number(req.memberID), alarm: req.alarm };
    this.propose(
      (id) => ({ kind: "alarm", id, alarm: change }),
      (a) =>
        a.kind === "alarm"
          ? {
              header: this.header(this.kv.currentRevision),
              alarms: a.changed ? [toAlarmMember(change)] : [],
            }
          : undefined,
      done,
    );
  }

  /**
   * The applied state as snapshot bytes (etcd's Maintenance.Snapshot): the kv store, leases,
   * alarms and member list at `index`, the last applied entry. Not a read through Raft: a
   * follower's snapshot may trail the leader's.
   */
  exportSnapshot(): { index: number; data: Uint8Array } {
    const data = encodeMemberSnapshot({
      consistentIndex: this.applied,
      kv: this.kv,
      lessor: this.lessor.exportState(),
      membership: this.membership,
      appliedIds: this.appliedIds.list(),
      alarms: this.alarmStore,
      auth: this.authStore,
    });
    return { index: this.applied, data };
  }

  /** The member list as this member applied it (no Raft read; see memberList for one). */
  members(): MemberInfo[] {
    return this.membership.list();
  }

  /** Client proposals this member made that have not applied yet (etcd's proposals_pending). */
  get pendingProposals(): number {
    return this.waits.size + this.memberWaits.size;
  }

  /** A response header for an answer this member gives now (at its current revision). */
  responseHeader(): ResponseHeader {
    return this.header(this.kv.currentRevision);
  }

  /** Stops the member: every waiting request fails with Stopped, timers stop, watches close. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    for (const t of this.timers) this.o.env.timers.cancel(t);
    this.waits.failAll(Errors.Stopped);
    this.memberWaits.failAll(Errors.Stopped);
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
    as?: AuthInfo,
  ): void {
    const refused = this.refusal();
    if (refused !== undefined) return this.reply(done, err(refused));
    const id = this.requestIds.next();
    // Checked when the entry applies, in log order: this member's own auth state may lag, and a
    // refusal from it could contradict a grant the client already saw complete.
    const request = withAuthHeader(build(id), as);
    const cost = requestCostBytes(request);
    if (cost > 0 && this.overQuota(cost)) return this.reply(done, err(Errors.NoSpace));
    const data = encodeInternalRequest(request);
    if (data.length > this.config.maxRequestBytes) {
      return this.reply(done, err(Errors.RequestTooLarge));
    }
    // etcd refuses such a write when it applies, so a request too large hears that first.
    if (cost > 0 && this.alarmStore.has("NOSPACE")) return this.reply(done, err(Errors.NoSpace));
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

  /**
   * Proposes a member change as a conf change entry and answers when it applies. The change is
   * checked against the member list now (a quick answer) and again when it applies (changes
   * committed in between may invalidate it); `refused` is a check only this member can make.
   */
  private proposeMemberChange<T extends { header: ResponseHeader }>(
    build: (requestId: number) => MemberChange,
    refused: EtcdError | undefined,
    answer: (applied: MembershipApplied) => Omit<T, "header">,
    done: Done<T>,
  ): void {
    const notServing = this.refusal();
    if (notServing !== undefined) return this.reply(done, err(notServing));
    const requestId = this.requestIds.next();
    const change = build(requestId);
    const invalid = this.membership.validate(change);
    if (!invalid.ok) return this.reply(done, invalid);
    if (refused !== undefined) return this.reply(done, err(refused));
    this.memberWaits.register(requestId, this.config.requestTimeoutMs, (result) => {
      if (!result.ok) return this.reply(done, result);
      const response = { ...answer(result.value), header: this.header(this.kv.currentRevision) };
      this.reply(done, ok(response as T));
    });
    if (this.node.proposeConfChange(confChangeOf(change)) === "dropped") {
      // Raft takes one conf change at a time, and none during a leadership transfer.
      this.memberWaits.trigger(
        requestId,
        err(this.lead === 0 ? Errors.NoLeader : Errors.ProposalDropped),
      );
    }
    this.pump();
  }

  /**
   * The leader's view of a learner's progress: ready once its match is at least 90% of the
   * leader's own (etcd's isLearnerReady); a learner not replicated to is not found.
   */
  private learnerNotReady(id: NodeId): EtcdError | undefined {
    const progress = this.node.status().progress;
    const learner = progress.get(id);
    if (learner === undefined) return Errors.MemberNotFound;
    const leaderMatch = progress.get(this.id)?.match ?? 0;
    return learner.match < leaderMatch * LEARNER_READY_PERCENT ? Errors.LearnerNotReady : undefined;
  }

  /**
   * A started member that finds itself in the list without a name publishes its name and client
   * URLs, once per election timeout until that applies (etcd publishes at start and retries).
   */
  private maybePublish(): void {
    const electionTicks = this.config.electionMs / this.config.heartbeatMs;
    if (++this.ticksSincePublish < electionTicks) return;
    this.ticksSincePublish = 0;
    const me = this.membership.get(this.id);
    if (me === undefined || this.lead === 0) return;
    const attributes = this.o.attributes ?? initialMember(this.id);
    const published =
      me.name === attributes.name && sameStrings(me.clientURLs, attributes.clientURLs);
    if (published) return;
    const member = { ...me, name: attributes.name, clientURLs: [...attributes.clientURLs] };
    const change: MemberChange = { requestId: this.requestIds.next(), action: "publish", member };
    this.node.proposeConfChange(confChangeOf(change));
  }

  /**
   * Whether a write of `costBytes` would take the store past the quota: then this member raises
   * NOSPACE unless it is raised (etcd does the same) and the write is refused.
   */
  private overQuota(costBytes: number): boolean {
    if (this.dbSizeBytes + costBytes <= effectiveQuotaBytes(this.config.quotaBackendBytes)) {
      return false;
    }
    if (this.alarmStore.has("NOSPACE")) return true;
    const alarm = { action: "ACTIVATE", memberID: this.id, alarm: "NOSPACE" } as const;
    this.proposeInternal((id) => ({ kind: "alarm", id, alarm }));
    return true;
  }

  /** The replicated alarms, and this member's CORRUPT if only it knows. */
  private alarmsRaised(): RaisedAlarm[] {
    const raised = [...this.alarmStore.list()];
    const local = this.corruptReason !== undefined;
    if (local && !raised.some((a) => a.memberID === this.id && a.alarm === "CORRUPT")) {
      raised.push({ memberID: this.id, alarm: "CORRUPT" });
    }
    return raised;
  }

  /** Proposes without anyone waiting (lease expiry and checkpoints decided by the leader). */
  private proposeInternal(build: (id: number) => InternalRequest): void {
    const request = asSystem(build(this.requestIds.next()), this.authStore);
    this.node.propose(encodeInternalRequest(request));
  }

  private linearizable<T>(done: Done<T>, serve: () => void): void {
    const refused = this.refusal();
    if (refused !== undefined) return this.reply(done, err(refused));
    this.reads.read(serve, (error) => done(err(error)));
    this.pump();
  }

  /** `serve`, run only if `denied` (asked when it runs, after any ReadIndex) finds nothing. */
  private allowed<T>(done: Done<T>, denied: () => EtcdError | undefined, serve: () => void) {
    return (): void => {
      const refused = denied();
      if (refused !== undefined) return this.reply(done, err(refused));
      serve();
    };
  }

  /** Whether auth refuses a watch: the credentials fail, or READ on its range is not granted. */
  private watchDenied(
    req: Extract<WatchRequest, { request_union: "create_request" }>,
    credentials: WatchCredentials | undefined,
  ): boolean {
    if (!this.authStore.isEnabled) return false;
    const who = credentials?.() ?? ok(undefined);
    return !who.ok || checkWatch(this, who.value, req.create_request) !== undefined;
  }

  private local<T>(done: Done<T>, serve: () => void): void {
    if (this.stopped) return this.reply(done, err(Errors.Stopped));
    if (this.corruptReason !== undefined) return this.reply(done, err(Errors.Corrupt));
    serve();
    this.pump();
  }

  private refusal(): EtcdError | undefined {
    if (this.stopped) return Errors.Stopped;
    if (this.corruptReason !== undefined) return Errors.Corrupt;
    // etcd serves a learner's clients serializable reads only: it is no voter, and may lag far.
    if (this.isLearner) return Errors.NotSupportedForLearner;
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
    this.answerAsLeader(request, send);
  }

  /** A leader-only request, on the leader. */
  private answerAsLeader(
    request: ForwardedRequest,
    done: (result: Result<ForwardedResponse, EtcdError>) => void,
  ): void {
    if (request.kind !== "member-promote") return this.answerLeaseAsLeader(request, done);
    this.promoteAsLeader(request.request, (result) =>
      done(result.ok ? ok({ kind: "member-promote", response: result.value }) : result),
    );
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
      case "member-promote":
        // answerAsLeader sends promotions elsewhere.
        return err(Errors.NotLeader);
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
    if (this.pumping || this.stopped || this.corruptReason !== undefined) return;
    this.pumping = true;
    try {
      do {
        this.drain();
        this.flushWatches();
        this.runReplies();
      } while (this.node.hasReady() && !this.persisting && !this.stopped);
    } finally {
      this.pumping = false;
    }
  }

  private drain(): void {
    if (this.o.durable !== undefined) return this.drainDurable();
    while (this.node.hasReady()) {
      const rd = this.node.ready();
      this.persist(rd);
      if (rd.softState !== undefined) this.onSoftState(rd.softState.raftState, rd.softState.lead);
      this.sendAll(rd.messages);
      for (const e of rd.committedEntries) this.applyEntry(e);
      this.finishReady(rd);
    }
  }

  private finishReady(rd: Ready): void {
    this.sizeHighWaterBytes = Math.max(this.sizeHighWaterBytes, this.kv.sizeInUseBytes);
    for (const rs of rd.readStates) this.reads.onReadState(rs);
    this.node.advance(rd);
    this.reads.onApplied();
    this.applyWait.onApplied();
  }

  private persist(rd: Ready): void {
    // Snapshots need a compacted log, which a member in memory never makes.
    assert(rd.snapshot === undefined, "member: unexpected snapshot in Ready");
    const memory = this.storage as MemoryStorage;
    this.observeAppend(rd);
    if (rd.entries.length > 0) memory.append(rd.entries);
    this.observeHardState(rd);
    if (rd.hardState !== undefined) memory.setHardState(rd.hardState);
  }

  private observeAppend(rd: Ready): void {
    const first = rd.entries[0];
    if (first === undefined) return;
    this.o.observer?.onAppend(rd.entries, this.termAt(first.index - 1) ?? 0);
  }

  private observeHardState(rd: Ready): void {
    if (rd.hardState === undefined) return;
    this.o.observer?.onHardState(rd.hardState, (i) => this.entryAt(i), this.snapshotIndex());
  }

  // ---- the durable Ready loop -------------------------------------------------------------------

  /**
   * Takes one Ready while none is in flight: persist it, and only once that is durable send its
   * messages, install its snapshot, apply its entries and advance — except that a leader sends,
   * and a member applies committed entries already on its disk, before the write (see below). Raft
   * keeps stepping messages and ticks meanwhile and hands the new work out in the next Ready.
   */
  private drainDurable(): void {
    if (this.persisting || !this.node.hasReady()) return;
    const durable = this.o.durable as MemberDurability;
    const rd = this.node.ready();
    this.persisting = true;
    const fp = durable.failpoints;
    // Storage passes raftBeforeSave and raftAfterSave around the write.
    const persist = () =>
      durable.storage.persist(
        {
          entries: rd.entries,
          mustSync: rd.mustSync,
          hardState: rd.hardState,
          snapshot: rd.snapshot,
        },
        (persisted) => {
          if (this.stopped) return;
          if (!persisted.ok) return this.storageFailed(persisted.error);
          this.afterPersist(rd, fp, early);
        },
      );
    // A leader sends before it writes, as etcd's does: its appends replicate while its own disk
    // syncs, and raft counts the leader's entries toward a commit only once they are persisted.
    // Its term and vote were persisted when it campaigned, so nothing it says depends on this write.
    const leading = (rd.softState?.raftState ?? this.role) === "StateLeader";
    // Every entry a steady leader's Ready commits is on its disk already: followers can only have
    // acknowledged entries sent in earlier Readys, each persisted before the next Ready is taken.
    // So it applies the normal ones now, as etcd applies while it persists, and answers its
    // clients one fsync sooner (conf changes keep their place after the write).
    // A follower does the same with committed entries already on its own disk (never those this
    // Ready writes: its commit index may run ahead of its log).
    const steady = rd.softState === undefined && rd.snapshot === undefined;
    const applyNow = steady ? durablePrefix(rd.committedEntries, this.storage.lastIndex()) : 0;
    const early = { sent: leading && rd.messages.length > 0, applied: applyNow };
    if (!early.sent && applyNow === 0) return persist();
    if (fp.quiet) {
      // No failpoint armed: the same work in the same order as the steps below, run directly.
      if (applyNow > 0 && leading) this.observeHardState(rd);
      if (early.sent) this.sendAll(rd.messages);
      for (let i = 0; i < applyNow; i++) this.applyEntry(rd.committedEntries[i] as Entry);
      if (!this.stopped) persist();
      return;
    }
    const steps: Step[] = [];
    if (early.sent) steps.push(this.sendStep(rd.messages, fp, true));
    if (applyNow > 0) {
      // A leader's commit is decided now; observers hear of it before anything applies it.
      if (leading) this.observeHardState(rd);
      steps.push(...this.applySteps(rd.committedEntries.slice(0, applyNow), fp));
    }
    runSteps(steps, () => {
      if (!this.stopped) persist();
    });
  }

  private afterPersist(
    rd: Ready,
    fp: Failpoints,
    early: { readonly sent: boolean; readonly applied: number },
  ): void {
    this.observeAppend(rd);
    this.observeHardState(rd);
    if (rd.softState !== undefined) this.onSoftState(rd.softState.raftState, rd.softState.lead);
    const snapshot = rd.snapshot;
    if (fp.quiet && snapshot === undefined) {
      // No failpoint armed: the same work in the same order as the steps below, run directly.
      if (!early.sent) this.sendAll(rd.messages);
      const committed = rd.committedEntries;
      for (let i = early.applied; i < committed.length; i++) this.applyEntry(committed[i] as Entry);
      return this.completeReady(rd);
    }
    const steps: Step[] = [];
    if (!early.sent && rd.messages.length > 0) steps.push(this.sendStep(rd.messages, fp, false));
    if (snapshot !== undefined) steps.push(this.installStep(snapshot, fp));
    steps.push(...this.applySteps(rd.committedEntries.slice(early.applied), fp));
    runSteps(steps, () => this.completeReady(rd));
  }

  /** The Ready's work is done: advance raft and take the next one. */
  private completeReady(rd: Ready): void {
    if (this.stopped) return;
    this.finishReady(rd);
    this.persisting = false;
    this.maybeSnapshot();
    this.pump();
  }

  private applySteps(entries: readonly Entry[], fp: Failpoints): Step[] {
    return entries.map(
      (e): Step =>
        (next) =>
          fp.pass("beforeApply", () => {
            this.applyEntry(e);
            fp.pass("afterApply", next);
          }),
    );
  }

  private sendStep(messages: readonly Message[], fp: Failpoints, leader: boolean): Step {
    const before = leader ? "raftBeforeLeaderSend" : "raftBeforeFollowerSend";
    const after = leader ? "raftAfterLeaderSend" : "raftAfterFollowerSend";
    return (next) =>
      fp.pass(before, () => {
        this.sendAll(messages);
        fp.pass(after, next);
      });
  }

  private sendAll(messages: readonly Message[]): void {
    if (messages.length === 0) return;
    for (const m of coalesceMessages(messages)) this.sendRaft(m);
  }

  /** A leader's snapshot replaces the state machine: the applied index jumps to it. */
  private installStep(snapshot: Snapshot, fp: Failpoints): Step {
    return (next) =>
      fp.pass("raftBeforeApplySnap", () => {
        const failed = this.restoreSnapshot(snapshot);
        if (failed !== undefined) return this.raiseCorrupt(failed);
        this.durabilityStats.snapshotsInstalled++;
        this.o.observer?.onRestore?.(snapshot.metadata.index);
        this.o.onRestore?.(snapshot.metadata.index);
        fp.pass("raftAfterApplySnap", next);
      });
  }

  /** Every `snapshotCount` applied entries: snapshot the applied state and compact the log. */
  private maybeSnapshot(): void {
    const durable = this.o.durable;
    if (durable === undefined || this.snapshotting || this.stopped) return;
    const index = this.applied;
    if (!shouldSnapshot(index, this.snapshotIndex(), durable.snapshotCount)) return;
    this.snapshotting = true;
    const data = encodeMemberSnapshot({
      consistentIndex: index,
      kv: this.kv,
      lessor: this.lessor.exportState(),
      membership: this.membership,
      appliedIds: this.appliedIds.list(),
      alarms: this.alarmStore,
      auth: this.authStore,
    });
    // The configuration applied up to `index`: a member restored from the snapshot starts in it.
    const confState = this.node.status().config;
    durable.storage.createSnapshot(index, confState, data, (created) => {
      if (this.stopped) return;
      if (!created.ok) return this.storageFailed(created.error);
      this.durabilityStats.snapshotsCreated++;
      durable.storage.compact(compactIndexFor(index, durable.catchUpEntries), (compacted) => {
        if (this.stopped) return;
        this.snapshotting = false;
        if (!compacted.ok) return this.storageFailed(compacted.error);
        this.durabilityStats.compactions++;
        this.pump();
      });
    });
  }

  /**
   * Replaces the state machine with a snapshot's (at start, or a leader's MsgSnap). Data that
   * passed its checksum but does not parse is corruption: the reason is returned, nothing changed.
   */
  private restoreSnapshot(snapshot: Snapshot): string | undefined {
    const decoded = decodeMemberSnapshot(snapshot.data, this.kvOptions());
    if (!decoded.ok) return `snapshot ${snapshot.metadata.index}: ${decoded.error}`;
    const parts = decoded.value;
    assert(
      parts.consistentIndex === snapshot.metadata.index,
      () => `snapshot ${snapshot.metadata.index} holds state at ${parts.consistentIndex}`,
    );
    if (this.lessor.isPrimary) this.lessor.demote();
    this.store = this.wireStore(parts.kv);
    this.lessor.restore(parts.lessor, this.liveLeasedKeys());
    this.membership = parts.membership;
    this.alarmStore = parts.alarms;
    this.authStore = parts.auth;
    this.sizeHighWaterBytes = Math.max(this.sizeHighWaterBytes, parts.kv.sizeInUseBytes);
    // Watchers were synced to the old store: their streams close, clients open new ones.
    for (const w of this.watches.splice(0)) w.stream.close();
    this.watchableStore = this.newWatchable();
    this.appliedIds = new RecentIds(APPLIED_IDS_REMEMBERED);
    for (const id of parts.appliedIds) this.appliedIds.add(id);
    this.applied = parts.consistentIndex;
    return undefined;
  }

  private reportSnapshot(to: NodeId, success: boolean): void {
    if (this.stopped || this.corruptReason !== undefined) return;
    if (success) this.durabilityStats.snapshotReports.ok++;
    else this.durabilityStats.snapshotReports.failed++;
    this.node.reportSnapshot(to, success);
  }

  /**
   * Storage failed: the member must not go on as if the data were durable. Corruption raises the
   * CORRUPT alarm; any other failure stops the member silently, and the process dies.
   */
  private storageFailed(failure: StorageFailure): void {
    const reason = describeFailure(failure);
    if (failure.kind === "corrupt") {
      this.raiseCorrupt(reason);
      this.o.durable?.onCorrupt?.(reason);
      return;
    }
    this.halt();
    this.o.durable?.onFatal(reason);
  }

  /** Stops everything without answering anyone: what a process death looks like to clients. */
  private halt(): void {
    this.stopped = true;
    for (const t of this.timers) this.o.env.timers.cancel(t);
    this.snapshotReports?.clear();
  }

  private markCorrupt(reason: string): void {
    this.corruptReason = reason;
    this.alarmList.push("CORRUPT");
  }

  private raiseCorrupt(reason: string): void {
    if (this.corruptReason !== undefined) return;
    this.markCorrupt(reason);
    for (const t of this.timers) this.o.env.timers.cancel(t);
    this.snapshotReports?.clear();
    if (this.lessor.isPrimary) this.lessor.demote();
    // Requests waiting for an answer get ErrCorrupt, never data.
    this.waits.failAll(Errors.Corrupt);
    this.memberWaits.failAll(Errors.Corrupt);
    this.leaseRequests.failAll(Errors.Corrupt);
    this.applyWait.failAll(Errors.Corrupt);
    this.reads.failAll(Errors.Corrupt);
    // Watchers are canceled, not left waiting: a corrupt member never sends another event, and
    // its clients must move to a healthy member.
    for (const w of this.watches.splice(0)) {
      const ids = w.stream.watchIds();
      w.stream.close();
      if (ids.length > 0)
        this.replies.push(() =>
          w.onResponses(ids.map((id) => this.canceledWatch(id, Errors.Corrupt))),
        );
    }
    if (!this.pumping) this.runReplies();
  }

  /** A watch canceled because this member cannot serve it, with etcd's error as the reason. */
  private canceledWatch(watchId: number, reason: EtcdError | string): WatchResponse {
    return {
      header: this.header(this.kv.currentRevision),
      watch_id: watchId,
      created: false,
      canceled: true,
      compact_revision: 0,
      cancel_reason: typeof reason === "string" ? reason : reason.message,
      fragment: false,
      events: [],
    };
  }

  private snapshotIndex(): number {
    const snap = this.storage.snapshot();
    return typeof snap === "object" ? snap.metadata.index : 0;
  }

  private kvOptions(): { maxTxnOps: number; leaseExists: (id: LeaseId) => boolean } {
    return { maxTxnOps: this.config.maxTxnOps, leaseExists: (id) => this.lessor.has(id) };
  }

  private wireStore(kv: KvStore): KvStore {
    kv.onCommit((txn) => this.lessor.applyKvEvents(txn.events));
    const listener = this.o.onCommit;
    if (listener !== undefined) kv.onCommit(listener);
    return kv;
  }

  private newWatchable(): WatchableStore {
    return new WatchableStore(this.store, {
      maxResponseBytes: this.config.maxRequestBytes,
      maxQueuedResponses: this.config.watchMaxQueuedResponses,
    });
  }

  /** Every live key with a lease, for the lessor's attachments after a restore. */
  private liveLeasedKeys(): { key: Uint8Array; lease: LeaseId }[] {
    const got = this.store.range({ key: new Uint8Array([0]), range_end: new Uint8Array([0]) });
    assert(got.ok, "range of every key failed");
    return got.value.kvs.filter((kv) => kv.lease !== 0n);
  }

  private sendRaft(m: Message): void {
    assert(m.to !== this.id, () => `member ${this.id} sent ${m.type} to itself`);
    if (m.type === "MsgSnap") {
      this.durabilityStats.snapshotsSent++;
      this.snapshotReports?.sent(m.to, m.snapshot?.metadata.index ?? 0);
    }
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
      this.o.observer?.onLeader(status.hardState.term, (i) => this.termAt(i), this.snapshotIndex());
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
    if (e.type !== "EntryNormal") return this.applyConfEntry(e);
    if (e.data.length === 0) return;
    const decoded = (this.o.decodeEntry ?? decodeInternalRequest)(e.data);
    assert(decoded.ok, () => `entry ${e.index}: ${decoded.ok ? "" : decoded.error}`);
    const req = decoded.value;
    // A proposal forwarded to the leader can reach it twice (the peer transport may duplicate a
    // MsgProp) and then sits in the log twice; only its first copy takes effect.
    if (!this.appliedIds.add(req.id)) return;
    this.waits.trigger(req.id, applyRequest(this, req));
  }

  /**
   * A committed conf change: checked against the member list as it is now, so every member
   * decides alike; raft applies it (or, refused, a change of node 0, which raft ignores: it must
   * see every conf change entry once), then the list, and the proposer gets the result.
   */
  private applyConfEntry(e: Entry): void {
    const cc = decodeConfChange(e.type, e.data);
    assert(cc !== undefined, () => `entry ${e.index}: not a conf change`);
    const change = cc.context.length === 0 ? undefined : decodeMemberChange(cc.context);
    // Only a leave-joint request from raft itself carries no member change; detcd never enters one.
    if (change === undefined || cc.kind !== "ConfChange") {
      this.node.applyConfChange(cc);
      return;
    }
    const ignored = { ...cc, nodeId: 0 };
    // A duplicated proposal (see applyEntry): its first copy already took effect.
    if (!this.appliedIds.add(change.requestId)) {
      this.node.applyConfChange(ignored);
      return;
    }
    const valid = this.membership.validate(change);
    if (!valid.ok) {
      this.node.applyConfChange(ignored);
      return this.memberWaits.trigger(change.requestId, valid);
    }
    const applied = this.node.applyConfChange(cc);
    // Raft refuses to remove the last voter: the cluster would have no one left to commit.
    if (!applied.ok)
      return this.memberWaits.trigger(change.requestId, err(Errors.MemberNotEnoughStarted));
    this.membership.apply(change);
    const member = this.membership.get(change.member.id) ?? change.member;
    this.memberWaits.trigger(change.requestId, ok({ member, members: this.membership.list() }));
    if (change.action === "remove" && change.member.id === this.id) this.stopRemoved();
  }

  /** This member was removed: it stops after a few ticks, in which its peers learn the commit. */
  private stopRemoved(): void {
    const delayMs = REMOVED_STOP_DELAY_TICKS * this.config.heartbeatMs;
    this.timers.push(
      this.o.env.timers.schedule(delayMs, () => {
        if (!this.stopped) this.stop();
      }),
    );
  }

  private flushWatches(): void {
    // Most passes of the Ready loop find nothing queued: allocate only when some stream has events.
    let due: OpenWatch[] | undefined;
    for (const w of this.watches) if (w.stream.queued > 0) (due ??= []).push(w);
    if (due === undefined) return;
    for (const w of due) {
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
      applied: this.applied,
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
      member_id: this.memberIdBig,
      revision,
      raft_term: this.node.term(),
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

/** A member id from a request; ids beyond any member's (and so not found) become 0. */
function memberIdOf(ID: bigint): NodeId {
  return ID > 0n && ID < 512n ? Number(ID) : 0;
}

/** The change target for an id the list does not hold: validate() answers MemberNotFound. */
function unknownMember(id: NodeId): MemberInfo {
  return { id, name: "", peerURLs: [], clientURLs: [], isLearner: false };
}

function clusterMembers(members: readonly MemberInfo[]): ClusterMember[] {
  return members.map(toClusterMember);
}

/** etcd's AlarmRequest, with the member id as etcd's uint64. */
export interface AlarmChangeRequest {
  readonly action: "GET" | "ACTIVATE" | "DEACTIVATE";
  readonly memberID: bigint;
  readonly alarm: AlarmName | "NONE";
}

export interface AlarmChangeResponse {
  header: ResponseHeader;
  alarms: { memberID: bigint; alarm: AlarmName }[];
}

function toAlarmMember(a: RaisedAlarm): { memberID: bigint; alarm: AlarmName } {
  return { memberID: BigInt(a.memberID), alarm: a.alarm };
}

function sameStrings(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * How many of `committed` (in index order) may apply before the Ready's write: the normal entries
 * at or below `persistedIndex`, up to the first that is not one.
 */
function durablePrefix(committed: readonly Entry[], persistedIndex: number): number {
  let n = 0;
  while (n < committed.length) {
    const e = committed[n] as Entry;
    if (e.index > persistedIndex || e.type !== "EntryNormal") break;
    n++;
  }
  return n;
}
