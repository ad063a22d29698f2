// One Raft member in the simulator: a RawNode, its log (in memory, or on a simulated disk where a
// crash loses what was not fsynced — see member-log.ts), a small state machine (applied-state.ts),
// its host (clock, timers, up/paused/down), its failpoints, and the Ready loop: persist, and only
// once that is durable send, then apply, then advance. One Ready is in flight at a time; raft keeps
// stepping messages and ticks meanwhile and hands the new work out in the next Ready.
import { assert } from "../../src/lib/assert.js";
import { Failpoints, type FailpointName } from "../../src/lib/failpoints.js";
import type { Prng } from "../../src/lib/prng.js";
import { decodeConfChange, RawNode } from "../../src/raft/index.js";
import type {
  AnyConfChange,
  ConfState,
  Entry,
  Message,
  NodeId,
  Ready,
  ReadState,
  Snapshot,
  StateType,
  Storage,
} from "../../src/raft/types.js";
import { describeFailure, shouldSnapshot, type StorageFailure } from "../../src/storage/index.js";
import type { AppliedSummary, RaftSafetyChecker } from "../check/raft-safety.js";
import type { CrashMode } from "../disk.js";
import type { SimNetwork } from "../net.js";
import type { SimHost } from "../sim-host.js";
import { AppliedState, decodeAppliedState, encodeAppliedState } from "./applied-state.js";
import type { MemberLog, OpenedLog } from "./member-log.js";
import { SnapshotReports } from "../../src/server/snapshot-reports.js";
import { runSteps, type Step } from "../../src/server/steps.js";

export interface RaftMemberOptions {
  readonly id: NodeId;
  readonly host: SimHost;
  readonly network: SimNetwork<Message>;
  readonly random: Prng;
  readonly heartbeatMs: number;
  readonly electionMs: number;
  readonly preVote: boolean;
  readonly checkQuorum: boolean;
  readonly checker: RaftSafetyChecker;
  /**
   * Builds the member's log. The member's failpoints are passed to storage through it, and every
   * completion the log delivers must run through `enter` (see RaftMember.enter).
   */
  readonly makeLog: (failpoints: Failpoints, enter: (work: () => void) => void) => MemberLog;
  /** Applied entries between two snapshots of the state machine (Infinity: never snapshot). */
  readonly snapshotCount: number;
  /** Entries kept below a snapshot when compacting, so a follower just behind needs no MsgSnap. */
  readonly catchUpEntries: number;
  /** How long a MsgSnap may go unacknowledged before raft is told it failed. */
  readonly snapshotReportTimeoutMs: number;
  /** The crash mode of every crash of this member's disk; undefined: drawn from the disk stream. */
  readonly crashMode: CrashMode | undefined;
  /** Called for each applied entry that carries data (not the leader's empty entry). */
  readonly onApply: (member: RaftMember, entry: Entry) => void;
  /** Called when a ReadIndex request made at this member is answered. */
  readonly onReadState: (member: RaftMember, state: ReadState) => void;
  /** The member stopped itself (failed storage, a crash failpoint); a supervisor may restart it. */
  readonly onSelfCrash: (member: RaftMember) => void;
  /**
   * A member this one has seen removed sent it a message. A removed member that was cut off when
   * its removal committed never applies it (nobody replicates to it any more); as etcd's peers
   * answer it "member removed", this tells it to stop.
   */
  readonly onRemovedPeer: (peer: NodeId) => void;
}

/**
 * - "opening": up, recovering its log (it drops messages and proposals meanwhile);
 * - "running": serving;
 * - "down": crashed, may restart;
 * - "corrupt": its storage failed a checksum at recovery: it stays down for good, never serving
 *   from a state it cannot trust;
 * - "removed": it applied its own removal from the configuration and stopped for good.
 */
export type MemberPhase = "opening" | "running" | "down" | "corrupt" | "removed";

/** Why a member went down. */
export type CrashCause = "nemesis" | "failpoint" | "storage" | "corruption";

export interface RaftMemberStats {
  crashes: number;
  crashesByCause: Record<CrashCause, number>;
  crashModes: Partial<Record<CrashMode, number>>;
  restarts: number;
  /** The failpoints that crashed this member, in order. */
  failpointCrashes: FailpointName[];
  /** Every storage failure the member stopped on, in words. */
  storageFailures: string[];
  snapshotsCreated: number;
  snapshotsSent: number;
  snapshotReports: { ok: number; failed: number };
  /** Snapshots from the leader that replaced the state machine: the applied index jumped. */
  restores: Array<{ atMs: number; fromIndex: number; toIndex: number }>;
  /** The state machine restored from a local snapshot at a restart, per restart. */
  recoveredFromIndex: number[];
}

