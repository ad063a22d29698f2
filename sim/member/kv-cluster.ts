// N etcd members on one simulated world. Peers and clients share one SimNetwork, so client traffic
// suffers the same faults as Raft traffic. Each member has its own SimHost (clock, timers,
// up/paused/down) and either a MemoryStorage that survives a crash (a restarted member is a new
// Member on the old storage, which re-applies the committed log) or, with `disk`, a SimDisk: a
// crash loses what was not fsynced, a restart recovers through DiskStorage (WAL and the newest
// valid snapshot), and a member whose data fails its checksums comes back with the CORRUPT alarm.
//
// Membership is dynamic. A slot is a machine with a name (m1, m2, ...), a host, a network
// endpoint and a disk; it holds one Raft member at a time. The initial members have ids 1..N; a
// member that MemberAdd added (with the id the cluster chose) joins on a new slot, or on the slot of
// a member it replaces, whose data was wiped. Peer messages carry the sender's and the receiver's
// ids, so a message to or from an earlier member of a slot never reaches the new one. The cluster
// follows the committed member list from the log (as the first member to apply each entry applied
// it): the clients' endpoints are its started voters; a removed member stops once it applied its
// removal, or when a peer that applied it refuses its messages (etcd's peer transport answers a
// removed member so), and its process then exits for good.
import { assert, unreachable } from "../../src/lib/assert.js";
import { bytesToLatin1 } from "../../src/lib/bytes.js";
import type { Result } from "../../src/lib/result.js";
import type { EtcdError } from "../../src/api/errors.js";
import type { AuthInfo, AuthRequest, AuthResponses } from "../../src/api/auth.js";
import type {
  MemberAddRequest,
  MemberAddResponse,
  MemberListRequest,
  MemberListResponse,
  MemberPromoteRequest,
  MemberPromoteResponse,
  MemberRemoveRequest,
  MemberRemoveResponse,
} from "../../src/api/cluster.js";
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
  TxnRequest,
  TxnResponse,
  WatchRequest,
  WatchResponse,
} from "../../src/api/rpc.js";
import { Failpoints, type FailpointName } from "../../src/lib/failpoints.js";
import { decodeConfChange, MemoryStorage } from "../../src/raft/index.js";
import type { ConfState, Entry, NodeId } from "../../src/raft/types.js";
import { DiskStorage, describeFailure, type Recovered } from "../../src/storage/index.js";
import { foldApplied, type AppliedSummary } from "../check/raft-safety.js";
import { SimDisk, type CrashMode, type SimDiskFaults } from "../disk.js";
import { FencedDisk } from "./fenced-disk.js";
import type { MemberConfig } from "../../src/server/config.js";
import {
  decodeMemberChange,
  Membership,
  type MemberChange,
  type MemberInfo,
} from "../../src/server/membership.js";
import {
  Member,
  type MemberOptions,
  type MemberWatch,
  type RaftObserver,
} from "../../src/server/member.js";
import type { MemberMessage } from "../../src/server/messages.js";
import type { Event } from "../../src/api/kv.js";
import { RaftSafetyChecker } from "../check/raft-safety.js";
import { Violations } from "../check/violation.js";
import { SimNetwork, type LinkFaults } from "../net.js";
import { SimHost } from "../sim-host.js";
import { digestBytes, digestWords, hashString } from "../trace-hash.js";
import type { World } from "../world.js";
import { sharedEntryDecoder, type EntryDecoder } from "./entry-decoder.js";

/** A client request, one per etcd RPC the simulated clients use. */
export type ClientRequest =
  | { readonly kind: "range"; readonly request: RangeRequest }
  | { readonly kind: "put"; readonly request: PutRequest }
  | { readonly kind: "delete-range"; readonly request: DeleteRangeRequest }
  | { readonly kind: "txn"; readonly request: TxnRequest }
  | { readonly kind: "compaction"; readonly request: CompactionRequest }
  | { readonly kind: "lease-grant"; readonly request: LeaseGrantRequest }
  | { readonly kind: "lease-revoke"; readonly request: LeaseRevokeRequest }
  | { readonly kind: "lease-keepalive"; readonly request: LeaseKeepAliveRequest }
  | { readonly kind: "lease-timetolive"; readonly request: LeaseTimeToLiveRequest }
  | { readonly kind: "lease-leases"; readonly request: LeaseLeasesRequest }
  | { readonly kind: "hash-kv"; readonly request: HashKVRequest }
  | { readonly kind: "member-add"; readonly request: MemberAddRequest }
  | { readonly kind: "member-remove"; readonly request: MemberRemoveRequest }
  | { readonly kind: "member-promote"; readonly request: MemberPromoteRequest }
  | { readonly kind: "member-list"; readonly request: MemberListRequest }
  | { readonly kind: "auth"; readonly request: AuthRequest };

