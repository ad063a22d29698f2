// N etcd members on one simulated world. Peers and clients share one SimNetwork, so client traffic
// suffers the same faults as Raft traffic. Each member has its own SimHost (clock, timers,
// up/paused/down) and either a MemoryStorage that survives a crash (a restarted member is a new
// Member on the old storage, which re-applies the committed log) or, with `disk`, a SimDisk: a
// crash loses what was not fsynced, a restart recovers through DiskStorage (WAL and the newest
// valid snapshot), and a member whose data fails its checksums comes back with the CORRUPT alarm.
import { assert, unreachable } from "../../src/lib/assert.js";
import { bytesToLatin1 } from "../../src/lib/bytes.js";
import type { Result } from "../../src/lib/result.js";
import type { EtcdError } from "../../src/api/errors.js";
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
import { MemoryStorage } from "../../src/raft/index.js";
import type { ConfState, Entry, NodeId } from "../../src/raft/types.js";
import { DiskStorage, describeFailure, type Recovered } from "../../src/storage/index.js";
import { foldApplied, type AppliedSummary } from "../check/raft-safety.js";
import { SimDisk, type CrashMode, type SimDiskFaults } from "../disk.js";
import { FencedDisk } from "./fenced-disk.js";
import type { MemberConfig } from "../../src/server/config.js";
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
  | { readonly kind: "hash-kv"; readonly request: HashKVRequest };

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
  | { readonly kind: "hash-kv"; readonly response: HashKVResponse };

/** A watch stream request from a client; "close" ends the stream (the connection closes). */
export type WatchStreamRequest = WatchRequest | { readonly request_union: "close" };

/** Everything on the simulated wire. */
export type NetMessage =
  | { readonly type: "peer"; readonly message: MemberMessage }
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