/**
 * Thrown when the member dies inside its own code (a crash failpoint fires, storage fails): it
 * unwinds the stack up to the entry point, so nothing more of the dead member runs — not the rest
 * of the Ready, nor the storage layer's next queued write — as nothing would in a real process.
 */
class MemberDied extends Error {
  override name = "MemberDied";
}

/** Every member a configuration names, in any role. */
export function allIds(c: ConfState): NodeId[] {
  return [...c.voters, ...c.learners, ...c.votersOutgoing, ...c.learnersNext];
}

export function memberName(id: NodeId): string {
  return `m${id}`;
}

function newStats(): RaftMemberStats {
  return {
    crashes: 0,
    crashesByCause: { nemesis: 0, failpoint: 0, storage: 0, corruption: 0 },
    crashModes: {},
    restarts: 0,
    failpointCrashes: [],
    storageFailures: [],
    snapshotsCreated: 0,
    snapshotsSent: 0,
    snapshotReports: { ok: 0, failed: 0 },
    restores: [],
    recoveredFromIndex: [],
  };
}

export class RaftMember {
  readonly name: string;
  readonly failpoints: Failpoints;
  readonly stats: RaftMemberStats = newStats();
  private readonly log: MemberLog;
  private readonly snapshotReports: SnapshotReports;
  private storage: Storage | undefined;
  private node: RawNode | undefined;
  private phaseNow: MemberPhase = "opening";
  private corruption: StorageFailure | undefined;
  private roleNow: StateType = "StateFollower";
  private leadNow: NodeId = 0;
  private state = new AppliedState();
  // The configuration as of the applied index: snapshots record it, so a member restored from one
  // starts with the configuration its state machine had.
  private conf: ConfState | undefined;
  // Whether the applied configuration ever held this member: a joining member replays the log
  // from before it was added, and must not take that for its removal.
  private joined = false;
  // Members this one applied the removal of (rebuilt by the log replay of each life; a member
  // restored from a snapshot knows only the removals after it).
  private readonly removedPeers = new Set<NodeId>();
  // A crash bumps the epoch: a completion of the previous life that still arrives is ignored.
  private epoch = 0;
  private persisting = false;
  private draining = false;
  private snapshotting = false;
  private entered = false;

  constructor(private readonly o: RaftMemberOptions) {
    this.name = memberName(o.id);
    this.failpoints = new Failpoints({
      crash: (point) => this.crashAtFailpoint(point),
      delay: (delayMs, next) => o.host.schedule(delayMs, () => this.enter(next)),
    });
    this.log = o.makeLog(this.failpoints, (work) => this.enter(work));
    this.snapshotReports = new SnapshotReports(o.host, o.snapshotReportTimeoutMs, (to, ok) =>
      this.enter(() => this.reportSnapshot(to, ok)),
    );
    o.network.attach(this.name, (_from, m) => o.host.run(() => this.enter(() => this.receive(m))));
    this.enter(() => this.open());
  }

  get id(): NodeId {
    return this.o.id;
  }

  get role(): StateType {
    return this.host.state === "down" ? "StateFollower" : this.roleNow;
  }

  get lead(): NodeId {
    return this.leadNow;
  }

  get phase(): MemberPhase {
    return this.phaseNow;
  }

  /** The storage failure that made this member stop for good ("corrupt"), if any. */
  get corruptionFound(): StorageFailure | undefined {
    return this.corruption;
  }

  /** The persisted term (the last one known while down). */
  get term(): number {
    return this.storage?.initialState().hardState.term ?? 0;
  }

  /** The persisted commit index. */
  get commitIndex(): number {
    return this.storage?.initialState().hardState.commit ?? 0;
  }

  get host(): SimHost {
    return this.o.host;
  }

  get applied(): number {
    return this.state.index;
  }

  /** The state machine: applied index, proposals applied and the digest of the applied entries. */
  get appliedState(): AppliedSummary {
    return this.state.summary();
  }

  /** The index of the newest snapshot in the member's log (0: none). */
  get snapshotIndex(): number {
    const snap = this.storage?.snapshot();
    return typeof snap === "object" ? snap.metadata.index : 0;
  }

  /** Offers a proposal; "dropped" when this member cannot accept it (no leader, transfer, down). */
  propose(data: Uint8Array): "ok" | "dropped" {
    const node = this.serving();
    if (node === undefined) return "dropped";
    const result = node.propose(data);
    this.enter(() => this.drain());
    return result;
  }