export type ClientResponse =
  | { readonly kind: "range"; readonly response: RangeResponse }
  | { readonly kind: "put"; readonly response: PutResponse }
  | { readonly kind: "delete-range"; readonly response: DeleteRangeResponse }
  | { readonly kind: "txn"; readonly response: TxnResponse }
  | { readonly kind: "compaction"; readonly response: CompactionResponse }
  | { readonly kind: "lease-grant"; readonly response: LeaseGrantResponse }
  | { readonly kind: "lease-revoke"; readonly response: LeaseRevokeResponse }
  | { readonly kind: "lease-keepalive"; readonly response: LeaseKeepAliveResponse }
  | { readonly kind: "lease-timetolive"; readonly response: LeaseTimeToLiveResponse }
  | { readonly kind: "lease-leases"; readonly response: LeaseLeasesResponse }
  | { readonly kind: "hash-kv"; readonly response: HashKVResponse }
  | { readonly kind: "member-add"; readonly response: MemberAddResponse }
  | { readonly kind: "member-remove"; readonly response: MemberRemoveResponse }
  | { readonly kind: "member-promote"; readonly response: MemberPromoteResponse }
  | { readonly kind: "member-list"; readonly response: MemberListResponse }
  | { readonly kind: "auth"; readonly response: AuthResponses[AuthRequest["op"]] };

/** A watch stream request from a client; "close" ends the stream (the connection closes). */
export type WatchStreamRequest = WatchRequest | { readonly request_union: "close" };

/** Everything on the simulated wire. */
export type NetMessage =
  | {
      readonly type: "peer";
      /** The sender's and receiver's Raft ids (absent: taken from the endpoint names). */
      readonly from?: NodeId;
      readonly to?: NodeId;
      readonly message: MemberMessage;
    }
  /** A peer refused a message from `id`, which it knows as removed; `id` stops on hearing it. */
  | { readonly type: "removed"; readonly id: NodeId }
  | { readonly type: "client-request"; readonly requestId: number; readonly request: ClientRequest }
  | {
      readonly type: "client-response";
      readonly requestId: number;
      readonly result: Result<ClientResponse, EtcdError>;
    }
  | {
      readonly type: "watch-request";
      readonly streamId: number;
      /** Position of this request on its stream, from 0 (see SimKvMember.streams). */
      readonly seq: number;
      readonly request: WatchStreamRequest;
    }
  | {
      readonly type: "watch-response";
      readonly streamId: number;
      /** Position of this message on its stream, from 0: the client detects loss and duplicates. */
      readonly seq: number;
      readonly responses: readonly WatchResponse[];
    };

export interface KvClusterOptions {
  readonly members: number;
  readonly heartbeatMs: number;
  readonly electionMs: number;
  readonly link: LinkFaults;
  readonly memberConfig?: Partial<MemberConfig>;
  /** Members on simulated disks (absent: the Raft log in memory, never lost). */
  readonly disk?: KvDiskOptions;
  /**
   * The user each client endpoint acts as (absent, or undefined for a client: no credentials).
   * A member takes the credentials' auth revision when the request arrives, as it does for a
   * certificate's user or a simple token.
   */
  readonly users?: (client: string) => string | undefined;
}

export interface KvDiskOptions {
  /** Applied entries between two snapshots (etcd's --snapshot-count). */
  readonly snapshotCount: number;
  /** Entries kept below a snapshot for slow followers. */
  readonly catchUpEntries: number;
  readonly segmentBytes: number;
  /** The crash mode of every crash; undefined: drawn from the member's disk stream. */
  readonly crashMode?: CrashMode;
  readonly diskFaults?: Partial<SimDiskFaults>;
  /** A member that died by itself (storage failure, crash failpoint) restarts after this long. */
  readonly restartAfterMs: number;
}

/** What happened to one member's durable life, for tests and reports. */
export interface KvDurabilityStats {
  crashes: number;
  restarts: number;
  crashModes: Partial<Record<CrashMode, number>>;
  failpointCrashes: FailpointName[];
  storageFailures: string[];
  /** The applied index each recovery started from (its snapshot's). */
  recoveredFromIndex: number[];
  /** The index of each leader's snapshot the slot's members installed (catch-up by snapshot). */
  installedSnapshots: number[];
}

/** The member's data directory on its disk. */
export const KV_DATA_DIR = "data";

export function memberName(id: NodeId): string {
  return `m${id}`;
}

function memberIdOf(name: string): NodeId | undefined {
  const id = /^m(\d+)$/.exec(name)?.[1];
  return id === undefined ? undefined : Number(id);
}

