// Raft's safety properties, checked online as the members persist, commit and apply:
// - election safety: at most one leader per term;
// - log matching: two logs with an entry of the same index and term hold the same entry there and
//   the same term before it (checked by induction: every appended (index, term) must always come
//   with the same data and the same previous term);
// - leader completeness: a new leader holds every entry committed anywhere so far;
// - state machine safety: every member applies the same entry at each index, in index order;
// - a member's commit index never goes back (across restarts too, since it is persisted).
import type { Entry } from "../../src/raft/types.js";
import { digestBytes } from "../trace-hash.js";
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

export class RaftSafetyChecker {
  private readonly leaderOfTerm = new Map<number, string>();
  private readonly appended = new Map<number, Map<number, AppendRecord>>();
  // Entry i committed anywhere: committedTerm[i], committedDigest[i] (index 0 unused).
  private readonly committedTerm: number[] = [0];
  private readonly committedDigest: number[] = [0];
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

  onLeader(member: string, term: number, termAt: TermAt): void {
    const other = this.leaderOfTerm.get(term);
    if (other !== undefined && other !== member) {
      this.fail("election-safety", member, `two leaders in term ${term}: ${other} and ${member}`);
    }
    this.leaderOfTerm.set(term, member);
    this.elections++;
    for (let i = 1; i <= this.committedIndex; i++) {
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

  /** A member's persisted commit index moved to `commit`; `entryAt` reads its persisted log. */
  onCommit(member: string, commit: number, entryAt: (index: number) => Entry | undefined): void {
    const before = this.commitOf.get(member) ?? 0;
    if (commit < before) {
      this.fail("commit-monotonic", member, `commit index went back from ${before} to ${commit}`);
      return;
    }
    this.commitOf.set(member, commit);
    for (let i = before + 1; i <= commit; i++) {
      const e = entryAt(i);
      if (e === undefined) {
        this.fail("log-matching", member, `committed entry ${i} is missing from the log`);
        return;
      }
      this.recordCommitted(member, e);
    }
  }

  onApply(member: string, e: Entry): void {
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
    }
    this.appliedOf.set(member, e.index);
  }

  /** The member lost its state machine (crash): it re-applies from `appliedIndex` + 1. */
  onRestart(member: string, appliedIndex: number): void {
    this.appliedOf.set(member, appliedIndex);
  }

  appliedIndex(member: string): number {
    return this.appliedOf.get(member) ?? 0;
  }

  private matchesCommitted(e: Entry): boolean {
    return (
      this.committedTerm[e.index] === e.term && this.committedDigest[e.index] === entryDigest(e)
    );
  }

  private recordCommitted(member: string, e: Entry): void {
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
    this.committedDigest.push(entryDigest(e));
  }

  private fail(check: string, member: string, message: string): void {
    this.violations.add({ check, atMs: this.now(), member, message });
  }
}
