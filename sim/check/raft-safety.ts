// Raft's safety properties, checked online as the members persist, commit and apply:
// - election safety: at most one leader per term;
// - log matching: two logs with an entry of the same index and term hold the same entry there and
//   the same term before it (checked by induction: every appended (index, term) must always come
//   with the same data and the same previous term);
// - leader completeness: a new leader holds every entry committed anywhere so far;
// - state machine safety: every member applies the same entry at each index, in index order;
// - a member's commit index never goes back while it runs (a restart may recover a lower one: a
//   commit-only hard state is written without fsync, and a quorum still holds the entries);
// - a state machine restored from a snapshot (at restart, or installed from the leader) holds
//   exactly the committed entries up to its index, and its digest continues the same sequence.
// Members are named by the harness; a name can outlive its member when a removed member is
// replaced by a new one (a new Raft id, an empty log) on the same machine. onReplaced starts the
// name's next life: the new member's positions start from nothing, and leadership is recorded per
// life, so two lives of one name leading the same term are two leaders.
import type { Entry } from "../../src/raft/types.js";
import { digestBytes, digestWords } from "../trace-hash.js";
import type { Violations } from "./violation.js";

/** Reads one member's persisted log: the term at an index, or undefined if not there. */
export type TermAt = (index: number) => number | undefined;

interface AppendRecord {
  readonly prevTerm: number;
  readonly digest: number;
}

function entryDigest(e: Entry): number {
  return (digestBytes(e.data) ^ (e.type === "EntryNormal" ? 0 : 0x5bd1e995)) >>> 0;
}

/**
 * The digest of a state machine after applying `e` to one whose digest was `prev`: every entry
 * counts (the leader's empty entries too), by index, term and content, so two members with equal
 * digests at an index applied the same entries in the same order up to it.
 */
export function foldApplied(prev: number, e: Entry): number {
  return digestWords(prev, e.index, e.term, entryDigest(e));
}

/** What a state machine says about itself: the checker compares it with the committed history. */
export interface AppliedSummary {
  /** The index of the last entry applied (a snapshot's index after a restore). */
  readonly index: number;
  /** Entries with data (proposals) applied so far. */
  readonly proposals: number;
  /** foldApplied over every entry up to `index`. */
  readonly digest: number;
}

export class RaftSafetyChecker {
  /** The leader of each term, as a life label (see lifeLabel). */
  private readonly leaderOfTerm = new Map<number, string>();
  /** Each replaced name's current life, from 2 (a name not here is in its first life). */
  private readonly lifeOf = new Map<string, number>();
  private readonly appended = new Map<number, Map<number, AppendRecord>>();
  // Entry i committed anywhere: committedTerm[i], committedDigest[i] (index 0 unused).
  private readonly committedTerm: number[] = [0];
  // The term in which entry i was first known committed (the reporting member's current term): a
  // leader of term T must hold the entries committed in earlier terms. A stale member can still
  // win an older term's election late (its votes were granted back then), and that leader need not
  // hold entries a later term committed.
  private readonly commitTermOf: number[] = [0];
  private readonly committedDigest: number[] = [0];
  // The state a member reaches by applying committed entries 1..i: stateDigest[i], proposals[i].
  private readonly stateDigest: number[] = [0];
  private readonly stateProposals: number[] = [0];
  private readonly commitOf = new Map<string, number>();
  private readonly appliedOf = new Map<string, number>();
  private elections = 0;

  constructor(
    private readonly violations: Violations,
    private readonly now: () => number,
  ) {}

  /** How many times a member became leader. */
  get leaderElections(): number {
    return this.elections;
  }

  get committedIndex(): number {
    return this.committedTerm.length - 1;
  }

