// RawNode: the application's handle on one Raft member (etcd raft's RawNode). It turns the
// state machine's accumulated output into Ready batches and learns through advance() what the
// application persisted, sent and applied.
import { assert } from "../lib/assert.js";
import type { Result } from "../lib/result.js";
import { type ConfChangeError, encodeConfChange } from "./confchange.js";
import { payloadSizeBytes } from "./log.js";
import { Raft, isLocalMessage, isResponseMessage, localMessage } from "./raft.js";
import {
  NONE,
  type AnyConfChange,
  type ConfState,
  type Entry,
  type HardState,
  type Message,
  type NodeId,
  type ProgressStatus,
  type RaftConfig,
  type Ready,
  type SoftState,
  type Status,
} from "./types.js";

// Raft's current soft and hard state against what the last Ready handed out, field by field:
// hasReady runs on every message and tick, so it compares without building the state objects.
function hardStateMoved(r: Raft, prev: HardState): boolean {
  return r.term !== prev.term || r.vote !== prev.vote || r.raftLog.committed !== prev.commit;
}

function softStateMoved(r: Raft, prev: SoftState): boolean {
  return r.lead !== prev.lead || r.state !== prev.raftState;
}

/**
 * A synchronous, single-threaded Raft member.
 * Contract: the caller drives it with tick/step/propose/... and, whenever hasReady() is true,
 * takes ready(), performs it in the order documented on Ready (persist, then send, then apply)
 * and calls advance() with that same Ready before the next ready(). Messages it sends to peers
 * are delivered to their step() in any order, possibly duplicated or lost.
 */
export class RawNode {
  private readonly raft: Raft;
  private prevSoftState: SoftState;
  private prevHardState: HardState;

  /** Starts (or restarts) a member from `config.storage`; the members come from its ConfState. */
  constructor(config: RaftConfig) {
    this.raft = new Raft(config);
    this.prevSoftState = this.raft.softState();
    this.prevHardState = this.raft.hardState();
  }

  /** Advances logical time: election timeouts and heartbeats are counted in ticks. */
  tick(): void {
    this.raft.tick();
  }

  /** Starts an election now (a pre-election first when PreVote is on). */
  campaign(): void {
    this.raft.step(localMessage("MsgHup", this.raft.id));
  }

  /**
   * Proposes `data` for the log. "dropped" (etcd's ErrProposalDropped) means it will certainly
   * not be committed: no known leader, forwarding disabled, a leadership transfer in progress or
   * the uncommitted-size limit reached. "ok" promises nothing: the caller learns the outcome only
   * from the committed entries.
   */
  propose(data: Uint8Array): "ok" | "dropped" {
    const entry: Entry = { term: 0, index: 0, type: "EntryNormal", data };
    return this.raft.step(localMessage("MsgProp", this.raft.id, { entries: [entry] }));
  }

  /**
   * Proposes a membership change, logged as EntryConfChange (ConfChange) or EntryConfChangeV2.
   * It takes effect on each member only when that member applies the entry and calls
   * applyConfChange. "dropped" as for propose, and also when the leader refuses it: another change
   * is still unapplied (one at a time), a leave-joint request while not joint, or any other
   * change while joint. On a follower "ok" only means it was forwarded.
   */
  proposeConfChange(cc: AnyConfChange): "ok" | "dropped" {
    const { type, data } = encodeConfChange(cc);
    const entry: Entry = { term: 0, index: 0, type, data };
    return this.raft.step(localMessage("MsgProp", this.raft.id, { entries: [entry] }));
  }

  /**
   * Applies a committed EntryConfChange / EntryConfChangeV2 (decode it with decodeConfChange).
   * The application must call this exactly once per such entry, in log order, while applying it,
   * and should persist the returned ConfState with its next snapshot. An error (for instance
   * "already-joint") leaves the configuration unchanged on every member alike; the server reports
   * it to whoever proposed the change. A leader that is no longer a voter steps down here.
   */
  applyConfChange(cc: AnyConfChange): Result<ConfState, ConfChangeError> {
    return this.raft.applyConfChange(cc);
  }

  /**
   * Delivers a message from a peer. Local message types are ignored, and so are responses from
   * ids that are not members. Messages addressed to another node are a caller bug.
   */
  step(m: Message): void {
    assert(m.to === this.raft.id, () => `message for ${m.to} stepped into ${this.raft.id}`);
    if (isLocalMessage(m.type)) return;
    if (isResponseMessage(m.type) && !this.raft.trk.progress.has(m.from)) return;
    this.raft.step(m);
  }