function messageDigest(m: NetMessage): number {
  switch (m.type) {
    case "peer": {
      const p = m.message;
      if (p.type !== "raft") return digestWords(hashString(p.type), p.forwardId);
      const r = p.message;
      const data = r.entries.reduce((h, e) => digestWords(h, digestBytes(e.data)), 0);
      return digestWords(hashString(r.type), r.from, r.to, r.term, r.index, r.commit, data);
    }
    case "removed":
      return digestWords(hashString(m.type), m.id);
    case "client-request":
      return digestWords(hashString(m.request.kind), m.requestId);
    case "client-response":
      return digestWords(m.requestId, m.result.ok ? m.result.value.response.header.revision : 0);
    case "watch-request":
      return digestWords(hashString(m.request.request_union), m.streamId, m.seq);
    case "watch-response":
      return digestWords(m.streamId, m.seq, m.responses.length);
    default:
      return unreachable(m, "net message");
  }
}

function messageKind(m: NetMessage): string {
  if (m.type === "peer") return m.message.type === "raft" ? m.message.message.type : m.message.type;
  return m.type;
}

interface ServedStream {
  readonly watch: MemberWatch | undefined;
  /** The next response's position. */
  responseSeq: number;
  /** The next request's position. */
  requestSeq: number;
}

/**
 * What a slot holds: a member of the cluster (up or down); a member whose removal is committed and
 * whose process still runs until it stops; or nothing any more (its process exited for good, and a
 * replacement may start on the slot).
 */
export type SlotPhase = "member" | "removed" | "retired";

/**
 * How a removed member's process ended: its member stopped after applying its removal; a peer
 * that had applied it refused its messages, and it stopped; it was down when removed; or the
 * operator stopped it to replace it.
 */
export type SlotExit = "stopped" | "refused" | "down" | "decommissioned";

/** The configuration of a fresh log: the initial cluster's voters. */
function initialConfState(voters: readonly NodeId[]): ConfState {
  return {
    voters: [...voters],
    learners: [],
    votersOutgoing: [],
    learnersNext: [],
    autoLeave: false,
  };
}

/**
 * One member slot, a machine: its host, endpoint and disk outlive the members it holds; its
 * storage lives across crashes; `member` exists while not down.
 */
export class SimKvMember {
  member: Member | undefined;
  /** How many times a Member was started on this slot since its current member joined. */
  incarnation = 0;
  /** The Raft id of the slot's current member (a replacement gets a new one). */
  id: NodeId;
  /** Which member of the slot this is: 1 for the first, 2 after one replacement, ... */
  life = 1;
  phase: SlotPhase = "member";
  /** How the slot's last removed member exited (undefined while its member is one). */
  exit: SlotExit | undefined;
  storage: MemoryStorage;
  /**
   * Watch streams served here, by "client/streamId"; lost with a crash. A stream behaves like the
   * connection it stands for: requests are taken in order, once; a missing request breaks it (it
   * goes silent and the client reconnects).
   */
  readonly streams = new Map<string, ServedStream>();
  /**
   * The highest request id taken from each client. A client has one request in flight, so an id at
   * or below it is a network duplicate or a late copy; like a connection, the member takes each
   * request once.
   */
  readonly lastRequestId = new Map<string, number>();
  /** The member's disk (disk mode), which outlives its crashes. */
  disk: SimDisk | undefined;
  /** The disk as the current life sees it; fenced when the life ends. */
  fenced: FencedDisk | undefined;
  /** The member's failpoints (their hooks belong to the cluster). */
  failpoints: Failpoints = new Failpoints();
  /** The restart delay of the next supervised restart (a crash-at fault's), once. */
  restartAfterMs: number | undefined;
  /** Why the member raised the CORRUPT alarm, if it did. */
  corrupt: string | undefined;
  readonly durability: KvDurabilityStats = {
    crashes: 0,
    restarts: 0,
    crashModes: {},
    failpointCrashes: [],
    storageFailures: [],
    recoveredFromIndex: [],
    installedSnapshots: [],
  };

  constructor(
    id: NodeId,
    readonly name: string,
    readonly host: SimHost,
    private readonly peers: readonly NodeId[],
  ) {
    this.id = id;
    this.storage = new MemoryStorage({ confState: initialConfState(peers) });
  }

  get up(): boolean {
    return this.host.state !== "down" && this.member !== undefined;
  }

  /** The slot takes a new member `id` after its earlier one retired: empty storage, no alarm. */
  renew(id: NodeId): void {
    assert(this.phase === "retired" && this.member === undefined, () => `${this.name} is in use`);
    this.id = id;
    this.life++;
    this.phase = "member";
    this.exit = undefined;
    this.incarnation = 0;
    this.storage = new MemoryStorage({ confState: initialConfState(this.peers) });
    this.streams.clear();
    this.corrupt = undefined;
    this.restartAfterMs = undefined;
  }
}

/**
 * Every committed revision's events, in revision order, as the members applied them: the truth the
 * watch checks compare against (the stores themselves forget compacted revisions). Each revision is
 * taken from the first member that applies it; members that apply it again (a restarted member
 * replays its log) add nothing.
 */
export class CommittedLog {
  readonly revisions: { readonly revision: number; readonly events: readonly Event[] }[] = [];