/** One member slot: its host and storage live across crashes; `member` exists while not down. */
export class SimKvMember {
  member: Member | undefined;
  /** How many times a Member was started on this slot. */
  incarnation = 0;
  readonly storage: MemoryStorage;
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
  };

  constructor(
    readonly id: NodeId,
    readonly name: string,
    readonly host: SimHost,
    peers: readonly NodeId[],
  ) {
    const confState = {
      voters: [...peers],
      learners: [],
      votersOutgoing: [],
      learnersNext: [],
      autoLeave: false,
    };
    this.storage = new MemoryStorage({ confState });
  }

  get up(): boolean {
    return this.host.state !== "down" && this.member !== undefined;
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
  readonly checker: RaftSafetyChecker;
  readonly slots: readonly SimKvMember[];
  private readonly ids: NodeId[];
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
    this.ids = Array.from({ length: options.members }, (_, i) => i + 1);
    this.slots = this.ids.map((id) => {
      const slot = new SimKvMember(
        id,
        memberName(id),
        new SimHost(world, memberName(id)),
        this.ids,
      );
      this.network.attach(slot.name, (from, m) => slot.host.run(() => this.deliver(slot, from, m)));
      if (options.disk !== undefined) this.attachDisk(slot, options.disk);
      return slot;
    });
    for (const slot of this.slots) this.boot(slot);
  }

  /** Whether the cluster's members live on simulated disks. */
  get durable(): boolean {
    return this.options.disk !== undefined;
  }

  /** Members that raised the CORRUPT alarm: they serve nothing and checks leave them out. */
  corruptNames(): string[] {
    return this.slots.filter((s) => s.corrupt !== undefined).map((s) => s.name);
  }

  /**
   * The committed entries from index 1, as far as known: the most advanced member's log in
   * memory mode, every applied entry in disk mode (members compact their logs).
   */
  committedEntries(): Entry[] {
    if (this.durable) return this.appliedEntries.filter((e) => e !== undefined);
    const best = this.slots.reduce((a, b) =>
      b.storage.initialState().hardState.commit > a.storage.initialState().hardState.commit ? b : a,
    );
    const commit = best.storage.initialState().hardState.commit;
    const entries = best.storage.entries(1, commit + 1, Number.POSITIVE_INFINITY);
    return typeof entries === "string" ? [] : entries;
  }

  get names(): string[] {
    return this.slots.map((s) => s.name);
  }

  slot(name: string): SimKvMember {
    const s = this.slots.find((x) => x.name === name);
    assert(s !== undefined, () => `no member ${name}`);
    return s;
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
    for (const s of this.slots) {
      if (!s.up || s.host.state !== "up") continue;
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
    slot.host.crash();
    slot.member = undefined;
    slot.streams.clear();
    const disk = slot.disk;
    if (disk === undefined) return;
    slot.fenced?.fence();
    slot.fenced = undefined;
    // Only the process died: the kernel keeps its page cache and writes it back later.
    if (!loseUnsynced) {
      slot.durability.crashes++;
      return;
    }
    const lost = disk.crash(mode ?? this.options.disk?.crashMode);
    slot.durability.crashes++;
    slot.durability.crashModes[lost] = (slot.durability.crashModes[lost] ?? 0) + 1;
  }

  /** Restarts a member that is down (a no-op otherwise); a corrupt member stays corrupt. */
  restart(name: string): void {
    const slot = this.slot(name);
    if (slot.host.state !== "down") return;
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
      initialConfState: this.confState(),
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

  private confState(): ConfState {
    return {
      voters: [...this.ids],
      learners: [],
      votersOutgoing: [],
      learnersNext: [],
      autoLeave: false,
    };
  }

  private start(slot: SimKvMember, durable: MemberOptions["durable"]): void {
    // A restarted process draws fresh randomness (request-id and read-context epochs depend on it).
    const stream =
      slot.incarnation === 0 ? `member-${slot.id}` : `member-${slot.id}/${slot.incarnation}`;
    slot.incarnation++;
    slot.member = new Member({
      id: slot.id,
      peers: this.ids,
      env: { clock: slot.host, timers: slot.host, random: this.world.stream(stream) },
      send: (to, message) =>
        this.network.send(slot.name, memberName(to), { type: "peer", message }),
      config: {
        heartbeatMs: this.options.heartbeatMs,
        electionMs: this.options.electionMs,
        ...this.options.memberConfig,
      },
      storage: slot.storage,
      observer: this.observer(slot),
      onCommit: (txn) => this.committed.record(txn.revision, txn.events),
      onRestore: () => slot.streams.clear(),
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
        c.onApply(slot.name, entry);
      },
      onRestore: (index) => c.onRestore(slot.name, this.summaryAt(index)),
    };
  }

  private deliver(slot: SimKvMember, from: string, m: NetMessage): void {
    const member = slot.member;
    if (member === undefined) return;
    switch (m.type) {
      case "peer": {
        const id = memberIdOf(from);
        if (id !== undefined) member.receive(id, m.message);
        return;
      }
      case "client-request": {
        if ((slot.lastRequestId.get(from) ?? -1) >= m.requestId) return;
        slot.lastRequestId.set(from, m.requestId);
        return serveClient(member, m.request, (result) =>
          this.network.send(slot.name, from, {
            type: "client-response",
            requestId: m.requestId,
            result,
          }),
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
    const watch = member.watch((responses) => {
      const seq = stream.responseSeq++;
      this.network.send(slot.name, client, { type: "watch-response", streamId, seq, responses });
    });
    return Object.assign(stream, { watch });
  }
}

/** Calls the member method for `request`; `reply` gets its result. */
export function serveClient(
  member: Member,
  request: ClientRequest,
  reply: (result: Result<ClientResponse, EtcdError>) => void,
): void {
  const as =
    <K extends ClientResponse["kind"], T>(kind: K) =>
    (result: Result<T, EtcdError>) => {
      if (!result.ok) return reply(result);
      reply({ ok: true, value: { kind, response: result.value } as unknown as ClientResponse });
    };
  switch (request.kind) {
    case "range":
      return member.range(request.request, as(request.kind));
    case "put":
      return member.put(request.request, as(request.kind));
    case "delete-range":
      return member.deleteRange(request.request, as(request.kind));
    case "txn":
      return member.txn(request.request, as(request.kind));
    case "compaction":
      return member.compact(request.request, as(request.kind));
    case "lease-grant":
      return member.leaseGrant(request.request, as(request.kind));
    case "lease-revoke":
      return member.leaseRevoke(request.request, as(request.kind));
    case "lease-keepalive":
      return member.leaseKeepAlive(request.request, as(request.kind));
    case "lease-timetolive":
      return member.leaseTimeToLive(request.request, as(request.kind));
    case "lease-leases":
      return member.leaseLeases(request.request, as(request.kind));
    case "hash-kv":
      return member.hashKV(request.request, as(request.kind));
    default:
      return unreachable(request, "client request");
  }
}

/** The latin1 text of a key, for messages and histories. */
export function keyText(key: Uint8Array): string {
  return bytesToLatin1(key);
}