  /**
   * Requests a linearizable read point. Its answer arrives later as a ReadState with the same
   * `ctx` in Ready.readStates; none arrives if leadership is lost meanwhile (retry after a
   * timeout). Contexts must be unique among outstanding requests.
   */
  readIndex(ctx: Uint8Array): void {
    this.raft.step(localMessage("MsgReadIndex", this.raft.id, { context: ctx }));
  }

  /** Asks the leader (this node or, forwarded, the current one) to hand leadership to `to`. */
  transferLeader(to: NodeId): void {
    this.raft.step(localMessage("MsgTransferLeader", this.raft.id, { from: to }));
  }

  /** Whether ready() would return anything to do. */
  hasReady(): boolean {
    const r = this.raft;
    return (
      softStateMoved(r, this.prevSoftState) ||
      hardStateMoved(r, this.prevHardState) ||
      r.raftLog.unstable.nextSnapshot() !== undefined ||
      r.msgs.length > 0 ||
      r.readStates.length > 0 ||
      r.raftLog.hasNextUnstableEntries() ||
      r.raftLog.hasNextCommittedEntries()
    );
  }

  /** Takes the pending work as a Ready (see its contract); the next Ready holds only newer work. */
  ready(): Ready {
    const r = this.raft;
    const prevHard = this.prevHardState;
    const softState = softStateMoved(r, this.prevSoftState) ? r.softState() : undefined;
    const hardState = hardStateMoved(r, prevHard) ? r.hardState() : undefined;
    const entries = r.raftLog.nextUnstableEntries();
    const snapshot = r.raftLog.unstable.nextSnapshot();
    const committedEntries = r.raftLog.nextCommittedEntries();
    const rd: Ready = {
      softState,
      hardState,
      readStates: r.readStates,
      entries,
      snapshot,
      committedEntries,
      messages: r.msgs,
      // A commit index change alone need not be synced: it can be recovered from a quorum.
      mustSync:
        entries.length > 0 ||
        snapshot !== undefined ||
        r.term !== prevHard.term ||
        r.vote !== prevHard.vote,
    };
    r.msgs = [];
    r.readStates = [];
    if (softState !== undefined) this.prevSoftState = softState;
    if (hardState !== undefined) this.prevHardState = hardState;
    r.raftLog.unstable.acceptInProgress();
    const lastCommitted = committedEntries[committedEntries.length - 1];
    if (lastCommitted !== undefined) r.raftLog.acceptApplying(lastCommitted.index);
    return rd;
  }

  /**
   * The application persisted rd.entries, rd.hardState and rd.snapshot, sent rd.messages and
   * applied rd.snapshot and rd.committedEntries. A leader counts its own new entries toward the
   * commit quorum only from here on.
   */
  advance(rd: Ready): void {
    const r = this.raft;
    if (rd.snapshot !== undefined) r.onPersistedSnapshot(rd.snapshot.metadata.index);
    const lastEntry = rd.entries[rd.entries.length - 1];
    if (lastEntry !== undefined) r.onPersistedEntries(lastEntry.index, lastEntry.term);
    const lastCommitted = rd.committedEntries[rd.committedEntries.length - 1];
    if (lastCommitted !== undefined) {
      let size = 0;
      for (const e of rd.committedEntries) size += payloadSizeBytes(e);
      r.onApplied(lastCommitted.index, size);
    }
  }

  /** The current term (status().hardState.term without building the whole status). */
  term(): number {
    return this.raft.term;
  }

  status(): Status {
    const r = this.raft;
    const progress = new Map<NodeId, ProgressStatus>();
    if (r.state === "StateLeader") {
      for (const id of r.trk.ids) {
        const pr = r.trk.progress.get(id);
        if (pr === undefined) continue;
        const { match, next, state, isLearner } = pr;
        progress.set(id, { match, next, state, isLearner });
      }
    }
    return {
      id: r.id,
      hardState: r.hardState(),
      softState: r.softState(),
      applied: r.raftLog.applied,
      lastIndex: r.raftLog.lastIndex(),
      leadTransferee: r.leadTransferee,
      config: r.trk.config,
      progress,
    };
  }

  /** The transport failed to reach `id`: the leader stops pipelining to it until it answers. */
  reportUnreachable(id: NodeId): void {
    if (id === NONE) return;
    this.raft.step(localMessage("MsgUnreachable", this.raft.id, { from: id }));
  }

  /**
   * The outcome of sending a MsgSnap to `id`. The transport must report every MsgSnap it was
   * given: until then the leader sends the peer nothing but heartbeats (StateSnapshot).
   */
  reportSnapshot(id: NodeId, ok: boolean): void {
    if (id === NONE) return;
    this.raft.step(localMessage("MsgSnapStatus", this.raft.id, { from: id, reject: !ok }));
  }
}
