import { describe, expect, it } from "vitest";
import { World } from "../../sim/world.js";

describe("World", () => {
  it("runs events by (time, scheduling order)", () => {
    const w = new World(1);
    const order: string[] = [];
    w.schedule(5, "a", "x", 0, () => order.push("a@5"));
    w.schedule(1, "b", "x", 0, () => order.push("b@1"));
    w.schedule(5, "c", "x", 0, () => order.push("c@5"));
    w.schedule(0, "d", "x", 0, () => {
      order.push("d@0");
      w.schedule(1, "e", "x", 0, () => order.push("e@1"));
    });
    expect(w.runUntil({})).toBe("idle");
    expect(order).toEqual(["d@0", "b@1", "e@1", "a@5", "c@5"]);
    expect(w.nowMs).toBe(5);
    expect(w.eventsProcessed).toBe(5);
  });

  it("does not run cancelled events or hash them", () => {
    const w1 = new World(1);
    const w2 = new World(1);
    let ran = false;
    const ev = w1.schedule(3, "a", "x", 0, () => (ran = true));
    w1.cancel(ev);
    w1.schedule(4, "a", "y", 1, () => undefined);
    w2.schedule(4, "a", "y", 1, () => undefined);
    w1.runUntil({});
    w2.runUntil({});
    expect(ran).toBe(false);
    expect(w1.eventsProcessed).toBe(1);
    expect(w1.traceHash()).toBe(w2.traceHash());
  });

  it("stops at a time, a predicate or a budget", () => {
    const w = new World(1);
    let count = 0;
    const tick = (): void => {
      count++;
      w.schedule(10, "t", "tick", 0, tick);
    };
    w.schedule(10, "t", "tick", 0, tick);
    expect(w.runUntil({ untilMs: 55 })).toBe("time");
    expect(count).toBe(5);
    expect(w.nowMs).toBe(55);
    expect(w.runUntil({ until: () => count === 8 })).toBe("predicate");
    expect(w.nowMs).toBe(80);
    expect(w.runUntil({ maxEvents: 3 })).toBe("budget");
    expect(count).toBe(11);
  });

  it("changes the trace hash when any field of any event changes", () => {
    const hashOf = (mutate: {
      time?: number;
      endpoint?: string;
      kind?: string;
      digest?: number;
    }): string => {
      const w = new World(1);
      w.schedule(1, "a", "k", 7, () => undefined);
      w.schedule(
        mutate.time ?? 2,
        mutate.endpoint ?? "b",
        mutate.kind ?? "k",
        mutate.digest ?? 8,
        () => undefined,
      );
      w.runUntil({});
      return w.traceHash();
    };
    const base = hashOf({});
    expect(base).toMatch(/^[0-9a-f]{16}$/);
    expect(hashOf({})).toBe(base);
    for (const variant of [{ time: 3 }, { endpoint: "c" }, { kind: "j" }, { digest: 9 }]) {
      expect(hashOf(variant)).not.toBe(base);
    }
  });

  it("rejects a negative or fractional delay", () => {
    const w = new World(1);
    expect(() => w.schedule(-1, "a", "k", 0, () => undefined)).toThrow(/bad delay/);
    expect(() => w.schedule(1.5, "a", "k", 0, () => undefined)).toThrow(/bad delay/);
  });
});
