import { describe, expect, it } from "vitest";
import { MemoryStorage } from "../../src/raft/memory-storage.js";
import type { Entry } from "../../src/raft/types.js";

const CS = {
  voters: [1, 2, 3],
  learners: [],
  votersOutgoing: [],
  learnersNext: [],
  autoLeave: false,
};

function ents(terms: number[], from = 1): Entry[] {
  return terms.map((term, i) => ({
    index: from + i,
    term,
    type: "EntryNormal",
    data: new Uint8Array(),
  }));
}

describe("MemoryStorage", () => {
  it("starts empty with the given state", () => {
    const s = new MemoryStorage({ confState: CS, hardState: { term: 2, vote: 1, commit: 0 } });
    expect(s.firstIndex()).toBe(1);
    expect(s.lastIndex()).toBe(0);
    expect(s.term(0)).toBe(0);
    expect(s.initialState()).toEqual({ hardState: { term: 2, vote: 1, commit: 0 }, confState: CS });
  });

  it("appends, replaces a conflicting suffix, and refuses gaps", () => {
    const s = new MemoryStorage({ confState: CS });
    s.append(ents([1, 1, 1]));
    s.append(ents([2, 2], 2));
    expect([1, 2, 3].map((i) => s.term(i))).toEqual([1, 2, 2]);
    expect(s.lastIndex()).toBe(3);
    expect(() => s.append(ents([2], 5))).toThrow(/gap/);
  });

  it("compacts behind a snapshot and reports compacted ranges", () => {
    const s = new MemoryStorage({ confState: CS });
    s.append(ents([1, 1, 2, 2, 3]));
    const snap = s.createSnapshot(3, undefined, new TextEncoder().encode("state"));
    expect(snap.metadata).toEqual({ index: 3, term: 2, confState: CS });
    s.compact(3);
    expect(s.firstIndex()).toBe(4);
    expect(s.term(3)).toBe(2);
    expect(s.term(2)).toBe("compacted");
    expect(s.entries(3, 5, Infinity)).toBe("compacted");
    const got = s.entries(4, 6, Infinity);
    expect(Array.isArray(got) && got.map((e) => e.index)).toEqual([4, 5]);
    // Appending entries partly covered by the snapshot keeps only the new part.
    s.append(ents([2, 2, 4], 3));
    expect(s.lastIndex()).toBe(5);
    expect(s.term(5)).toBe(4);
  });

  it("applySnapshot replaces everything and must move forward", () => {
    const s = new MemoryStorage({ confState: CS });
    s.append(ents([1, 1]));
    s.applySnapshot({ data: new Uint8Array(), metadata: { index: 10, term: 3, confState: CS } });
    expect(s.firstIndex()).toBe(11);
    expect(s.lastIndex()).toBe(10);
    expect(s.term(10)).toBe(3);
    expect(() =>
      s.applySnapshot({ data: new Uint8Array(), metadata: { index: 5, term: 3, confState: CS } }),
    ).toThrow(/not newer/);
  });
});
