// The Raft-only workload: operations at a Poisson rate, offered to the member the client believes
// leads (or a random member when none is known), like a client that follows the leader. Most are
// proposals of unique 8-byte values; a share (`readRatio`) are ReadIndex requests, checked online:
// the read point a member returns must include every entry committed anywhere before the request
// was made, or a read served at it would be stale. Every operation and its fate are recorded.
import type { Prng } from "../../src/lib/prng.js";
import type { Entry, ReadState } from "../../src/raft/types.js";
import type { RaftCluster } from "../raft/raft-cluster.js";
import type { RaftMember } from "../raft/raft-member.js";
import type { OperationRecord } from "../run-artifacts.js";
import type { World } from "../world.js";

export interface Proposal {
  readonly id: number;
  readonly proposedAtMs: number;
  readonly member: string;
  accepted: boolean;
  /** The leader's term when a leader accepted it; undefined if a follower took it (forwarded). */
  leaderTerm: number | undefined;
  committedAtMs: number | undefined;
  index: number | undefined;
}

export interface ReadRequest {
  readonly id: number;
  readonly requestedAtMs: number;
  readonly member: string;
  /** The highest index any member knew committed when the read was requested. */
  readonly committedAtRequest: number;
  answeredIndex: number | undefined;
  answeredAtMs: number | undefined;
}

// An op id travels as 8 bytes, a big-endian float64. A scratch float and its bytes do the
// conversion: reaching a small array's `.buffer` (as a DataView needs) would move its bytes off
// the heap, which costs a call into the runtime for every proposal and every applied entry.
const scratchFloat = new Float64Array(1);
const scratchBytes = new Uint8Array(scratchFloat.buffer);
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export function encodeOpId(id: number): Uint8Array {
  scratchFloat[0] = id;
  const bytes = new Uint8Array(8);
  for (let i = 0; i < 8; i++) bytes[i] = scratchBytes[LITTLE_ENDIAN ? 7 - i : i] as number;
  return bytes;
}

export function decodeOpId(data: Uint8Array): number | undefined {
  if (data.length !== 8) return undefined;
  for (let i = 0; i < 8; i++) scratchBytes[LITTLE_ENDIAN ? 7 - i : i] = data[i] as number;
  return scratchFloat[0];
}

/** The operations of the run as the report shows them. */
export function operationRecords(w: RaftProposalWorkload): OperationRecord[] {
  const proposals = w.proposals.map((p): OperationRecord => ({
    client: "client",
    kind: "propose",
    callMs: p.proposedAtMs,
    returnMs: p.committedAtMs,
    result: !p.accepted ? "dropped" : p.committedAtMs !== undefined ? "ok" : "unknown",
  }));
  const reads = w.reads.map((r): OperationRecord => ({
    client: "client",
    kind: "read-index",
    callMs: r.requestedAtMs,
    returnMs: r.answeredAtMs,
    result: r.answeredAtMs !== undefined ? "ok" : "unknown",
  }));
  return [...proposals, ...reads].sort((a, b) => a.callMs - b.callMs);
}

export class RaftProposalWorkload {
  readonly proposals: Proposal[] = [];
  readonly reads: ReadRequest[] = [];
  private readonly random: Prng;
  private cluster: RaftCluster | undefined;

  constructor(
    private readonly world: World,
    private readonly ratePerS: number,
    private readonly readRatio: number,
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
    const id = decodeOpId(entry.data);
    const p = id === undefined ? undefined : this.proposals[id];
    if (p === undefined || p.committedAtMs !== undefined) return;
    p.committedAtMs = this.world.nowMs;
    p.index = entry.index;
  }

  /** Hook for the cluster: a ReadIndex request was answered at `member`. */
  onReadState(member: RaftMember, state: ReadState): void {
    const id = decodeOpId(state.requestCtx);
    const read = id === undefined ? undefined : this.reads[id];
    if (read === undefined || read.answeredIndex !== undefined) return;
    read.answeredIndex = state.index;
    read.answeredAtMs = this.world.nowMs;
    if (state.index < read.committedAtRequest) {
      const cluster = this.cluster as RaftCluster;
      cluster.violations.add({
        check: "read-index",
        atMs: this.world.nowMs,
        member: member.name,
        message: `read ${id} got read index ${state.index}, but ${read.committedAtRequest} was committed before it was requested (stale read)`,
      });
    }
  }

  private scheduleNext(stopMs: number): void {
    const meanMs = 1000 / this.ratePerS;
    const delay = Math.max(1, Math.round(this.random.exponential(meanMs)));
    if (this.world.nowMs + delay >= stopMs) return;
    this.world.schedule(delay, "client", "op", this.proposals.length + this.reads.length, () => {
      if (this.readRatio > 0 && this.random.chance(this.readRatio)) this.readOne();
      else this.proposeOne();
      this.scheduleNext(stopMs);
    });
  }

  private target(): RaftMember {
    const cluster = this.cluster as RaftCluster;
    return cluster.leader() ?? this.random.pick(cluster.members);
  }

  private readOne(): void {
    const target = this.target();
    const id = this.reads.length;
    this.reads.push({
      id,
      requestedAtMs: this.world.nowMs,
      member: target.name,
      committedAtRequest: (this.cluster as RaftCluster).checker.committedIndex,
      answeredIndex: undefined,
      answeredAtMs: undefined,
    });
    target.readIndex(encodeOpId(id));
  }

  private proposeOne(): void {
    const target = this.target();
    const proposal: Proposal = {
      id: this.proposals.length,
      proposedAtMs: this.world.nowMs,
      member: target.name,
      accepted: false,
      leaderTerm: undefined,
      committedAtMs: undefined,
      index: undefined,
    };
    // Recorded before proposing: a single-member cluster commits and applies inside propose().
    this.proposals.push(proposal);
    const atLeader = target.role === "StateLeader";
    proposal.accepted = target.propose(encodeOpId(proposal.id)) === "ok";
    if (proposal.accepted && atLeader) proposal.leaderTerm = target.term;
  }
}
