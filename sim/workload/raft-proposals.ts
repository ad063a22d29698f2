// The Raft-only workload: proposals of unique 8-byte values at a Poisson rate, offered to the member
// the client believes leads (or a random member when none is known), like a client that follows
// the leader. Every proposal and its fate are recorded.
import type { Prng } from "../../src/lib/prng.js";
import type { Entry } from "../../src/raft/types.js";
import type { RaftCluster } from "../raft/raft-cluster.js";
import type { RaftMember } from "../raft/raft-member.js";
import type { World } from "../world.js";

export interface Proposal {
  readonly id: number;
  readonly proposedAtMs: number;
  readonly member: string;
  readonly accepted: boolean;
  /** The leader's term when a leader accepted it; undefined if a follower took it (forwarded). */
  readonly leaderTerm: number | undefined;
  committedAtMs: number | undefined;
  index: number | undefined;
}

function encode(id: number): Uint8Array {
  const bytes = new Uint8Array(8);
  new DataView(bytes.buffer).setFloat64(0, id);
  return bytes;
}

function decode(data: Uint8Array): number | undefined {
  if (data.length !== 8) return undefined;
  return new DataView(data.buffer, data.byteOffset, 8).getFloat64(0);
}

export class RaftProposalWorkload {
  readonly proposals: Proposal[] = [];
  private readonly random: Prng;
  private cluster: RaftCluster | undefined;

  constructor(
    private readonly world: World,
    private readonly ratePerS: number,
  ) {
    this.random = world.stream("workload");
  }

  /** Starts proposing now and stops at `stopMs`. */
  start(cluster: RaftCluster, stopMs: number): void {
    this.cluster = cluster;
    if (this.ratePerS > 0) this.scheduleNext(stopMs);
  }

  /** Hook for the cluster: an entry was applied by a member. */
  onApply(_member: RaftMember, entry: Entry): void {
    const id = decode(entry.data);
    const p = id === undefined ? undefined : this.proposals[id];
    if (p === undefined || p.committedAtMs !== undefined) return;
    p.committedAtMs = this.world.nowMs;
    p.index = entry.index;
  }

  private scheduleNext(stopMs: number): void {
    const meanMs = 1000 / this.ratePerS;
    const delay = Math.max(1, Math.round(this.random.exponential(meanMs)));
    if (this.world.nowMs + delay >= stopMs) return;
    this.world.schedule(delay, "client", "propose", this.proposals.length, () => {
      this.proposeOne();
      this.scheduleNext(stopMs);
    });
  }

  private proposeOne(): void {
    const cluster = this.cluster as RaftCluster;
    const leader = cluster.leader();
    const target = leader ?? this.random.pick(cluster.members);
    const id = this.proposals.length;
    const accepted = target.propose(encode(id)) === "ok";
    const atLeader = target.role === "StateLeader";
    this.proposals.push({
      id,
      proposedAtMs: this.world.nowMs,
      member: target.name,
      accepted,
      leaderTerm: accepted && atLeader ? target.term : undefined,
      committedAtMs: undefined,
      index: undefined,
    });
  }
}
