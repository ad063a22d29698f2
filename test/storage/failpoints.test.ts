// The failpoint registry: unarmed points pass straight through; crash, stall and error actions;
// skip counts and self-disarming.
import { describe, expect, it } from "vitest";
import { Failpoints, FailpointError, isFailpointName } from "../../src/lib/failpoints.js";

function registry(): { fp: Failpoints; crashes: string[]; delayed: Array<[number, () => void]> } {
  const crashes: string[] = [];
  const delayed: Array<[number, () => void]> = [];
  const fp = new Failpoints({
    crash: (n) => crashes.push(n),
    delay: (ms, next) => delayed.push([ms, next]),
  });
  return { fp, crashes, delayed };
}

describe("Failpoints", () => {
  it("passes an unarmed point synchronously", () => {
    const { fp } = registry();
    let ran = false;
    fp.pass("raftAfterSave", () => (ran = true));
    expect(ran).toBe(true);
  });

  it("is quiet only while nothing is armed and hits are not counted", () => {
    const { fp } = registry();
    expect(fp.quiet).toBe(true);
    fp.arm("beforeApply", { action: { kind: "stall", forMs: 5 }, times: 1 });
    expect(fp.quiet).toBe(false);
    fp.pass("beforeApply", () => {});
    expect(fp.quiet).toBe(true); // disarmed itself after its one time
    fp.trackHits();
    expect(fp.quiet).toBe(false);
  });

  it("crashes: the continuation never runs and the hook hears the point", () => {
    const { fp, crashes } = registry();
    fp.arm("raftAfterSave", { action: { kind: "crash" } });
    let ran = false;
    fp.pass("raftAfterSave", () => (ran = true));
    expect([ran, crashes]).toEqual([false, ["raftAfterSave"]]);
  });

  it("stalls through the delay hook, skips hits and disarms after `times`", () => {
    const { fp, delayed } = registry();
    fp.arm("beforeApply", { action: { kind: "stall", forMs: 1000 }, skipHits: 1, times: 1 });
    const order: string[] = [];
    fp.pass("beforeApply", () => order.push("first"));
    fp.pass("beforeApply", () => order.push("second"));
    fp.pass("beforeApply", () => order.push("third"));
    expect(order).toEqual(["first", "third"]);
    expect(delayed.map(([ms]) => ms)).toEqual([1000]);
    delayed[0]?.[1]();
    expect(order).toEqual(["first", "third", "second"]);
  });

  it("runs the error path, or throws where a point has none", () => {
    const { fp } = registry();
    fp.arm("walBeforeFsync", { action: { kind: "error", message: "boom" } });
    const errors: string[] = [];
    fp.pass(
      "walBeforeFsync",
      () => errors.push("ran"),
      (e) => errors.push(e.message),
    );
    expect(errors).toEqual(["failpoint walBeforeFsync: boom"]);
    expect(() => fp.pass("walBeforeFsync", () => undefined)).toThrow(FailpointError);
  });

  it("knows its names (the scenario format validates against them)", () => {
    expect(isFailpointName("raftAfterSave")).toBe(true);
    expect(isFailpointName("nope")).toBe(false);
  });
});
