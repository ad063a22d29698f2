// N Raft members on one simulated world and network, with the safety checker wired in. Each
// member's log lives in memory (the default) or on its own simulated disk (`storage: "disk"`),
// where crashes lose unsynced writes and a supervisor restarts a member that stopped itself.
import type { FailpointName } from "../../src/lib/failpoints.js";
import type {
  AnyConfChange,
  ConfChangeType,
  ConfState,
  Message,
  NodeId,
} from "../../src/raft/types.js";
import { RaftSafetyChecker } from "../check/raft-safety.js";
import { Violations } from "../check/violation.js";
import { SimDisk, type CrashMode, type SimDiskFaults } from "../disk.js";
import { SimNetwork, type LinkFaults } from "../net.js";
import { SimHost } from "../sim-host.js";
import { hashString, mixWord } from "../trace-hash.js";
import type { World } from "../world.js";
import { DiskLog, MemoryLog, type MemberLog } from "./member-log.js";
import { allIds, RaftMember, type RaftMemberOptions } from "./raft-member.js";

export type StorageMode = "memory" | "disk";

/** How members keep their logs; every field has a default (see DEFAULT_STORAGE_OPTIONS). */
export interface RaftStorageOptions {
  /** Applied entries between snapshots (memory mode never snapshots unless this is given). */
  readonly snapshotCount: number;
  /** Entries kept below a snapshot when compacting. */
  readonly catchUpEntries: number;
  /** Disk mode: the fault knobs every member's disk starts with. */
  readonly diskFaults: Partial<SimDiskFaults>;
  /** Disk mode: the crash mode of every crash; undefined: drawn from each disk's stream. */
  readonly crashMode: CrashMode | undefined;
  /** Disk mode: WAL segment size (small, so segments rotate and compaction releases them). */
  readonly segmentBytes: number;
  /** How long after a member stops itself (failed write, crash failpoint) it is restarted. */
  readonly restartAfterMs: number;
  /** How long a MsgSnap may go unacknowledged before raft is told it failed (default: election). */
  readonly snapshotReportTimeoutMs: number | undefined;
}

export const DEFAULT_STORAGE_OPTIONS: RaftStorageOptions = {
  snapshotCount: 1000,
  catchUpEntries: 200,
  diskFaults: {},
  crashMode: undefined,
  segmentBytes: 64 * 1024,
  restartAfterMs: 500,
  snapshotReportTimeoutMs: undefined,
};

export interface RaftClusterOptions {
  readonly members: number;
  readonly heartbeatMs: number;
  readonly electionMs: number;
  readonly preVote: boolean;
  readonly checkQuorum: boolean;
  readonly link: LinkFaults;
  readonly onApply: RaftMemberOptions["onApply"];
  readonly onReadState: RaftMemberOptions["onReadState"];
  /** Where members keep their logs (default "memory": a log that survives every crash whole). */
  readonly storage?: StorageMode;
  readonly storageOptions?: Partial<RaftStorageOptions>;
}

/** Whether `conf` names `id` in any role. */
function inConf(conf: ConfState, id: NodeId): boolean {
  return allIds(conf).includes(id);
}

/** How many times a membership change is offered before giving up. */
const CONF_CHANGE_ATTEMPTS = 40;

function messageDigest(m: Message): number {
  let h = hashString(m.type) | 0;
  h = mixWord(h, m.from);
  h = mixWord(h, m.to);
  h = mixWord(h, m.term);
  h = mixWord(h, m.logTerm);
  h = mixWord(h, m.index);
  h = mixWord(h, m.commit);
  h = mixWord(h, m.entries.length);
  h = mixWord(h, m.reject ? 1 : 0);
  return h >>> 0;
}

export class RaftCluster {
  readonly network: SimNetwork<Message>;
  readonly violations = new Violations();
  readonly checker: RaftSafetyChecker;
  private readonly all: RaftMember[];
  /** Disk mode: each member's disk, by member name. */
  readonly disks = new Map<string, SimDisk>();
  readonly storage: StorageMode;
  readonly storageOptions: RaftStorageOptions;
  /** A crash-at fault's restart delay, used by the next supervised restart of that member. */
  private readonly restartDelays = new Map<string, number>();
  private readonly options: RaftClusterOptions;
  // The configuration the cluster was created with: a member added later starts from it with an
  // empty log, and replaying the log's membership changes from it rebuilds the current one (a
  // snapshot, when the log was compacted, carries the configuration instead).
  private readonly initialConf: ConfState;

