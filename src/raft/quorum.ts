// Quorum arithmetic. A majority configuration is a set of voters; a joint configuration is two of
// them (incoming and outgoing) that must both agree. Membership changes only swap the
// configurations; commit and election code asks these functions and never counts by itself.
import type { NodeId } from "./types.js";

/** The outcome of an election (or of a ReadIndex heartbeat round) so far. */
export type VoteResult = "VotePending" | "VoteLost" | "VoteWon";

/** The voters of one configuration, sorted ascending, without duplicates. */
export type MajorityConfig = readonly NodeId[];

/** Incoming and outgoing voters; `outgoing` is empty unless a joint configuration is in effect. */
export interface JointConfig {
  readonly incoming: MajorityConfig;
  readonly outgoing: MajorityConfig;
}

/** The acknowledged (durable) log index of a voter, or undefined when unknown (counts as 0). */
export type AckedIndexer = (id: NodeId) => number | undefined;

/** A sorted, duplicate-free copy of `ids`. */
export function majorityConfig(ids: Iterable<NodeId>): NodeId[] {
  return [...new Set(ids)].sort((a, b) => a - b);
}

/**
 * The largest index that a majority of `config` has acknowledged. An empty configuration returns
 * Infinity so that it never constrains a joint configuration.
 */
export function majorityCommittedIndex(config: MajorityConfig, acked: AckedIndexer): number {
  const n = config.length;
  if (n === 0) return Infinity;
  const indexes = new Array<number>(n);
  // Descending insertion sort: configurations are a handful of voters, and this runs for every
  // append response, where Array.prototype.sort's own allocation showed.
  for (let i = 0; i < n; i++) {
    const v = acked(config[i] as NodeId) ?? 0;
    let j = i;
    while (j > 0 && (indexes[j - 1] as number) < v) {
      indexes[j] = indexes[j - 1] as number;
      j--;
    }
    indexes[j] = v;
  }
  // The quorum-th largest index is held by at least a quorum of voters.
  return indexes[Math.floor(n / 2)] as number;
}

/**
 * The result of the votes cast so far (true = granted). Votes of non-members are ignored.
 * An empty configuration wins by definition (again so that it never constrains a joint one).
 */
export function majorityVoteResult(
  config: MajorityConfig,
  votes: ReadonlyMap<NodeId, boolean>,
): VoteResult {
  if (config.length === 0) return "VoteWon";
  let granted = 0;
  let missing = 0;
  for (const id of config) {
    const v = votes.get(id);
    if (v === undefined) missing++;
    else if (v) granted++;
  }
  const quorum = Math.floor(config.length / 2) + 1;
  if (granted >= quorum) return "VoteWon";
  if (granted + missing >= quorum) return "VotePending";
  return "VoteLost";
}

/** The commit index of a joint configuration: both halves must have acknowledged it. */
export function jointCommittedIndex(config: JointConfig, acked: AckedIndexer): number {
  return Math.min(
    majorityCommittedIndex(config.incoming, acked),
    majorityCommittedIndex(config.outgoing, acked),
  );
}

/** A joint election is won when both halves win and lost as soon as either loses. */
export function jointVoteResult(
  config: JointConfig,
  votes: ReadonlyMap<NodeId, boolean>,
): VoteResult {
  const a = majorityVoteResult(config.incoming, votes);
  const b = majorityVoteResult(config.outgoing, votes);
  if (a === b) return a;
  if (a === "VoteLost" || b === "VoteLost") return "VoteLost";
  return "VotePending";
}

/** Every voter of either half, sorted ascending. */
export function jointVoterIds(config: JointConfig): NodeId[] {
  return majorityConfig([...config.incoming, ...config.outgoing]);
}
