// The sender's side of InstallSnapshot. raft keeps a peer it sent a MsgSnap to in StateSnapshot
// until the transport reports the outcome (RawNode.reportSnapshot). The peer transport has no
// delivery receipts, so the outcome is read from the peer: a MsgAppResp at or past the snapshot's
// index means it arrived and was persisted; silence for `timeoutMs` counts as a failure, after
// which raft probes the peer again and may send a newer snapshot.
import type { TimerId, Timers } from "../env/timers.js";
import type { Message, NodeId } from "../raft/types.js";

interface Pending {
  readonly index: number;
  readonly timer: TimerId;
}

export class SnapshotReports {
  private readonly pending = new Map<NodeId, Pending>();

  constructor(
    private readonly timers: Timers,
    private readonly timeoutMs: number,
    /** Reports the outcome to raft (the member steps it and runs its Ready loop). */
    private readonly report: (to: NodeId, ok: boolean) => void,
  ) {}

  /** A MsgSnap at `index` went to `to`; a newer one replaces an older one still unanswered. */
  sent(to: NodeId, index: number): void {
    this.cancel(to);
    const timer = this.timers.schedule(this.timeoutMs, () => {
      this.pending.delete(to);
      this.report(to, false);
    });
    this.pending.set(to, { index, timer });
  }

  /** A message from a peer: an acknowledgement at or past a pending snapshot reports success. */
  received(m: Message): void {
    const p = this.pending.get(m.from);
    if (p === undefined || m.type !== "MsgAppResp" || m.reject || m.index < p.index) return;
    this.cancel(m.from);
    this.report(m.from, true);
  }

  /** Forgets every pending snapshot (the member stopped). */
  clear(): void {
    for (const to of [...this.pending.keys()]) this.cancel(to);
  }

  private cancel(to: NodeId): void {
    const p = this.pending.get(to);
    if (p === undefined) return;
    this.timers.cancel(p.timer);
    this.pending.delete(to);
  }
}
