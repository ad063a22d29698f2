import { describe, expect, it } from "vitest";
import {
  jointCommittedIndex,
  jointVoteResult,
  majorityCommittedIndex,
  majorityConfig,
  majorityVoteResult,
} from "../../src/raft/quorum.js";

function acked(m: Record<number, number>): (id: number) => number | undefined {
  return (id) => m[id];
}

function votes(m: Record<number, boolean>): Map<number, boolean> {
  return new Map(Object.entries(m).map(([k, v]) => [Number(k), v]));
}

describe("majority commit index", () => {
  it("is the highest index held by a quorum", () => {
    expect(majorityCommittedIndex([1], acked({ 1: 5 }))).toBe(5);
    expect(majorityCommittedIndex([1, 2, 3], acked({ 1: 5, 2: 3, 3: 1 }))).toBe(3);
    expect(majorityCommittedIndex([1, 2, 3, 4], acked({ 1: 5, 2: 4, 3: 3, 4: 1 }))).toBe(3);
    expect(majorityCommittedIndex([1, 2, 3, 4, 5], acked({ 1: 9, 2: 9, 3: 2, 4: 2, 5: 1 }))).toBe(
      2,
    );
  });

  it("counts unknown voters as 0 and ignores non-voters", () => {
    expect(majorityCommittedIndex([1, 2, 3], acked({ 1: 5, 2: 4 }))).toBe(4);
    expect(majorityCommittedIndex([1, 2, 3], acked({ 1: 5, 7: 9, 8: 9 }))).toBe(0);
  });

  it("is unbounded for an empty configuration", () => {
    expect(majorityCommittedIndex([], acked({}))).toBe(Infinity);
  });

  it("joint: the minimum of both halves", () => {
    const cfg = { incoming: [1, 2, 3], outgoing: [3, 4, 5] };
    const a = acked({ 1: 7, 2: 7, 3: 2, 4: 1, 5: 1 });
    expect(jointCommittedIndex(cfg, a)).toBe(1);
    expect(jointCommittedIndex({ incoming: [1, 2, 3], outgoing: [] }, a)).toBe(7);
  });
});

describe("vote results", () => {
  it("majority", () => {
    const cfg = [1, 2, 3];
    expect(majorityVoteResult(cfg, votes({}))).toBe("VotePending");
    expect(majorityVoteResult(cfg, votes({ 1: true }))).toBe("VotePending");
    expect(majorityVoteResult(cfg, votes({ 1: true, 2: true }))).toBe("VoteWon");
    expect(majorityVoteResult(cfg, votes({ 1: true, 2: false }))).toBe("VotePending");
    expect(majorityVoteResult(cfg, votes({ 1: false, 2: false }))).toBe("VoteLost");
    expect(majorityVoteResult([1, 2, 3, 4], votes({ 1: true, 2: true, 3: false, 4: false }))).toBe(
      "VoteLost",
    );
    expect(majorityVoteResult([], votes({}))).toBe("VoteWon");
    // Votes of non-members do not count.
    expect(majorityVoteResult(cfg, votes({ 1: true, 9: true }))).toBe("VotePending");
  });

  it("joint: both halves must win; either losing loses", () => {
    const cfg = { incoming: [1, 2, 3], outgoing: [3, 4, 5] };
    expect(jointVoteResult(cfg, votes({ 1: true, 2: true }))).toBe("VotePending");
    expect(jointVoteResult(cfg, votes({ 1: true, 2: true, 4: true, 5: true }))).toBe("VoteWon");
    expect(jointVoteResult(cfg, votes({ 1: true, 2: true, 4: false, 5: false }))).toBe("VoteLost");
    expect(jointVoteResult(cfg, votes({ 1: false, 2: false, 4: true, 5: true }))).toBe("VoteLost");
  });

  it("majorityConfig sorts and deduplicates", () => {
    expect(majorityConfig([3, 1, 3, 2])).toEqual([1, 2, 3]);
  });
});
