// The search itself: events API, touching intervals, unknown outcomes, timeouts and the cache cap.
import { describe, expect, it } from "vitest";
import {
  casRegisterModel,
  check,
  eventsToOperations,
  operationsToEvents,
  type CasRegisterInput,
  type CasRegisterOutput,
  type Model,
  type Operation,
} from "../../src/porcupine/index.js";

type RegOp = Operation<CasRegisterInput, CasRegisterOutput>;
const write = (clientId: number, value: number, call: number, ret?: number): RegOp => ({
  clientId,
  input: { kind: "write", value },
  call,
  ...(ret !== undefined ? { output: { kind: "write" }, return: ret } : {}),
});
const read = (clientId: number, value: number | null, call: number, ret: number): RegOp => ({
  clientId,
  input: { kind: "read" },
  call,
  output: { kind: "read", value },
  return: ret,
});

describe("check", () => {
  it("accepts the classic concurrent read example and rejects its illegal twin", () => {
    expect(
      check(casRegisterModel, [write(0, 100, 0, 100), read(1, 100, 25, 75), read(2, null, 30, 60)])
        .result,
    ).toBe("ok");
    expect(
      check(casRegisterModel, [write(0, 200, 0, 100), read(1, 200, 10, 30), read(2, null, 40, 90)])
        .result,
    ).toBe("illegal");
  });

  it("treats operations that touch (return time = call time) as concurrent", () => {
    expect(check(casRegisterModel, [write(0, 1, 0, 10), read(1, null, 10, 20)]).result).toBe("ok");
    expect(check(casRegisterModel, [write(0, 1, 0, 10), read(1, null, 11, 20)]).result).toBe(
      "illegal",
    );
  });

  it("lets an unknown-outcome write take effect later or never", () => {
    const applied = [write(0, 7, 0), read(1, null, 1, 2), read(1, 7, 3, 4)];
    expect(check(casRegisterModel, applied).result).toBe("ok");
    const never = [write(0, 7, 0), read(1, null, 1, 2), read(1, null, 3, 4)];
    expect(check(casRegisterModel, never).result).toBe("ok");
    const beforeCall = [read(1, 7, 0, 1), write(0, 7, 2)];
    expect(check(casRegisterModel, beforeCall).result).toBe("illegal");
    const flipFlop = [write(0, 7, 0), read(1, 7, 1, 2), read(1, null, 3, 4)];
    expect(check(casRegisterModel, flipFlop).result).toBe("illegal");
  });

  it("reports the longest prefix and the operation it got stuck on", () => {
    const report = check(casRegisterModel, [write(0, 1, 0, 1), read(1, 1, 2, 3), read(1, 2, 4, 5)]);
    expect(report.result).toBe("illegal");
    expect(report.partitions[0]?.linearization).toEqual([0, 1]);
    expect(report.partitions[0]?.stuck).toBe(2);
  });

  it("round-trips operations through events", () => {
    const ops = [write(0, 1, 0, 5), read(1, 1, 2, 3), write(2, 3, 4)];
    const events = operationsToEvents(ops);
    expect(events.map((e) => `${e.kind}${e.id}`)).toEqual([
      "call0",
      "call1",
      "return1",
      "call2",
      "return0",
    ]);
    const back = eventsToOperations(events);
    expect(back.map((o) => [o.call, o.return])).toEqual([
      [0, 4],
      [1, 2],
      [3, undefined],
    ]);
    expect(check(casRegisterModel, back).result).toBe("ok");
  });

  it("rejects an event list with a return before its call", () => {
    expect(() => eventsToOperations([{ kind: "return", id: 1, clientId: 0, value: 1 }])).toThrow(
      RangeError,
    );
  });

  it("returns unknown, never ok, on timeout and on the cache limit", () => {
    // Many concurrent blind writes and one impossible read: a large search space.
    const ops: RegOp[] = Array.from({ length: 40 }, (_, i) => write(i, i, 0, 100));
    ops.push(read(99, 1000, 0, 100));
    let clock = 0;
    const timedOut = check(casRegisterModel, ops, { timeoutMs: 10, now: () => (clock += 1) });
    expect(timedOut.result).toBe("unknown");
    expect(timedOut.unknownReason).toBe("timeout");
    const capped = check(casRegisterModel, ops, { maxCacheEntries: 100 });
    expect(capped.result).toBe("unknown");
    expect(capped.unknownReason).toBe("cache-limit");
  });

  it("needs a clock for a timeout", () => {
    expect(() => check(casRegisterModel, [], { timeoutMs: 1 })).toThrow(/now/);
  });

  it("checks nondeterministic models through sets of states", () => {
    // A counter whose increment may add 1 or 2.
    const model = {
      nondeterministic: true as const,
      init: () => [0],
      step: (s: number, input: string, output: number | undefined) =>
        input === "inc" ? [s + 1, s + 2] : output === undefined || output === s ? [s] : [],
    };
    const op = (input: string, call: number, ret: number, output?: number) => ({
      clientId: 0,
      input,
      call,
      ret,
      output,
      return: ret,
    });
    expect(check(model, [op("inc", 0, 1), op("read", 2, 3, 2)]).result).toBe("ok");
    expect(check(model, [op("inc", 0, 1), op("read", 2, 3, 3)]).result).toBe("illegal");
  });

  it("uses a deterministic model's partition unless told not to", () => {
    const model: Model<number, { key: string; value: number }, number> = {
      init: () => 0,
      step: (s, input, output) =>
        output === undefined || output === s ? { ok: true, state: input.value } : { ok: false },
      partition: (h) => [
        h.filter((o) => o.input.key === "a"),
        h.filter((o) => o.input.key !== "a"),
      ],
    };
    const h = [
      { clientId: 0, input: { key: "a", value: 1 }, call: 0, output: 0, return: 1 },
      { clientId: 0, input: { key: "b", value: 1 }, call: 2, output: 0, return: 3 },
    ];
    expect(check(model, h).partitions).toHaveLength(2);
    expect(check(model, h).result).toBe("ok");
    expect(check(model, h, { noPartition: true }).result).toBe("illegal");
  });
});