  get lastRevision(): number {
    return this.revisions[this.revisions.length - 1]?.revision ?? 1;
  }

  record(revision: number, events: readonly Event[]): void {
    if (revision <= this.lastRevision) return;
    this.revisions.push({ revision, events });
  }

  /** The events with revision in [from, to], in order. */
  events(from: number, to: number): Event[] {
    return this.revisions
      .filter((r) => r.revision >= from && r.revision <= to)
      .flatMap((r) => r.events);
  }
}

export class KvCluster {
  readonly network: SimNetwork<NetMessage>;
  readonly committed = new CommittedLog();
  readonly violations = new Violations();
  /** Every member's (and the checks') decoder of committed entries: each entry decoded once. */
  readonly decodeEntry: EntryDecoder = sharedEntryDecoder();
  readonly checker: RaftSafetyChecker;
  /**
   * The names of the committed member list's started voters, in slot order: where clients send
   * their requests (etcd clients sync their endpoints from the member list, learners left out).
   * Updated in place, so whoever holds the array sees each change.
   */
  readonly endpoints: string[];
  private readonly all: SimKvMember[];
  /** The initial cluster's ids: every member's first configuration, and the cluster id. */
  private readonly initialIds: NodeId[];
  /** Every id a slot ever held, with that slot: routing, and dropping an earlier member's mail. */
  private readonly slotOfId = new Map<NodeId, SimKvMember>();
  /** The committed member list, as the first member to apply each entry applied it. */
  private readonly membership: Membership;
  /** The last entry the member list has followed (every entry, in index order). */
  private membershipIndex = 0;
  /** Request ids of the member changes applied: a duplicated proposal takes effect once. */
  private readonly appliedChanges = new Set<number>();
  /** Each removed id, with the index of the entry that removed it. */
  private readonly removedAtIndex = new Map<NodeId, number>();
  /** The number of the machine the next added member gets (m4 after m1..m3). */
  private nextMachine: number;
  /** The state every member reaches at each applied index (disk mode: for the safety checker). */
  private readonly summaries: AppliedSummary[] = [{ index: 0, proposals: 0, digest: 0 }];
  /** Every applied entry, by index (disk mode: the log survives compaction only here). */
  private readonly appliedEntries: Entry[] = [];

  constructor(
    readonly world: World,
    readonly options: KvClusterOptions,
  ) {
    this.network = new SimNetwork<NetMessage>(world, {
      defaults: options.link,
      digest: messageDigest,
      kind: messageKind,
    });
    this.checker = new RaftSafetyChecker(this.violations, () => world.nowMs);
    this.initialIds = Array.from({ length: options.members }, (_, i) => i + 1);
    this.membership = Membership.initial(this.initialIds);
    this.nextMachine = options.members + 1;
    this.all = this.initialIds.map((id) => this.newSlot(id, memberName(id)));
    this.endpoints = this.all.map((s) => s.name);
    for (const slot of this.all) this.boot(slot);
  }

  private newSlot(id: NodeId, name: string): SimKvMember {
    const slot = new SimKvMember(id, name, new SimHost(this.world, name), this.initialIds);
    this.network.attach(name, (from, m) => slot.host.run(() => this.deliver(slot, from, m)));
    if (this.options.disk !== undefined) this.attachDisk(slot, this.options.disk);
    this.slotOfId.set(id, slot);
    return slot;
  }

  /** Every slot, in the order the machines joined (removed and retired ones too). */
  get slots(): readonly SimKvMember[] {
    return this.all;
  }

  /** Whether the cluster's members live on simulated disks. */
  get durable(): boolean {
    return this.options.disk !== undefined;
  }

  /** Members that raised the CORRUPT alarm: they serve nothing and checks leave them out. */
  corruptNames(): string[] {
    return this.all.filter((s) => s.corrupt !== undefined).map((s) => s.name);
  }

  /**
   * The committed entries from index 1, as far as known: the most advanced member's log in
   * memory mode, every applied entry in disk mode (members compact their logs).
   */
  committedEntries(): Entry[] {
    if (this.durable) return this.appliedEntries.filter((e) => e !== undefined);
    const best = this.all.reduce((a, b) =>
      b.storage.initialState().hardState.commit > a.storage.initialState().hardState.commit ? b : a,
    );
    const commit = best.storage.initialState().hardState.commit;
    const entries = best.storage.entries(1, commit + 1, Number.POSITIVE_INFINITY);
    return typeof entries === "string" ? [] : entries;
  }

  /** The slots that hold a member of the cluster, up or down (not removed ones): fault targets. */
  get names(): string[] {
    return this.all.filter((s) => s.phase === "member").map((s) => s.name);
  }

  slot(name: string): SimKvMember {
    const s = this.all.find((x) => x.name === name);
    assert(s !== undefined, () => `no member ${name}`);
    return s;
  }