  constructor(
    readonly world: World,
    options: RaftClusterOptions,
  ) {
    this.options = options;
    this.storage = options.storage ?? "memory";
    this.storageOptions = {
      ...DEFAULT_STORAGE_OPTIONS,
      // A memory log snapshots only when asked, so default runs stay event for event as they were.
      ...(this.storage === "memory" ? { snapshotCount: Number.POSITIVE_INFINITY } : {}),
      ...options.storageOptions,
    };
    this.network = new SimNetwork<Message>(world, {
      defaults: options.link,
      digest: messageDigest,
      kind: (m) => m.type,
    });
    this.checker = new RaftSafetyChecker(this.violations, () => world.nowMs);
    const ids: NodeId[] = Array.from({ length: options.members }, (_, i) => i + 1);
    this.initialConf = {
      voters: ids,
      learners: [],
      votersOutgoing: [],
      learnersNext: [],
      autoLeave: false,
    };
    this.all = ids.map((id) => this.newMember(id));
  }

  get members(): readonly RaftMember[] {
    return this.all;
  }

  private newMember(id: NodeId): RaftMember {
    const so = this.storageOptions;
    const o = this.options;
    const host = new SimHost(this.world, `m${id}`);
    return new RaftMember({
      id,
      host,
      network: this.network,
      random: this.world.stream(`member-${id}`),
      heartbeatMs: o.heartbeatMs,
      electionMs: o.electionMs,
      preVote: o.preVote,
      checkQuorum: o.checkQuorum,
      checker: this.checker,
      makeLog: (failpoints, enter) => this.makeLog(id, host, this.initialConf, failpoints, enter),
      snapshotCount: so.snapshotCount,
      catchUpEntries: so.catchUpEntries,
      snapshotReportTimeoutMs: so.snapshotReportTimeoutMs ?? o.electionMs,
      crashMode: so.crashMode,
      onApply: o.onApply,
      onReadState: o.onReadState,
      onSelfCrash: (m) => this.superviseRestart(m),
      onRemovedPeer: (peer) => this.tellRemoved(peer),
    });
  }

  /** The answer to a removed member's message reaches it a network hop later. */
  private tellRemoved(peer: NodeId): void {
    const member = this.all.find((m) => m.id === peer);
    if (member === undefined) return;
    const hopMs = Math.max(1, this.options.link.latencyMs);
    this.world.schedule(hopMs, member.name, "removed-peer", peer, () => member.expel());
  }

  /**
   * Starts a member with a fresh id and proposes it as a learner; it catches up through the log
   * (or a snapshot) before it may be promoted.
   */
  addLearner(): RaftMember {
    const id = Math.max(...this.all.map((m) => m.id)) + 1;
    const member = this.newMember(id);
    this.all.push(member);
    // Done once it is a learner, or already promoted: offering it again would demote it.
    this.proposeChange("ConfChangeAddLearnerNode", id, (c) => inConf(c, id));
    return member;
  }

  /**
   * Starts a member with a fresh id and proposes it as a voter straight away; it catches up as a
   * voter (counted in the quorum from the moment its addition applies).
   */
  addVoter(): RaftMember {
    const id = Math.max(...this.all.map((m) => m.id)) + 1;
    const member = this.newMember(id);
    this.all.push(member);
    this.proposeChange("ConfChangeAddNode", id, (c) => c.voters.includes(id));
    return member;
  }

  /** Proposes promoting a learner to voter. */
  promote(id: NodeId): void {
    this.proposeChange("ConfChangeAddNode", id, (c) => c.voters.includes(id));
  }

  /** Proposes removing a member; it stops once it applies its own removal. */
  remove(id: NodeId): void {
    this.proposeChange("ConfChangeRemoveNode", id, (c) => !inConf(c, id));
  }

