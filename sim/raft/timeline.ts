// Samples every member's Raft state at a fixed virtual interval, for the report's per-member
// timeline (role, term, commit index over time).
import type { MemberSample } from "../run-artifacts.js";
import type { World } from "../world.js";
import type { RaftCluster } from "./raft-cluster.js";

export class RaftTimeline {
  readonly samples: MemberSample[] = [];

  constructor(
    private readonly world: World,
    private readonly cluster: RaftCluster,
    private readonly intervalMs: number,
  ) {}

  /** Samples now and then every interval until `endMs`. */
  start(endMs: number): void {
    const sample = (): void => {
      this.sampleAll();
      if (this.world.nowMs + this.intervalMs <= endMs) {
        this.world.schedule(this.intervalMs, "sampler", "sample", 0, sample);
      }
    };
    this.world.schedule(0, "sampler", "sample", 0, sample);
  }

  private sampleAll(): void {
    for (const m of this.cluster.members) {
      const state = m.host.state;
      this.samples.push({
        atMs: this.world.nowMs,
        member: m.name,
        role: state === "up" ? m.role : state,
        term: m.term,
        commitIndex: m.commitIndex,
      });
    }
  }
}