  /** The slot whose current member has Raft id `id`, if any. */
  slotById(id: NodeId): SimKvMember | undefined {
    const slot = this.slotOfId.get(id);
    return slot?.id === id ? slot : undefined;
  }

  /** The committed member list (ids, names once published, learner flags), by id. */
  committedMembers(): MemberInfo[] {
    return this.membership.list();
  }

  /** Whether the committed member list holds `name`'s current member as a learner. */
  isLearner(name: string): boolean {
    return this.membership.get(this.slot(name).id)?.isLearner === true;
  }

  /** The machine name of the next member added on a new slot: m4 after m1..m3, and so on. */
  reserveName(): string {
    return memberName(this.nextMachine++);
  }

  /**
   * Starts the member MemberAdd added as `id` on machine `name` (etcd's
   * --initial-cluster-state=existing): on a new slot with a fresh disk, or on the retired slot of
   * the member it replaces (see decommission). It starts from the initial cluster's configuration
   * with an empty log, and catches up from the leader through the log or a snapshot.
   */
  join(name: string, id: NodeId): SimKvMember {
    assert(!this.slotOfId.has(id), () => `member ${id} joined already`);
    let slot = this.all.find((s) => s.name === name);
    if (slot === undefined) {
      slot = this.newSlot(id, name);
      this.all.push(slot);
    } else {
      slot.renew(id);
      this.slotOfId.set(id, slot);
      this.checker.onReplaced(name);
      slot.host.restart();
    }
    this.boot(slot);
    return slot;
  }

  /**
   * An operator takes the machine of a removed member out for its replacement: the process is
   * stopped if it still runs, and its data is wiped; `join` may then start a new member there.
   */
  decommission(name: string): void {
    const slot = this.slot(name);
    if (slot.phase !== "retired") this.retire(slot, "decommissioned");
    slot.disk?.wipe();
  }

  /** The slot's process exits for good. */
  private retire(slot: SimKvMember, exit: SlotExit): void {
    if (slot.host.state !== "down") this.stopProcess(slot);
    slot.phase = "retired";
    slot.exit ??= exit;
  }

  /** The live Member of `name`; asserts it is not down. */
  member(name: string): Member {
    const m = this.slot(name).member;
    assert(m !== undefined, () => `${name} is down`);
    return m;
  }

  /** The up member that leads in the highest term among up members, if any. */
  leader(): SimKvMember | undefined {
    let best: SimKvMember | undefined;
    let bestTerm = -1;
    let maxTerm = -1;
    for (const s of this.all) {
      if (!s.up || s.host.state !== "up" || s.phase !== "member") continue;
      const st = (s.member as Member).status();
      maxTerm = Math.max(maxTerm, st.raftTerm);
      if (st.role === "StateLeader" && st.raftTerm > bestTerm) {
        best = s;
        bestTerm = st.raftTerm;
      }
    }
    return best !== undefined && bestTerm === maxTerm ? best : undefined;
  }

  /**
   * Crashes the member; on a disk it loses what was not fsynced, as `mode` says (default: the
   * cluster's crash mode, or one drawn from the disk's stream).
   */
  crash(name: string, mode?: CrashMode, loseUnsynced = true): void {
    const slot = this.slot(name);
    if (slot.host.state === "down") return;
    this.stopProcess(slot);
    const disk = slot.disk;
    if (disk === undefined) return;
    // Only the process died: the kernel keeps its page cache and writes it back later.
    if (!loseUnsynced) {
      slot.durability.crashes++;
      return;
    }
    const lost = disk.crash(mode ?? this.options.disk?.crashMode);
    slot.durability.crashes++;
    slot.durability.crashModes[lost] = (slot.durability.crashModes[lost] ?? 0) + 1;
  }

  /** The process dies: its member, timers and connections are gone, and its disk is fenced. */
  private stopProcess(slot: SimKvMember): void {
    slot.host.crash();
    slot.member = undefined;
    slot.streams.clear();
    slot.fenced?.fence();
    slot.fenced = undefined;
  }

  /**
   * Restarts a member that is down (a no-op otherwise, and for a removed member); a corrupt
   * member stays corrupt.
   */
  restart(name: string): void {
    const slot = this.slot(name);
    if (slot.host.state !== "down" || slot.phase !== "member") return;
    slot.host.restart();
    slot.durability.restarts++;
    this.boot(slot);
  }

  private boot(slot: SimKvMember): void {
    if (slot.disk === undefined) {
      if (slot.incarnation > 0) this.checker.onRestart(slot.name, 0);
      return this.start(slot, undefined);
    }
    if (slot.corrupt !== undefined) return this.start(slot, undefined);
    this.open(slot, slot.disk);
  }

