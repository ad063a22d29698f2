import { describe, expect, it } from "vitest";
import { verdicts } from "../../../sim/check/verdicts.js";
import type { Violation } from "../../../sim/check/violation.js";

const v = (check: string, atMs = 5): Violation => ({
  check,
  atMs,
  member: "m1",
  message: `${check} broke`,
});

describe("verdicts", () => {
  it("gives each named check the violations it covers", () => {
    const out = verdicts(
      ["raft-safety", "liveness"],
      [v("log-matching", 7), v("election-safety", 9)],
    );
    expect(out).toEqual([
      { check: "raft-safety", ok: false, detail: "2 violations; first at 7ms: log-matching broke" },
      { check: "liveness", ok: true, detail: "0 violations" },
    ]);
  });

  it("never hides a violation that no named check covers", () => {
    const out = verdicts(["liveness"], [v("read-index")]);
    expect(out.map((c) => [c.check, c.ok])).toEqual([
      ["liveness", true],
      ["read-index", false],
    ]);
  });
});

describe("the watch check", () => {
  it("covers every watch guarantee", () => {
    const out = verdicts(["watch"], [v("watch-reliable"), v("watch-bookmarkable")]);
    expect(out).toEqual([
      { check: "watch", ok: false, detail: "2 violations; first at 5ms: watch-reliable broke" },
    ]);
  });
});
