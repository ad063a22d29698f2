// Each safety check must catch its violation.
import { describe, expect, it } from "vitest";
import { RaftSafetyChecker } from "../../../sim/check/raft-safety.js";
import { Violations } from "../../../sim/check/violation.js";
import type { Entry } from "../../../src/raft/types.js";

const entry = (index: number, term: number, text = `e${index}`): Entry => ({
  index,
  term,
  type: "EntryNormal",
  data: new TextEncoder().encode(text),
});

function setup() {
  const violations = new Violations();
  const checker = new RaftSafetyChecker(violations, () => 42);
  const log = [entry(1, 1), entry(2, 1), entry(3, 2)];
  const at = (i: number): Entry | undefined => log[i - 1];
  return { violations, checker, log, at, checks: () => violations.all().map((v) => v.check) };
}

describe("RaftSafetyChecker", () => {
  it("accepts a consistent history", () => {
    const { checker, log, at, checks } = setup();
    checker.onAppend("m1", log, 0);
    checker.onAppend("m2", log.slice(1), 1);
    checker.onCommit("m1", 3, at);
    checker.onCommit("m2", 2, at);
    for (const e of log) checker.onApply("m1", e);
    checker.onLeader("m2", 3, (i) => at(i)?.term);
    checker.onRestart("m1", 0);
    checker.onApply("m1", log[0] as Entry);
    expect(checks()).toEqual([]);
    expect(checker.committedIndex).toBe(3);
  });

  it("catches two leaders in one term", () => {
    const { checker, checks } = setup();
    checker.onLeader("m1", 5, () => undefined);
    checker.onLeader("m2", 5, () => undefined);
    expect(checks()).toEqual(["election-safety"]);
  });

  it("catches logs that disagree on an entry of the same index and term", () => {
    const { checker, checks } = setup();
    checker.onAppend("m1", [entry(1, 1, "x")], 0);
    checker.onAppend("m2", [entry(1, 1, "y")], 0);
    checker.onAppend("m3", [entry(2, 2)], 1);
    checker.onAppend("m4", [entry(2, 2)], 0); // same (index, term), different previous term
    expect(checks()).toEqual(["log-matching", "log-matching"]);
  });

  it("catches a commit index going back", () => {
    const { checker, at, checks } = setup();
    checker.onCommit("m1", 3, at);
    checker.onCommit("m1", 2, at);
    expect(checks()).toEqual(["commit-monotonic"]);
  });

  it("catches a leader that lacks an entry committed in an earlier term", () => {
    const { checker, at, checks } = setup();
    checker.onCommit("m1", 3, at, 0, 2);
    checker.onLeader("m2", 3, (i) => (i < 3 ? at(i)?.term : 1));
    expect(checks()).toEqual(["leader-completeness"]);
  });

  it("lets a stale member win an older term's election after a later term committed", () => {
    // The votes of term 2 were granted back then; the entry was committed in term 5, later.
    const { checker, at, checks } = setup();
    checker.onCommit("m1", 3, at, 0, 5);
    checker.onLeader("m3", 2, (i) => (i < 3 ? at(i)?.term : 1));
    expect(checks()).toEqual([]);
    checker.onLeader("m2", 6, (i) => (i < 3 ? at(i)?.term : 1));
    expect(checks()).toEqual(["leader-completeness"]);
  });

  it("catches members applying different entries, out of order, or uncommitted", () => {
    const { checker, at, checks } = setup();
    checker.onCommit("m1", 2, at);
    checker.onApply("m2", entry(1, 1, "other"));
    checker.onApply("m3", entry(2, 1));
    checker.onApply("m4", entry(1, 1));
    checker.onApply("m4", entry(2, 1));
    checker.onApply("m4", entry(3, 2));
    expect(checks()).toEqual([
      "state-machine-safety",
      "state-machine-safety",
      "state-machine-safety",
    ]);
  });

  it("catches two members committing different entries at one index", () => {
    const { checker, at, checks } = setup();
    checker.onCommit("m1", 1, at);
    checker.onCommit("m2", 1, () => entry(1, 1, "forked"));
    expect(checks()).toEqual(["state-machine-safety"]);
  });
});
