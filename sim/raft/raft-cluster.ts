// N Raft members on one simulated world and network, with the safety checker wired in. Each
// member's log lives in memory (the default) or on its own simulated disk (`storage: "disk"`),
// where crashes lose unsynced writes and a supervisor restarts a member that stopped itself.
import type { FailpointName } from "../../src/lib/failpoints.js";
import type { ConfState, Message, NodeId } from "../../src/raft/types.js";
import { RaftSafetyChecker } from "../check/raft-safety.js";
import { Violations } from "../check/violation.js";
import { SimDisk, type CrashMode, type SimDiskFaults } from "../disk.js";
import { SimNetwork, type LinkFaults } from "../net.js";
import { SimHost } from "../sim-host.js";
import { digestWords, hashString } from "../trace-hash.js";
import type { World } from "../world.js";
import { DiskLog, MemoryLog, type MemberLog } from "./member-log.js";
import { RaftMember, type RaftMemberOptions } from "./raft-member.js";

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

function messageDigest(m: Message): number {
  return digestWords(
    hashString(m.type),
    m.from,
    m.to,
    m.term,
    m.logTerm,
    m.index,
    m.commit,
    m.entries.length,
    m.reject ? 1 : 0,
  );
}

export class RaftCluster {
  readonly network: SimNetwork<Message>;
  readonly violations = new Violations();
  readonly checker: RaftSafetyChecker;
  readonly members: readonly RaftMember[];
  /** Disk mode: each member's disk, by member name. */
  readonly disks = new Map<string, SimDisk>();
  readonly storage: StorageMode;
  readonly storageOptions: RaftStorageOptions;
  /** A crash-at fault's restart delay, used by the next supervised restart of that member. */
  private readonly restartDelays = new Map<string, number>();

  constructor(
    readonly world: World,
    options: RaftClusterOptions,
  ) {
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
    const confState: ConfState = {
      voters: ids,
      learners: [],
      votersOutgoing: [],
      learnersNext: [],
      autoLeave: false,
    };
    const so = this.storageOptions;
    this.members = ids.map((id) => {
      const host = new SimHost(world, `m${id}`);
      return new RaftMember({
        id,
        host,
        network: this.network,
        random: world.stream(`member-${id}`),
        heartbeatMs: options.heartbeatMs,
        electionMs: options.electionMs,
        preVote: options.preVote,
        checkQuorum: options.checkQuorum,
        checker: this.checker,
        makeLog: (failpoints, enter) => this.makeLog(id, host, confState, failpoints, enter),
        snapshotCount: so.snapshotCount,
        catchUpEntries: so.catchUpEntries,
        snapshotReportTimeoutMs: so.snapshotReportTimeoutMs ?? options.electionMs,
        crashMode: so.crashMode,
        onApply: options.onApply,
        onReadState: options.onReadState,
        onSelfCrash: (m) => this.superviseRestart(m),
      });
    });
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