  /** The configuration as of the applied index (undefined until the log is opened). */
  get confState(): ConfState | undefined {
    return this.conf;
  }

  /** Offers a membership change; "dropped" as for propose, and while another one is pending. */
  proposeConfChange(cc: AnyConfChange): "ok" | "dropped" {
    const node = this.serving();
    if (node === undefined) return "dropped";
    const result = node.proposeConfChange(cc);
    this.enter(() => this.drain());
    return result;
  }

  /** Asks for a linearizable read point; the answer comes through onReadState, or never. */
  readIndex(ctx: Uint8Array): void {
    const node = this.serving();
    if (node === undefined) return;
    node.readIndex(ctx);
    this.enter(() => this.drain());
  }

  /** Crashes the member (a no-op if it is already down); a disk loses what was not fsynced. */
  crash(mode?: CrashMode): void {
    if (this.host.state === "down") return;
    this.goDown("nemesis", mode);
  }

  /**
   * Restarts from the persisted log: the state machine is rebuilt from the newest snapshot and
   * the committed entries after it. A no-op unless the member is down (a supervisor may have
   * restarted it already) and for a corrupt member, which stays out.
   */
  restart(): void {
    if (this.phaseNow !== "down") return;
    this.host.restart();
    this.stats.restarts++;
    this.enter(() => this.open());
  }

  /**
   * Every way into the member's code (a message, a timer, a disk completion, a client call)
   * passes here, so a death deep inside it (MemberDied) ends the call and nothing else of it runs.
   * Nested entries (a client call made from inside the member) let the outermost one catch it.
   */
  private enter(work: () => void): void {
    if (this.entered) return work();
    this.entered = true;
    try {
      work();
    } catch (e) {
      if (!(e instanceof MemberDied)) throw e;
    } finally {
      this.entered = false;
    }
  }

  private serving(): RawNode | undefined {
    return this.host.state === "up" && this.phaseNow === "running" ? this.node : undefined;
  }

  private open(): void {
    this.phaseNow = "opening";
    const epoch = this.epoch;
    this.log.open((opened) => {
      if (epoch !== this.epoch) return;
      if (opened.ok) this.start(opened.value);
      else this.stopOn(opened.error);
    });
  }

  /** Starts raft on a recovered log, with the state machine restored from its snapshot. */
  private start(opened: OpenedLog): void {
    this.storage = opened.storage;
    this.setConf(opened.storage.initialState().confState);
    const snapshot = opened.snapshot;
    this.state = new AppliedState(
      snapshot === undefined ? undefined : decodeAppliedState(snapshot.data),
    );
    if (this.log.kind === "memory") {
      this.o.checker.onRestart(this.name, this.state.index);
    } else {
      this.stats.recoveredFromIndex.push(this.state.index);
      this.o.checker.onRecover(this.name, this.state.summary(), opened.hardState.commit, (i) =>
        this.entryAt(i),
      );
    }
    this.node = new RawNode({
      id: this.o.id,
      electionTick: Math.round(this.o.electionMs / this.o.heartbeatMs),
      heartbeatTick: 1,
      storage: opened.storage,
      applied: this.state.index,
      preVote: this.o.preVote,
      checkQuorum: this.o.checkQuorum,
      random: this.o.random,
    });
    this.phaseNow = "running";
    this.scheduleTick();
  }

  private scheduleTick(): void {
    this.host.schedule(this.o.heartbeatMs, () =>
      this.enter(() => {
        const node = this.serving();
        if (node === undefined) return;
        node.tick();
        this.drain();
        this.scheduleTick();
      }),
    );
  }

  private receive(m: Message): void {
    const node = this.serving();
    if (node === undefined) return;
    if (this.removedPeers.has(m.from)) return this.o.onRemovedPeer(m.from);
    node.step(m);
    this.snapshotReports.received(m);
    this.drain();
  }

  private reportSnapshot(to: NodeId, ok: boolean): void {
    const node = this.serving();
    if (node === undefined) return;
    if (ok) this.stats.snapshotReports.ok++;
    else this.stats.snapshotReports.failed++;
    node.reportSnapshot(to, ok);
    this.drain();
  }

  /**
   * Takes Readies while there is work and none is in flight. A log that persists synchronously
   * (memory) finishes each Ready inside the loop; a disk finishes it later and drains again.
   */
  private drain(): void {
    if (this.draining) return;
    this.draining = true;
    try {
      for (;;) {
        const node = this.serving();
        if (node === undefined || this.persisting || !node.hasReady()) break;
        this.handleReady(node.ready());
      }
    } finally {
      // Also when the member dies inside (MemberDied unwinds through here).
      this.draining = false;
    }
  }

