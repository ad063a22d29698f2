// What a leader knows about one follower's log, and the state machine that decides how to send it
// entries: probe (one MsgApp at a time until the match point is found), replicate (optimistic
// pipelining inside the inflight window) and snapshot (waiting for a MsgSnap to be applied).
import { assert } from "../lib/assert.js";
import { Inflights } from "./inflights.js";

export type ProgressStateType = "StateProbe" | "StateReplicate" | "StateSnapshot";

/**
 * Progress of one peer as seen by the leader.
 * Invariants: `match < next`; `match` only grows while this leader is in office; in
 * StateSnapshot `pendingSnapshot > 0`, otherwise it is 0.
 */
export class Progress {
  /** Highest index known to be durably replicated on the peer. */
  match = 0;
  /** Index of the next entry to send. */
  next: number;
  state: ProgressStateType = "StateProbe";
  /** StateSnapshot: index of the snapshot being sent. */
  pendingSnapshot = 0;
  /** Heard from the peer since the last CheckQuorum round (the leader counts itself as active). */
  recentActive = false;
  /** The highest commit index sent to the peer in a MsgApp or heartbeat during this term. */
  sentCommit = 0;
  /** StateProbe: a probe is outstanding; no further MsgApp until it is answered or a heartbeat is. */
  msgAppFlowPaused = false;
  readonly inflights: Inflights;

  constructor(
    next: number,
    maxInflightMsgs: number,
    /** Learners receive the log but never vote nor count toward a commit quorum. */
    public isLearner: boolean,
  ) {
    assert(next >= 1, () => `progress next ${next}`);
    this.next = next;
    this.inflights = new Inflights(maxInflightMsgs);
  }

  private resetState(state: ProgressStateType): void {
    this.msgAppFlowPaused = false;
    this.pendingSnapshot = 0;
    this.state = state;
    this.inflights.reset();
  }

  becomeProbe(): void {
    // After a snapshot the peer holds at least the snapshot's index, so probe right after it.
    const floor = this.state === "StateSnapshot" ? this.pendingSnapshot + 1 : 0;
    this.resetState("StateProbe");
    this.next = Math.max(this.match + 1, floor);
  }

  becomeReplicate(): void {
    this.resetState("StateReplicate");
    this.next = this.match + 1;
  }

  becomeSnapshot(snapshotIndex: number): void {
    assert(snapshotIndex > 0, "snapshot index 0");
    this.resetState("StateSnapshot");
    this.pendingSnapshot = snapshotIndex;
    this.next = snapshotIndex + 1;
  }

  /** Bookkeeping after sending a MsgApp carrying entries up to `lastIndex` (0 entries: none). */
  sentEntries(entriesCount: number, lastIndex: number): void {
    switch (this.state) {
      case "StateReplicate":
        if (entriesCount > 0) {
          assert(lastIndex >= this.next, () => `sent ${lastIndex} below next ${this.next}`);
          this.next = lastIndex + 1;
          this.inflights.add(lastIndex);
        }
        return;
      case "StateProbe":
        // Every MsgApp in probe state is a probe: wait for its answer before the next one.
        this.msgAppFlowPaused = true;
        return;
      case "StateSnapshot":
        assert(false, "MsgApp sent to a peer in StateSnapshot");
    }
  }

  /**
   * The peer acknowledged `index`. Returns whether `match` advanced; an old (reordered)
   * acknowledgement changes nothing.
   */
  maybeUpdate(index: number): boolean {
    if (index <= this.match) return false;
    this.match = index;
    this.next = Math.max(this.next, index + 1);
    this.msgAppFlowPaused = false;
    return true;
  }

  /**
   * The peer rejected the MsgApp whose previous index was `rejected` and hinted that its log may
   * match up to `matchHint`. Returns false for a stale rejection (one that no longer concerns
   * the current `next`), true when `next` moved back and a new probe should be sent.
   */
  maybeDecrTo(rejected: number, matchHint: number): boolean {
    if (this.state === "StateReplicate") {
      // In replicate state a rejection at or below match comes from an older MsgApp.
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      return true;
    }
    // In probe state only the answer to the outstanding probe (at next-1) counts.
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, matchHint + 1), this.match + 1);
    this.msgAppFlowPaused = false;
    return true;
  }

  /**
   * Whether sending commit index `commit` may advance the peer's commit index: it is newer than
   * what we sent, and what we sent did not already cover everything the peer holds.
   */
  canBumpCommit(commit: number): boolean {
    return (
      this.state !== "StateSnapshot" && commit > this.sentCommit && this.sentCommit < this.next - 1
    );
  }

  /** Whether the leader must hold back MsgApp to this peer for now. */
  isPaused(): boolean {
    switch (this.state) {
      case "StateProbe":
        return this.msgAppFlowPaused;
      case "StateReplicate":
        return this.inflights.full();
      case "StateSnapshot":
        return true;
    }
  }
}