  /** The learners of the leader's applied configuration, oldest first (none without a leader). */
  learners(): NodeId[] {
    return [...(this.leader()?.confState?.learners ?? [])].sort((a, b) => a - b);
  }

  /**
   * Offers a change through the current leader until the leader's applied configuration shows it
   * (`done`). An offer is dropped with no leader or while the previous change is unapplied, and an
   * accepted one is lost if its leader is deposed before committing it; every change here is
   * idempotent (adding a present learner, promoting a voter, removing an absent member change
   * nothing), so offering it again is safe. It gives up after a bounded number of offers.
   */
  private proposeChange(
    type: ConfChangeType,
    nodeId: NodeId,
    done: (conf: ConfState) => boolean,
    attempt = 1,
  ): void {
    const leader = this.leader();
    const conf = leader?.confState;
    if (conf !== undefined && done(conf)) return;
    const cc: AnyConfChange = { kind: "ConfChange", type, nodeId, context: new Uint8Array() };
    const offered = leader?.proposeConfChange(cc) ?? "dropped";
    if (attempt >= CONF_CHANGE_ATTEMPTS) return;
    // An accepted offer gets an election timeout to commit; a dropped one is tried next heartbeat.
    const waitMs = offered === "ok" ? this.options.electionMs : this.options.heartbeatMs;
    this.world.schedule(waitMs, "cluster", `conf-change:${type}`, nodeId, () =>
      this.proposeChange(type, nodeId, done, attempt + 1),
    );
  }

  private makeLog(
    id: NodeId,
    host: SimHost,
    confState: ConfState,
    failpoints: RaftMember["failpoints"],
    enter: (work: () => void) => void,
  ): MemberLog {
    const so = this.storageOptions;
    if (this.storage === "memory") return new MemoryLog(confState);
    const disk = new SimDisk(this.world, {
      name: `m${id}/disk`,
      random: this.world.stream(`disk-${id}`),
      faults: so.diskFaults,
      // Completions reach the member through its host: none while down, later while paused.
      deliver: (completion) => host.run(() => enter(completion)),
    });
    this.disks.set(`m${id}`, disk);
    return new DiskLog({ disk, failpoints, confState, segmentBytes: so.segmentBytes });
  }

  /**
   * Arms a one-shot crash at `point` on `name`; its supervisor then restarts it after
   * `restartAfterMs` (default: the storage options').
   */
  crashAt(name: string, point: FailpointName, restartAfterMs: number | undefined): void {
    const member = this.requireMember(name);
    if (restartAfterMs === undefined) this.restartDelays.delete(name);
    else this.restartDelays.set(name, restartAfterMs);
    member.failpoints.arm(point, { action: { kind: "crash" }, times: 1 });
  }

  requireMember(name: string): RaftMember {
    const m = this.member(name);
    if (m === undefined) throw new Error(`no member ${name}`);
    return m;
  }

  /** A member that stopped itself comes back after a while, as a process supervisor would. */
  private superviseRestart(member: RaftMember): void {
    const after = this.restartDelays.get(member.name) ?? this.storageOptions.restartAfterMs;
    this.restartDelays.delete(member.name);
    this.world.schedule(after, member.name, "supervisor:restart", 0, () => member.restart());
  }

  /** Members that found corruption at recovery and stay out. */
  corruptMembers(): RaftMember[] {
    return this.members.filter((m) => m.phase === "corrupt");
  }

  get names(): string[] {
    return this.members.map((m) => m.name);
  }

  member(name: string): RaftMember | undefined {
    return this.members.find((m) => m.name === name);
  }

  /** The up member that leads in the highest term among up members, if any. */
  leader(): RaftMember | undefined {
    let best: RaftMember | undefined;
    let maxTerm = -1;
    for (const m of this.members) {
      if (m.host.state !== "up") continue;
      maxTerm = Math.max(maxTerm, m.term);
      if (m.role === "StateLeader" && (best === undefined || m.term > best.term)) best = m;
    }
    return best !== undefined && best.term === maxTerm ? best : undefined;
  }
}