  private handleReady(rd: Ready): void {
    this.persisting = true;
    const epoch = this.epoch;
    this.log.persist(rd, (persisted) => {
      if (epoch !== this.epoch) return;
      if (!persisted.ok) return this.stopOn(persisted.error);
      this.afterPersist(rd);
    });
  }

  /** The Ready is durable: record it, then send, apply and advance (see Ready's contract). */
  private afterPersist(rd: Ready): void {
    this.recordPersisted(rd);
    if (rd.softState !== undefined) this.onSoftState(rd.softState.raftState, rd.softState.lead);
    // With no failpoint armed (the usual case) the work runs directly; the steps below do the
    // same work in the same order, passing a failpoint around each item.
    if (this.failpoints.quiet && rd.snapshot === undefined) {
      for (const m of rd.messages) this.send(m);
      for (const e of rd.committedEntries) this.apply(e);
      return this.finishReady(rd);
    }
    const steps: Step[] = [];
    if (rd.messages.length > 0) steps.push(this.sendStep(rd.messages));
    const snapshot = rd.snapshot;
    if (snapshot !== undefined) steps.push(this.restoreStep(snapshot));
    for (const e of rd.committedEntries) steps.push(this.applyStep(e));
    runSteps(steps, () => this.finishReady(rd));
  }

  private finishReady(rd: Ready): void {
    for (const rs of rd.readStates) this.o.onReadState(this, rs);
    (this.node as RawNode).advance(rd);
    this.persisting = false;
    this.maybeSnapshot();
    this.drain();
  }

  /** Tells the checker what is now durable: appended entries and a moved commit index. */
  private recordPersisted(rd: Ready): void {
    const first = rd.entries[0];
    if (first !== undefined) {
      this.o.checker.onAppend(this.name, rd.entries, this.termAt(first.index - 1) ?? 0);
    }
    if (rd.hardState !== undefined) {
      this.o.checker.onCommit(
        this.name,
        rd.hardState.commit,
        this.entryAtIndex,
        this.snapshotIndex,
        rd.hardState.term,
      );
    }
  }

  private sendStep(messages: readonly Message[]): Step {
    const leader = this.roleNow === "StateLeader";
    const before = leader ? "raftBeforeLeaderSend" : "raftBeforeFollowerSend";
    const after = leader ? "raftAfterLeaderSend" : "raftAfterFollowerSend";
    return (next) =>
      this.failpoints.pass(before, () => {
        for (const m of messages) this.send(m);
        this.failpoints.pass(after, next);
      });
  }

  private send(m: Message): void {
    assert(m.to !== this.o.id, () => `${this.name} sent ${m.type} to itself`);
    if (m.type === "MsgSnap") {
      this.stats.snapshotsSent++;
      this.snapshotReports.sent(m.to, m.snapshot?.metadata.index ?? 0);
    }
    this.o.network.send(this.name, memberName(m.to), m);
  }

  /** A snapshot from the leader replaces the state machine: the applied index jumps to it. */
  private restoreStep(snapshot: Snapshot): Step {
    return (next) =>
      this.failpoints.pass("raftBeforeApplySnap", () => {
        const fromIndex = this.state.index;
        const restored = decodeAppliedState(snapshot.data);
        assert(
          restored.index === snapshot.metadata.index,
          () => `snapshot ${snapshot.metadata.index} holds state at ${restored.index}`,
        );
        this.state.restore(restored);
        this.setConf(snapshot.metadata.confState);
        this.o.checker.onRestore(this.name, restored);
        this.stats.restores.push({ atMs: this.host.now(), fromIndex, toIndex: restored.index });
        this.failpoints.pass("raftAfterApplySnap", next);
      });
  }

  private applyStep(e: Entry): Step {
    return (next) =>
      this.failpoints.pass("beforeApply", () => {
        this.apply(e);
        this.failpoints.pass("afterApply", next);
      });
  }

  private apply(e: Entry): void {
    // Raft hands out each committed entry once per life; the consistent index keeps a replay
    // below a restored snapshot from being applied twice.
    if (!this.state.shouldApply(e)) return;
    this.state.apply(e);
    this.o.checker.onApply(this.name, e, this.state.summary());
    if (e.type !== "EntryNormal") return this.applyConfChange(e);
    if (e.data.length > 0) this.o.onApply(this, e);
  }