  private attachDisk(slot: SimKvMember, o: KvDiskOptions): void {
    slot.disk = new SimDisk(this.world, {
      name: `${slot.name}/disk`,
      random: this.world.stream(`disk-${slot.id}`),
      ...(o.diskFaults === undefined ? {} : { faults: o.diskFaults }),
      // Completions reach the member through its host: none while down, later while paused.
      deliver: (completion) => slot.host.run(completion),
    });
    slot.failpoints = new Failpoints({
      crash: (point) => {
        slot.durability.failpointCrashes.push(point);
        this.selfCrash(slot);
      },
      delay: (delayMs, next) => slot.host.schedule(delayMs, next),
    });
  }

  /** Recovers the member's storage, then starts it (or marks it corrupt). */
  private open(slot: SimKvMember, disk: SimDisk): void {
    const o = this.options.disk as KvDiskOptions;
    const fenced = new FencedDisk(disk);
    slot.fenced = fenced;
    const options = {
      dir: KV_DATA_DIR,
      segmentBytes: o.segmentBytes,
      failpoints: slot.failpoints,
      initialConfState: initialConfState(this.initialIds),
    };
    DiskStorage.open(fenced, options, (opened) => {
      if (!opened.ok) {
        slot.durability.storageFailures.push(describeFailure(opened.error));
        if (opened.error.kind === "corrupt") return this.markCorrupt(slot, opened.error);
        return this.selfCrash(slot);
      }
      const { storage, recovered } = opened.value;
      const bad = recovered.corruptSnapshots[0];
      if (bad !== undefined) return this.markCorrupt(slot, bad);
      this.recover(slot, storage, recovered);
    });
  }

  private recover(slot: SimKvMember, storage: DiskStorage, recovered: Recovered): void {
    const o = this.options.disk as KvDiskOptions;
    const index = recovered.appliedIndex;
    slot.durability.recoveredFromIndex.push(index);
    this.checker.onRecover(slot.name, this.summaryAt(index), recovered.hardState.commit, (i) => {
      const got = storage.entries(i, i + 1, Number.POSITIVE_INFINITY);
      return typeof got === "string" ? undefined : got[0];
    });
    this.start(slot, {
      storage,
      recovered,
      failpoints: slot.failpoints,
      snapshotCount: o.snapshotCount,
      catchUpEntries: o.catchUpEntries,
      snapshotReportTimeoutMs: this.options.electionMs,
      onFatal: (reason) => {
        slot.durability.storageFailures.push(reason);
        this.selfCrash(slot);
      },
      onCorrupt: (reason) => {
        slot.durability.storageFailures.push(reason);
        slot.corrupt = reason;
      },
    });
  }

  private markCorrupt(
    slot: SimKvMember,
    error: { readonly file: string; readonly reason: string },
  ) {
    slot.corrupt = `${error.file}: ${error.reason}`;
    this.start(slot, undefined);
  }

  /**
   * Disk mode: arms a one-shot crash at `point` on `name`; its supervisor then restarts it after
   * `restartAfterMs` (default: the disk options').
   */
  crashAt(name: string, point: FailpointName, restartAfterMs: number | undefined): void {
    const slot = this.slot(name);
    slot.restartAfterMs = restartAfterMs;
    slot.failpoints.arm(point, { action: { kind: "crash" }, times: 1 });
  }

  /** The member died by itself: it crashes now and a supervisor restarts it later. */
  private selfCrash(slot: SimKvMember): void {
    this.crash(slot.name);
    const after = slot.restartAfterMs ?? this.options.disk?.restartAfterMs ?? 0;
    slot.restartAfterMs = undefined;
    this.world.schedule(after, slot.name, "supervisor:restart", 0, () => this.restart(slot.name));
  }

  private summaryAt(index: number): AppliedSummary {
    const s = this.summaries[index];
    assert(s !== undefined, () => `no applied state known at ${index}`);
    return s;
  }

  /** Records the state at each index the first time any member applies it. */
  private recordApplied(e: Entry): void {
    if (e.index !== this.summaries.length) return;
    const prev = this.summaryAt(e.index - 1);
    const proposals = prev.proposals + (e.data.length > 0 ? 1 : 0);
    this.summaries.push({ index: e.index, proposals, digest: foldApplied(prev.digest, e) });
    this.appliedEntries[e.index - 1] = e;
  }

  private start(slot: SimKvMember, durable: MemberOptions["durable"]): void {
    const id = slot.id;
    // A restarted process draws fresh randomness (request-id and read-context epochs depend on it).
    const stream = slot.incarnation === 0 ? `member-${id}` : `member-${id}/${slot.incarnation}`;
    slot.incarnation++;
    // A member MemberAdd added starts from the initial cluster and learns the rest from the log.
    const joining = !this.initialIds.includes(id);
    const attributes = { name: slot.name, clientURLs: [`http://${slot.name}:2379`] };
    slot.member = new Member({
      id,
      peers: this.initialIds,
      ...(joining ? { joining, attributes } : {}),
      env: { clock: slot.host, timers: slot.host, random: this.world.stream(stream) },
      send: (to, message) => {
        const endpoint = this.endpointOf(to);
        if (endpoint === undefined) return;
        this.network.send(slot.name, endpoint, { type: "peer", from: id, to, message });
      },
      config: {
        heartbeatMs: this.options.heartbeatMs,
        electionMs: this.options.electionMs,
        ...this.options.memberConfig,
      },
      storage: slot.storage,
      observer: this.observer(slot),
      onCommit: (txn) => this.committed.record(txn.revision, txn.events),
      onRestore: (index) => {
        slot.streams.clear();
        slot.durability.installedSnapshots.push(index);
      },
      decodeEntry: this.decodeEntry,
      ...(durable === undefined ? {} : { durable }),
      ...(slot.corrupt === undefined ? {} : { corrupt: slot.corrupt }),
    });
  }