  /**
   * `member` became leader of `term`. Its log must hold every committed entry; entries below
   * `fromIndex` (its snapshot's index) are compacted away and covered by the snapshot, whose
   * state was checked when it was restored.
   */
  onLeader(member: string, term: number, termAt: TermAt, fromIndex = 1): void {
    const who = this.lifeLabel(member);
    const other = this.leaderOfTerm.get(term);
    if (other !== undefined && other !== who) {
      this.fail("election-safety", member, `two leaders in term ${term}: ${other} and ${who}`);
    }
    this.leaderOfTerm.set(term, who);
    this.elections++;
    for (let i = Math.max(1, fromIndex); i <= this.committedIndex; i++) {
      if ((this.commitTermOf[i] as number) >= term) continue;
      if (termAt(i) !== this.committedTerm[i]) {
        this.fail(
          "leader-completeness",
          member,
          `new leader of term ${term} lacks committed entry ${i} (term ${this.committedTerm[i]}, has ${termAt(i) ?? "none"})`,
        );
        return;
      }
    }
  }

  /** Entries a member is about to persist; prevTerm is the term of the entry before the first. */
  onAppend(member: string, entries: readonly Entry[], prevTerm: number): void {
    let prev = prevTerm;
    for (const e of entries) {
      const record = { prevTerm: prev, digest: entryDigest(e) };
      let atIndex = this.appended.get(e.index);
      if (atIndex === undefined) this.appended.set(e.index, (atIndex = new Map()));
      const seen = atIndex.get(e.term);
      if (seen === undefined) atIndex.set(e.term, record);
      else if (seen.prevTerm !== record.prevTerm || seen.digest !== record.digest) {
        this.fail(
          "log-matching",
          member,
          `entry ${e.index} of term ${e.term} differs between logs`,
        );
      }
      prev = e.term;
    }
  }

  /**
   * A member's persisted commit index moved to `commit`; `entryAt` reads its persisted log.
   * Entries up to `snapshotIndex` are compacted into its snapshot (checked when restored).
   */
  onCommit(
    member: string,
    commit: number,
    entryAt: (index: number) => Entry | undefined,
    snapshotIndex = 0,
    /** The member's current term; unknown (restores) counts as "after every leader so far". */
    term = Number.POSITIVE_INFINITY,
  ): void {
    const before = this.commitOf.get(member) ?? 0;
    if (commit < before) {
      this.fail("commit-monotonic", member, `commit index went back from ${before} to ${commit}`);
      return;
    }
    this.commitOf.set(member, commit);
    for (let i = Math.max(before, snapshotIndex) + 1; i <= commit; i++) {
      const e = entryAt(i);
      if (e === undefined) {
        this.fail("log-matching", member, `committed entry ${i} is missing from the log`);
        return;
      }
      this.recordCommitted(member, e, term);
    }
  }

  /**
   * A member applied `e`; `after`, when given, is its state machine's summary after it (checked
   * against the state reached by applying the committed entries in order).
   */
  onApply(member: string, e: Entry, after?: AppliedSummary): void {
    const expected = (this.appliedOf.get(member) ?? 0) + 1;
    if (e.index !== expected) {
      this.fail(
        "state-machine-safety",
        member,
        `applied entry ${e.index} when ${expected} was next`,
      );
    } else if (e.index > this.committedIndex) {
      this.fail(
        "state-machine-safety",
        member,
        `applied entry ${e.index} before any member committed it`,
      );
    } else if (!this.matchesCommitted(e)) {
      this.fail(
        "state-machine-safety",
        member,
        `applied a different entry at index ${e.index} than other members`,
      );
    } else if (after !== undefined) {
      this.checkSummary(member, after, "after applying");
    }
    this.appliedOf.set(member, e.index);
  }

  /**
   * From now on `member` names a new Raft member that replaced the removed one of that name (a
   * fresh id and an empty log): its commit and applied positions start from nothing, and what the
   * earlier member did (its leadership included) stays with the earlier life.
   */
  onReplaced(member: string): void {
    this.lifeOf.set(member, (this.lifeOf.get(member) ?? 1) + 1);
    this.commitOf.delete(member);
    this.appliedOf.delete(member);
  }

