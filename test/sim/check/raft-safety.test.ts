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

// A removed member replaced by a new one on the same machine keeps its name (m3) but is another
// Raft member: a fresh id, an empty log. The checker must tell the two apart, or it misses two
// leaders of one term and mistakes the newcomer's catch-up for a commit index going back.
describe("RaftSafetyChecker across membership changes", () => {
  const termOf =
    (log: readonly Entry[]) =>
    (i: number): number | undefined =>
      log[i - 1]?.term;

  it("catches two leaders of one term across a replacement under the same name", () => {
    const { violations, checker, checks } = setup();
    checker.onLeader("m3", 4, () => undefined);
    // m3 is removed; its machine is wiped and a new member joins on it as m3.
    checker.onReplaced("m3");
    expect(checker.lifeLabel("m3")).toBe("m3 (replacement 1)");
    checker.onLeader("m3", 4, () => undefined);
    expect(checks()).toEqual(["election-safety"]);
    expect(violations.all()[0]?.message).toBe("two leaders in term 4: m3 and m3 (replacement 1)");
    // A later term of the replacement is its own election.
    checker.onLeader("m3", 5, () => undefined);
    expect(checks()).toEqual(["election-safety"]);
  });

  it("without the replacement on record, the same events look like one leader", () => {
    const { checker, checks } = setup();
    checker.onLeader("m3", 4, () => undefined);
    checker.onLeader("m3", 4, () => undefined);
    expect(checks()).toEqual([]);
  });

  it("a replacement catches up from an empty log: no commit index goes back", () => {
    const { checker, log, at, checks } = setup();
    for (const m of ["m1", "m2", "m3"]) checker.onAppend(m, log, 0);
    checker.onCommit("m3", 3, at, 0, 2);
    for (const e of log) checker.onApply("m3", e);
    checker.onReplaced("m3");
    checker.onAppend("m3", log.slice(0, 2), 0);
    checker.onCommit("m3", 2, at, 0, 3);
    checker.onApply("m3", log[0] as Entry);
    checker.onApply("m3", log[1] as Entry);
    expect(checks()).toEqual([]);
    // Unrecorded, the newcomer's commit and applied positions read as going back.
    const other = setup();
    other.checker.onCommit("m3", 3, other.at, 0, 2);
    other.checker.onCommit("m3", 2, other.at, 0, 3);
    expect(other.checks()).toEqual(["commit-monotonic"]);
  });

  it("catches a committed entry lost after its member was removed and re-added", () => {
    const { checker, log, at, checks } = setup();
    // Entry 3 (term 2) is committed on m1 and m3 of m1..m3.
    checker.onAppend("m1", log, 0);
    checker.onAppend("m3", log, 0);
    checker.onCommit("m1", 3, at, 0, 2);
    // m3 is removed and re-added on a wiped disk; m1 is removed. The replacement holds entries
    // 1..2 only, yet it wins term 3 with m2, which never had entry 3 either: entry 3 is lost.
    checker.onReplaced("m3");
    const short = log.slice(0, 2);
    checker.onAppend("m3", short, 0);
    checker.onLeader("m3", 3, termOf(short));
    expect(checks()).toEqual(["leader-completeness"]);
  });

  it("catches a replacement that applies other entries than the committed ones", () => {
    const { checker, log, at, checks } = setup();
    checker.onCommit("m1", 3, at, 0, 2);
    for (const e of log) checker.onApply("m3", e);
    checker.onReplaced("m3");
    checker.onApply("m3", log[0] as Entry);
    checker.onApply("m3", entry(2, 1, "not what was committed"));
    expect(checks()).toEqual(["state-machine-safety"]);
  });
});
