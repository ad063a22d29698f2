// Liveness after the faults end: within `within` a leader exists, leadership then stays put (PreVote
// and CheckQuorum keep a healed cluster stable), and every proposal a leader accepts from then on is
// committed and applied by every member that is up.
import type { RaftCluster } from "../raft/raft-cluster.js";
import type { Proposal } from "../workload/raft-proposals.js";
import type { World } from "../world.js";

export interface LivenessPlan {
  /** Faults end (and the cluster is healed) here. */
  readonly faultsEndMs: number;
  readonly withinMs: number;
  /** Proposals accepted in [faultsEndMs + withinMs, probeEndMs) must commit. */
  readonly probeEndMs: number;
}

export class RaftLivenessCheck {
  private leaderTerm: number | undefined;
  private leaderName: string | undefined;
  /** Virtual time from the end of the faults to the first moment a leader was seen. */
  recoveryMs: number | undefined;

  constructor(
    private readonly world: World,
    private readonly cluster: RaftCluster,
    private readonly plan: LivenessPlan,
  ) {}

  start(): void {
    const { faultsEndMs, withinMs } = this.plan;
    this.world.schedule(faultsEndMs, "checker", "liveness:watch", 0, () => this.watchRecovery());
    this.world.schedule(faultsEndMs + withinMs, "checker", "liveness:leader", 0, () =>
      this.checkLeader(),
    );
  }

  private watchRecovery(): void {
    if (this.cluster.leader() !== undefined) {
      this.recoveryMs = this.world.nowMs - this.plan.faultsEndMs;
      return;
    }
    if (this.world.nowMs < this.plan.faultsEndMs + this.plan.withinMs) {
      this.world.schedule(10, "checker", "liveness:watch", 0, () => this.watchRecovery());
    }
  }

  private checkLeader(): void {
    const leader = this.cluster.leader();
    if (leader === undefined) {
      this.fail(`no leader ${this.plan.withinMs}ms after the faults ended`);
      return;
    }
    this.leaderTerm = leader.term;
    this.leaderName = leader.name;
  }

  /** Runs at the end of the run. */
  finish(proposals: readonly Proposal[]): void {
    if (this.leaderTerm === undefined) return;
    const leader = this.cluster.leader();
    if (leader === undefined || leader.term !== this.leaderTerm) {
      this.fail(
        `leadership moved after the cluster healed (${this.leaderName} term ${this.leaderTerm} -> ${leader?.name ?? "none"})`,
      );
      return;
    }
    const from = this.plan.faultsEndMs + this.plan.withinMs;
    const due = proposals.filter(
      (p) =>
        p.proposedAtMs >= from &&
        p.proposedAtMs < this.plan.probeEndMs &&
        p.leaderTerm === this.leaderTerm,
    );
    const lost = due.find((p) => p.committedAtMs === undefined);
    if (lost !== undefined) {
      this.fail(
        `proposal ${lost.id} accepted by the leader at ${lost.proposedAtMs}ms was never committed`,
      );
      return;
    }
    const lastIndex = due.reduce((max, p) => Math.max(max, p.index ?? 0), 0);
    for (const m of this.cluster.members) {
      if (m.host.state === "up" && m.applied < lastIndex) {
        this.fail(`${m.name} applied up to ${m.applied}, behind committed index ${lastIndex}`);
        return;
      }
    }
  }

  private fail(message: string): void {
    this.cluster.violations.add({
      check: "liveness",
      atMs: this.world.nowMs,
      member: undefined,
      message,
    });
  }
}
