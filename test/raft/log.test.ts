import { describe, expect, it } from "vitest";
import { ENTRY_OVERHEAD_BYTES, RaftLog } from "../../src/raft/log.js";
import { MemoryStorage } from "../../src/raft/memory-storage.js";
import type { Entry } from "../../src/raft/types.js";

const VOTERS = {
  voters: [1],
  learners: [],
  votersOutgoing: [],
  learnersNext: [],
  autoLeave: false,
};

function ent(index: number, term: number, data = ""): Entry {
  return { index, term, type: "EntryNormal", data: new TextEncoder().encode(data) };
}

/** Entries with the given terms at indexes 1, 2, ... */
function ents(terms: number[], from = 1): Entry[] {
  return terms.map((t, i) => ent(from + i, t));
}

function logWithStable(terms: number[]): RaftLog {
  const storage = new MemoryStorage({ confState: VOTERS });
  storage.append(ents(terms));
  return new RaftLog(storage, Infinity);
}

function termsOf(l: RaftLog): number[] {
  const all = l.slice(l.firstIndex(), l.lastIndex() + 1, Infinity);
  if (all === "compacted") throw new Error("compacted");
  return all.map((e) => e.term);
}

describe("RaftLog terms", () => {
  it("looks terms up in storage and unstable, with the snapshot's term at firstIndex-1", () => {
    const storage = new MemoryStorage({ confState: VOTERS });
    storage.append(ents([1, 1, 2, 3, 3]));
    storage.createSnapshot(3, undefined, new Uint8Array());
    storage.compact(3);
    const l = new RaftLog(storage, Infinity);
    l.append([ent(6, 4)]);
    expect(l.firstIndex()).toBe(4);
    expect(l.lastIndex()).toBe(6);
    expect(l.term(2)).toBe("compacted");
    expect(l.term(3)).toBe(2); // the snapshot's term
    expect(l.term(5)).toBe(3);
    expect(l.term(6)).toBe(4); // unstable
    expect(l.term(7)).toBe("unavailable");
    expect(l.lastTerm()).toBe(4);
    expect(l.termOrZero(1)).toBe(0);
  });

  it("isUpToDate compares last term, then last index", () => {
    const l = logWithStable([1, 2, 2]);
    expect(l.isUpToDate(3, 2)).toBe(true);
    expect(l.isUpToDate(2, 2)).toBe(false);
    expect(l.isUpToDate(1, 3)).toBe(true);
    expect(l.isUpToDate(9, 1)).toBe(false);
  });
});

describe("findConflict", () => {
  const l = logWithStable([1, 2, 3]);
  it.each([
    { given: [] as Entry[], want: 0 },
    { given: ents([1, 2, 3]), want: 0 },
    { given: ents([2, 3], 2), want: 0 },
    { given: ents([3], 3), want: 0 },
    { given: ents([1, 2, 3, 4, 4], 1), want: 4 },
    { given: ents([3, 4, 4], 3), want: 4 },
    { given: ents([4, 4], 1), want: 1 },
    { given: ents([1, 4, 4], 2), want: 2 },
    { given: ents([1, 2, 4, 4], 1), want: 3 },
  ])("$given.length entries -> $want", ({ given, want }) => {
    expect(l.findConflict(given)).toBe(want);
  });
});

describe("findConflictByTerm", () => {
  // Log: terms 2 2 3 3 5 at indexes 1..5.
  const l = logWithStable([2, 2, 3, 3, 5]);
  it.each([
    { index: 5, term: 5, want: { index: 5, term: 5 } },
    { index: 5, term: 4, want: { index: 4, term: 3 } },
    { index: 5, term: 3, want: { index: 4, term: 3 } },
    { index: 3, term: 2, want: { index: 2, term: 2 } },
    { index: 5, term: 1, want: { index: 0, term: 0 } },
  ])("($index, $term)", ({ index, term, want }) => {
    expect(l.findConflictByTerm(index, term)).toEqual(want);
  });

  it("returns the index with term 0 once it reaches compacted entries", () => {
    const storage = new MemoryStorage({ confState: VOTERS });
    storage.append(ents([1, 1, 2, 2, 3]));
    storage.createSnapshot(3, undefined, new Uint8Array());
    storage.compact(3);
    const c = new RaftLog(storage, Infinity);
    expect(c.findConflictByTerm(5, 1)).toEqual({ index: 2, term: 0 });
  });
});