  /**
   * A committed membership change takes effect here, on every member at the same log position.
   * A change raft refuses (say, promoting a member that is not a learner) leaves the configuration
   * as it was on every member alike, so it is simply not applied.
   */
  private applyConfChange(e: Entry): void {
    const cc = decodeConfChange(e.type, e.data);
    assert(cc !== undefined, () => `${this.name}: undecodable ${e.type} at ${e.index}`);
    const result = (this.node as RawNode).applyConfChange(cc);
    if (!result.ok) return;
    const before = this.conf;
    this.setConf(result.value);
    for (const id of before === undefined ? [] : allIds(before)) {
      if (!allIds(result.value).includes(id)) this.removedPeers.add(id);
    }
    if (this.joined && !this.inConf()) this.leave();
  }

  private setConf(conf: ConfState): void {
    this.conf = conf;
    if (this.inConf()) this.joined = true;
  }

  /** Whether the applied configuration names this member in any role. */
  private inConf(): boolean {
    return this.conf !== undefined && allIds(this.conf).includes(this.o.id);
  }

  /** A removed member learns it from a peer (see onRemovedPeer): it stops as if it applied it. */
  expel(): void {
    if (this.host.state !== "up" || this.phaseNow !== "running") return;
    this.enter(() => this.leave());
  }

  /**
   * The member applied its own removal: it stops as a process would exit, for good (restart is a
   * no-op outside "down"). Nothing more of this Ready runs: the rest is the cluster's business.
   */
  private leave(): never {
    this.host.crash();
    this.epoch++;
    this.phaseNow = "removed";
    this.roleNow = "StateFollower";
    this.leadNow = 0;
    this.persisting = false;
    this.snapshotting = false;
    this.snapshotReports.clear();
    throw new MemberDied(`${this.name}: removed from the cluster`);
  }

  /** Every `snapshotCount` applied entries: snapshot the state machine and compact the log. */
  private maybeSnapshot(): void {
    if (this.snapshotting || this.phaseNow !== "running") return;
    const index = this.state.index;
    if (!shouldSnapshot(index, this.snapshotIndex, this.o.snapshotCount)) return;
    this.snapshotting = true;
    const epoch = this.epoch;
    const data = encodeAppliedState(this.state.summary());
    this.log.createSnapshot(index, this.conf, data, this.o.catchUpEntries, (done) => {
      if (epoch !== this.epoch) return;
      this.snapshotting = false;
      if (!done.ok) return this.stopOn(done.error);
      this.stats.snapshotsCreated++;
    });
  }

  private onSoftState(role: StateType, lead: NodeId): void {
    const wasLeader = this.roleNow === "StateLeader";
    this.roleNow = role;
    this.leadNow = lead;
    if (role === "StateLeader" && !wasLeader) {
      this.o.checker.onLeader(this.name, this.term, (i) => this.termAt(i), this.snapshotIndex);
    }
  }

  /**
   * Storage failed: the member must not go on as if the data were durable. Corruption stops it
   * for good; any other failure (EIO, an injected error) crashes it, and it may restart.
   */
  private stopOn(failure: StorageFailure): never {
    this.stats.storageFailures.push(describeFailure(failure));
    if (failure.kind === "corrupt") {
      this.goDown("corruption", undefined);
      this.corruption = failure;
      this.phaseNow = "corrupt";
    } else {
      this.goDown("storage", undefined);
      this.o.onSelfCrash(this);
    }
    throw new MemberDied(`${this.name}: ${describeFailure(failure)}`);
  }

  private crashAtFailpoint(point: FailpointName): never {
    this.stats.failpointCrashes.push(point);
    this.goDown("failpoint", undefined);
    this.o.onSelfCrash(this);
    throw new MemberDied(`${this.name}: crashed at failpoint ${point}`);
  }

  private goDown(cause: CrashCause, mode: CrashMode | undefined): void {
    this.host.crash();
    this.epoch++;
    this.phaseNow = "down";
    this.roleNow = "StateFollower";
    this.leadNow = 0;
    this.persisting = false;
    this.snapshotting = false;
    this.snapshotReports.clear();
    this.stats.crashes++;
    this.stats.crashesByCause[cause]++;
    const lost = this.log.crash(mode ?? this.o.crashMode);
    if (lost !== undefined) this.stats.crashModes[lost] = (this.stats.crashModes[lost] ?? 0) + 1;
  }

  private termAt(index: number): number | undefined {
    const t = this.storage?.term(index);
    return typeof t === "number" ? t : undefined;
  }

  /** entryAt as a value, made once: the checker takes it on every Ready that moves the commit. */
  private readonly entryAtIndex = (index: number): Entry | undefined => this.entryAt(index);

  private entryAt(index: number): Entry | undefined {
    const got = this.storage?.entries(index, index + 1, Number.POSITIVE_INFINITY);
    return got === undefined || typeof got === "string" ? undefined : got[0];
  }
}