  private observer(slot: SimKvMember): RaftObserver {
    const c = this.checker;
    return {
      onAppend: (entries, prevTerm) => c.onAppend(slot.name, entries, prevTerm),
      onHardState: (hs, entryAt, snapshotIndex) =>
        c.onCommit(slot.name, hs.commit, entryAt, snapshotIndex, hs.term),
      onLeader: (term, termAt, snapshotIndex) => c.onLeader(slot.name, term, termAt, snapshotIndex),
      onApply: (entry) => {
        if (this.durable) this.recordApplied(entry);
        this.followMembership(entry);
        c.onApply(slot.name, entry);
      },
      onRestore: (index) => c.onRestore(slot.name, this.summaryAt(index)),
    };
  }

  /**
   * Where a message to member `id` goes: its slot's endpoint, or nowhere for an earlier member of
   * a slot. A member the cluster did not start (a test's own joiner) listens under its id's name.
   */
  private endpointOf(id: NodeId): string | undefined {
    const slot = this.slotOfId.get(id);
    if (slot !== undefined) return slot.id === id ? slot.name : undefined;
    const name = memberName(id);
    return this.all.some((s) => s.name === name) ? undefined : name;
  }

  /**
   * Follows the committed member list: each entry once, in index order, the first time a member
   * applies it, decided as the members decide (membership.ts checks, one effect per request id).
   */
  private followMembership(e: Entry): void {
    if (e.index !== this.membershipIndex + 1) return;
    this.membershipIndex = e.index;
    if (e.type === "EntryNormal") return;
    const change = memberChangeOf(e);
    if (change === undefined || this.appliedChanges.has(change.requestId)) return;
    this.appliedChanges.add(change.requestId);
    if (!this.membership.validate(change).ok || this.removesLastVoter(change)) return;
    this.membership.apply(change);
    if (change.action === "remove") this.onRemoved(change.member.id, e.index);
    this.refreshEndpoints();
  }

  /** Raft refuses to remove the last voter; the members then leave their list as it is. */
  private removesLastVoter(change: MemberChange): boolean {
    if (change.action !== "remove") return false;
    const voters = this.membership.list().filter((m) => !m.isLearner);
    return voters.length === 1 && voters[0]?.id === change.member.id;
  }

  private onRemoved(id: NodeId, index: number): void {
    this.removedAtIndex.set(id, index);
    const slot = this.slotById(id);
    if (slot === undefined || slot.phase !== "member") return;
    slot.phase = "removed";
    this.awaitExit(slot, id);
  }

  /** A removed member's process exits once the member has stopped (at once if it is down). */
  private awaitExit(slot: SimKvMember, id: NodeId): void {
    this.world.schedule(this.options.heartbeatMs, slot.name, "removed:await-exit", id, () => {
      if (slot.id !== id || slot.phase !== "removed") return;
      const member = slot.member;
      if (member === undefined) this.retire(slot, "down");
      else if (member.status().stopped) this.retire(slot, "stopped");
      else this.awaitExit(slot, id);
    });
  }

  private refreshEndpoints(): void {
    const started = (id: NodeId): boolean => {
      const m = this.membership.get(id);
      return m !== undefined && !m.isLearner && m.name !== "";
    };
    const next = this.all.filter((s) => s.phase === "member" && started(s.id)).map((s) => s.name);
    this.endpoints.splice(0, this.endpoints.length, ...next);
  }

  /**
   * Whether `member` refuses messages from `id`: it applied the removal of `id` (etcd's peer
   * transport answers a removed member's messages so, and the removed member stops).
   */
  private refuses(member: Member, id: NodeId): boolean {
    const removedAt = this.removedAtIndex.get(id);
    return removedAt !== undefined && member.consistentIndex >= removedAt;
  }