describe("maybeAppend", () => {
  it("appends after a matching entry and commits up to min(commit, last new)", () => {
    const l = logWithStable([1, 2, 3]);
    expect(l.maybeAppend(3, 3, 5, ents([4, 4], 4))).toBe(5);
    expect(l.committed).toBe(5);
    expect(termsOf(l)).toEqual([1, 2, 3, 4, 4]);
    // A commit beyond the entries of the message is capped by them.
    const m = logWithStable([1, 2, 3]);
    expect(m.maybeAppend(3, 3, 9, ents([4], 4))).toBe(4);
    expect(m.committed).toBe(4);
  });

  it("rejects when the log lacks (index, logTerm)", () => {
    const l = logWithStable([1, 2, 3]);
    expect(l.maybeAppend(3, 2, 3, ents([4], 4))).toBeUndefined();
    expect(l.maybeAppend(4, 3, 3, ents([4], 5))).toBeUndefined();
    expect(l.committed).toBe(0);
  });

  it("truncates a conflicting suffix but keeps entries that already match", () => {
    const l = logWithStable([1, 2, 3, 3]);
    expect(l.maybeAppend(1, 1, 0, ents([2, 4], 2))).toBe(3);
    expect(termsOf(l)).toEqual([1, 2, 4]);
    // An old, shorter message must not truncate the matching tail.
    const m = logWithStable([1, 2, 3, 3]);
    expect(m.maybeAppend(1, 1, 0, ents([2], 2))).toBe(2);
    expect(termsOf(m)).toEqual([1, 2, 3, 3]);
  });

  it("refuses to overwrite a committed entry", () => {
    const l = logWithStable([1, 2, 3]);
    l.commitTo(3);
    expect(() => l.maybeAppend(1, 1, 3, ents([5, 5], 2))).toThrow(/committed/);
  });

  it("commit never goes back and never passes the last index", () => {
    const l = logWithStable([1, 2, 3]);
    l.commitTo(2);
    l.commitTo(1);
    expect(l.committed).toBe(2);
    expect(() => l.commitTo(4)).toThrow(/out of range/);
  });
});

describe("append", () => {
  it("requires contiguous entries without a gap", () => {
    const l = logWithStable([1]);
    expect(() => l.append([ent(3, 1)])).toThrow(/gap/);
    expect(() => l.append([ent(2, 1), ent(4, 1)])).toThrow(/contiguous/);
  });
});

describe("unstable entries and stability", () => {
  it("hands entries out once and keeps them until they are stable with the same term", () => {
    const l = logWithStable([1]);
    l.append(ents([1, 2], 2));
    expect(l.nextUnstableEntries().map((e) => e.index)).toEqual([2, 3]);
    l.unstable.acceptInProgress();
    expect(l.hasNextUnstableEntries()).toBe(false);
    expect(l.nextUnstableEntries()).toEqual([]);
    l.stableTo(3, 1); // term mismatch: nothing becomes stable
    expect(l.unstable.offset).toBe(2);
    l.stableTo(2, 1);
    expect(l.unstable.offset).toBe(3);
  });

  it("a truncation below the in-progress mark hands out the replacement again", () => {
    const l = logWithStable([1]);
    l.append(ents([1, 1], 2));
    l.unstable.acceptInProgress();
    l.append([ent(3, 2)]);
    expect(l.nextUnstableEntries().map((e) => [e.index, e.term])).toEqual([[3, 2]]);
  });

  it("persistedLastIndex ignores stored entries shadowed by unstable ones", () => {
    const l = logWithStable([1, 1, 1]);
    expect(l.persistedLastIndex()).toBe(3);
    l.append([ent(2, 2)]);
    expect(l.persistedLastIndex()).toBe(1);
  });
});

describe("slice and committed entries", () => {
  it("joins storage and unstable entries and honours the size limit", () => {
    const storage = new MemoryStorage({ confState: VOTERS });
    storage.append([ent(1, 1, "aaaa"), ent(2, 1, "bbbb")]);
    const l = new RaftLog(storage, Infinity);
    l.append([ent(3, 1, "cccc"), ent(4, 1, "dddd")]);
    const one = 4 + ENTRY_OVERHEAD_BYTES;
    const s = l.slice(1, 5, 3 * one);
    expect(s !== "compacted" && s.map((e) => e.index)).toEqual([1, 2, 3]);
    const t = l.slice(2, 5, 0); // at least one entry
    expect(t !== "compacted" && t.map((e) => e.index)).toEqual([2]);
    expect(l.slice(0, 2, Infinity)).toBe("compacted");
  });

  it("returns committed entries once, including unstable ones", () => {
    const l = logWithStable([1]);
    l.append(ents([1, 1], 2));
    l.commitTo(3);
    expect(l.nextCommittedEntries().map((e) => e.index)).toEqual([1, 2, 3]);
    l.acceptApplying(3);
    expect(l.hasNextCommittedEntries()).toBe(false);
    l.appliedTo(3);
    expect(l.applied).toBe(3);
  });

  it("maybeCommit only commits entries of the given term (Figure 8)", () => {
    const l = logWithStable([1, 1, 2]);
    expect(l.maybeCommit(2, 2)).toBe(false);
    expect(l.committed).toBe(0);
    expect(l.maybeCommit(3, 2)).toBe(true);
    expect(l.committed).toBe(3);
  });
});