  /** The member as its current life: the name, with the replacement's number after the first. */
  lifeLabel(member: string): string {
    const life = this.lifeOf.get(member);
    return life === undefined ? member : `${member} (replacement ${life - 1})`;
  }

  /** The member lost its state machine (crash): it re-applies from `appliedIndex` + 1. */
  onRestart(member: string, appliedIndex: number): void {
    this.appliedOf.set(member, appliedIndex);
  }

  /**
   * A member restarted from durable storage: its state machine is `restored` (its snapshot's, or
   * empty), its recovered commit index `commit` and `entryAt` reads its recovered log. The
   * restored state must be a committed prefix, and the recovered log must hold committed entries
   * up to the recovered commit index.
   */
  onRecover(
    member: string,
    restored: AppliedSummary,
    commit: number,
    entryAt: (index: number) => Entry | undefined,
  ): void {
    if (restored.index > 0) this.checkSummary(member, restored, "restored from its snapshot");
    this.appliedOf.set(member, restored.index);
    this.commitOf.set(member, restored.index);
    this.onCommit(member, Math.max(commit, restored.index), entryAt, restored.index);
  }

  /**
   * A running member replaced its state machine with a snapshot received from the leader: its
   * applied index jumps to the snapshot's, and the snapshot must be a committed prefix.
   */
  onRestore(member: string, restored: AppliedSummary): void {
    const applied = this.appliedOf.get(member) ?? 0;
    if (restored.index <= applied) {
      this.fail(
        "state-machine-safety",
        member,
        `restored a snapshot at ${restored.index}, not past its applied index ${applied}`,
      );
    }
    this.checkSummary(member, restored, "restored from a leader's snapshot");
    this.appliedOf.set(member, restored.index);
  }

  appliedIndex(member: string): number {
    return this.appliedOf.get(member) ?? 0;
  }

  private matchesCommitted(e: Entry): boolean {
    return (
      this.committedTerm[e.index] === e.term && this.committedDigest[e.index] === entryDigest(e)
    );
  }

  private recordCommitted(member: string, e: Entry, term: number): void {
    if (e.index <= this.committedIndex) {
      if (!this.matchesCommitted(e)) {
        this.fail(
          "state-machine-safety",
          member,
          `committed a different entry at index ${e.index} than other members`,
        );
      }
      return;
    }
    if (e.index !== this.committedIndex + 1) {
      this.fail(
        "log-matching",
        member,
        `committed entry ${e.index} with a gap after ${this.committedIndex}`,
      );
      return;
    }
    this.committedTerm.push(e.term);
    this.commitTermOf.push(term);
    this.committedDigest.push(entryDigest(e));
    this.stateDigest.push(foldApplied(this.stateDigest[e.index - 1] as number, e));
    this.stateProposals.push(
      (this.stateProposals[e.index - 1] as number) + (e.data.length > 0 ? 1 : 0),
    );
  }

  /** A member's state machine must equal the one the committed entries up to its index build. */
  private checkSummary(member: string, s: AppliedSummary, when: string): void {
    if (s.index > this.committedIndex) {
      this.fail(
        "state-machine-safety",
        member,
        `state ${when} is at index ${s.index}, past every committed entry (${this.committedIndex})`,
      );
      return;
    }
    const digest = this.stateDigest[s.index] as number;
    const proposals = this.stateProposals[s.index] as number;
    if (s.digest !== digest || s.proposals !== proposals) {
      this.fail(
        "state-machine-safety",
        member,
        `state ${when} at index ${s.index} holds ${s.proposals} proposals (digest ${s.digest.toString(16)}), the committed entries give ${proposals} (digest ${digest.toString(16)})`,
      );
    }
  }

  private fail(check: string, member: string, message: string): void {
    this.violations.add({ check, atMs: this.now(), member, message });
  }
}