  private deliver(slot: SimKvMember, from: string, m: NetMessage): void {
    const member = slot.member;
    if (member === undefined) return;
    switch (m.type) {
      case "peer": {
        // Mail for an earlier member of this slot: that member is gone.
        if (m.to !== undefined && m.to !== slot.id) return;
        const id = m.from ?? memberIdOf(from);
        if (id === undefined) return;
        if (this.refuses(member, id)) {
          this.network.send(slot.name, from, { type: "removed", id });
          return;
        }
        member.receive(id, m.message);
        return;
      }
      case "removed":
        if (m.id !== slot.id || member.status().stopped) return;
        slot.exit = "refused";
        member.stop();
        return;
      case "client-request": {
        if ((slot.lastRequestId.get(from) ?? -1) >= m.requestId) return;
        slot.lastRequestId.set(from, m.requestId);
        return serveClient(
          member,
          m.request,
          (result) =>
            this.network.send(slot.name, from, {
              type: "client-response",
              requestId: m.requestId,
              result,
            }),
          this.callerOf(member, from),
        );
      }
      case "watch-request":
        return this.serveWatch(slot, member, from, m);
      case "client-response":
      case "watch-response":
        return; // addressed to clients only
      default:
        return unreachable(m, "net message");
    }
  }

  private serveWatch(
    slot: SimKvMember,
    member: Member,
    client: string,
    m: Extract<NetMessage, { type: "watch-request" }>,
  ): void {
    const key = `${client}/${m.streamId}`;
    let stream = slot.streams.get(key);
    if (stream === undefined) {
      if (m.seq !== 0) return; // the stream's first request was lost: it never opened
      stream = this.openStream(slot, member, client, m.streamId);
      slot.streams.set(key, stream);
    }
    if (m.seq < stream.requestSeq || stream.watch === undefined) return;
    if (m.seq > stream.requestSeq || m.request.request_union === "close") {
      // A lost request breaks the stream; a close ends it. Either way it goes silent.
      stream.watch.close();
      slot.streams.set(key, { ...stream, watch: undefined });
      return;
    }
    stream.requestSeq++;
    stream.watch.request(m.request);
  }

  private openStream(
    slot: SimKvMember,
    member: Member,
    client: string,
    streamId: number,
  ): ServedStream {
    const stream: ServedStream = { watch: undefined, responseSeq: 0, requestSeq: 0 };
    const credentials =
      this.options.users?.(client) === undefined
        ? undefined
        : () => ({ ok: true as const, value: this.callerOf(member, client) });
    const watch = member.watch((responses) => {
      const seq = stream.responseSeq++;
      this.network.send(slot.name, client, { type: "watch-response", streamId, seq, responses });
    }, credentials);
    return Object.assign(stream, { watch });
  }

  /** Who a client is, at the auth revision `member` holds now. */
  private callerOf(member: Member, client: string): AuthInfo | undefined {
    const user = this.options.users?.(client);
    return user === undefined ? undefined : { user, revision: member.auth.revision };
  }
}

/** The member change a conf change entry carries, if any. */
function memberChangeOf(e: Entry): MemberChange | undefined {
  const cc = decodeConfChange(e.type, e.data);
  if (cc === undefined || cc.kind !== "ConfChange" || cc.context.length === 0) return undefined;
  return decodeMemberChange(cc.context);
}

/** Calls the member method for `request`; `reply` gets its result. */
export function serveClient(
  member: Member,
  request: ClientRequest,
  reply: (result: Result<ClientResponse, EtcdError>) => void,
  caller?: AuthInfo,
): void {
  const as =
    <K extends ClientResponse["kind"], T>(kind: K) =>
    (result: Result<T, EtcdError>) => {
      if (!result.ok) return reply(result);
      reply({ ok: true, value: { kind, response: result.value } as unknown as ClientResponse });
    };
  const c = caller;
  switch (request.kind) {
    case "range":
      return member.range(request.request, as(request.kind), c);
    case "put":
      return member.put(request.request, as(request.kind), c);
    case "delete-range":
      return member.deleteRange(request.request, as(request.kind), c);
    case "txn":
      return member.txn(request.request, as(request.kind), c);
    case "compaction":
      return member.compact(request.request, as(request.kind), c);
    case "lease-grant":
      return member.leaseGrant(request.request, as(request.kind), c);
    case "lease-revoke":
      return member.leaseRevoke(request.request, as(request.kind), c);
    case "lease-keepalive":
      return member.leaseKeepAlive(request.request, as(request.kind));
    case "lease-timetolive":
      return member.leaseTimeToLive(request.request, as(request.kind), c);
    case "lease-leases":
      return member.leaseLeases(request.request, as(request.kind));
    case "hash-kv":
      return member.hashKV(request.request, as(request.kind), c);
    case "member-add":
      return member.memberAdd(request.request, as(request.kind), c);
    case "member-remove":
      return member.memberRemove(request.request, as(request.kind), c);
    case "member-promote":
      return member.memberPromote(request.request, as(request.kind), c);
    case "member-list":
      return member.memberList(request.request, as(request.kind));
    case "auth":
      return member.authRequest(request.request, as(request.kind), c);
    default:
      return unreachable(request, "client request");
  }
}

/** The latin1 text of a key, for messages and histories. */
export function keyText(key: Uint8Array): string {
  return bytesToLatin1(key);
}
