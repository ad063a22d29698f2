// The leader's (and candidate's) view of the group: the voter configuration, one Progress per
// member and the votes of the current election. Iteration is always in ascending id order so that
// the messages a node emits never depend on insertion order.
import type { ConfState, NodeId } from "./types.js";
import { Progress } from "./progress.js";
import {
  type JointConfig,
  type VoteResult,
  jointCommittedIndex,
  jointVoteResult,
  jointVoterIds,
  majorityConfig,
} from "./quorum.js";

/**
 * Tracks membership, replication progress and votes.
 * Contract: `ids` is every member (voters of both halves and learners) in ascending order and is
 * exactly the key set of `progress`; a member is a learner in `progress` exactly when it is in
 * `config.learners` (an outgoing voter waiting in learnersNext still votes).
 */
export class ProgressTracker {
  config!: ConfState;
  voters!: JointConfig;
  readonly progress = new Map<NodeId, Progress>();
  ids!: readonly NodeId[];
  readonly votes = new Map<NodeId, boolean>();

  constructor(
    cs: ConfState,
    readonly maxInflightMsgs: number,
    nextIndex: number,
  ) {
    this.applyConfig(cs, nextIndex);
  }

  /**
   * Switches to configuration `cs`. Members that stay keep their progress (a demoted or promoted
   * one only changes role); a new member starts probing at `nextIndex` and counts as recently
   * active, so that CheckQuorum gives it an election timeout to answer before judging the quorum.
   */
  applyConfig(cs: ConfState, nextIndex: number): void {
    this.config = cs;
    this.voters = {
      incoming: majorityConfig(cs.voters),
      outgoing: majorityConfig(cs.votersOutgoing),
    };
    const voterIds = jointVoterIds(this.voters);
    this.ids = majorityConfig([...voterIds, ...cs.learners]);
    const previous = new Map(this.progress);
    this.progress.clear();
    for (const id of this.ids) {
      const isLearner = !voterIds.includes(id);
      let pr = previous.get(id);
      if (pr === undefined) {
        pr = new Progress(nextIndex, this.maxInflightMsgs, isLearner);
        pr.recentActive = previous.size > 0;
      }
      pr.isLearner = isLearner;
      this.progress.set(id, pr);
    }
  }

  /** Whether `id` is a voter of either half. */
  isVoter(id: NodeId): boolean {
    return this.voters.incoming.includes(id) || this.voters.outgoing.includes(id);
  }

  /** A single voter and no joint configuration: that voter is a quorum alone. */
  isSingleton(): boolean {
    return this.voters.incoming.length === 1 && this.voters.outgoing.length === 0;
  }

  /** The largest index durably replicated on a quorum (by the voters' `match`). */
  committed(): number {
    return jointCommittedIndex(this.voters, (id) => this.progress.get(id)?.match);
  }

  /**
   * Fresh progress for every member at the start of a term: nothing known about the peers, `next`
   * just past our last index. Our own `match` is what we have durably persisted (`selfMatch`),
   * never more, because an unpersisted entry must not count toward a quorum.
   */
  resetProgress(selfId: NodeId, nextIndex: number, selfMatch: number): void {
    for (const id of this.ids) {
      const old = this.progress.get(id) as Progress;
      const pr = new Progress(nextIndex, this.maxInflightMsgs, old.isLearner);
      if (id === selfId) pr.match = selfMatch;
      this.progress.set(id, pr);
    }
  }

  resetVotes(): void {
    this.votes.clear();
  }

  /** Records a vote (the first one from a voter counts; later ones are ignored). */
  recordVote(id: NodeId, granted: boolean): void {
    if (!this.votes.has(id)) this.votes.set(id, granted);
  }

  tallyVotes(): VoteResult {
    return jointVoteResult(this.voters, this.votes);
  }

  /** Whether a quorum of voters was active recently (CheckQuorum). */
  quorumActive(): boolean {
    const active = new Map<NodeId, boolean>();
    for (const id of this.ids) {
      const pr = this.progress.get(id) as Progress;
      if (!pr.isLearner) active.set(id, pr.recentActive);
    }
    return jointVoteResult(this.voters, active) === "VoteWon";
  }
}
