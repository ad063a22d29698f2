import { describe, expect, it } from "vitest";
import { CALM_LINK, SimNetwork, type LinkFaults } from "../../sim/net.js";
import { World } from "../../sim/world.js";

interface Got {
  to: string;
  from: string;
  n: number;
  atMs: number;
}

function setup(link: Partial<LinkFaults> = {}, seed = 1) {
  const world = new World(seed);
  const net = new SimNetwork<number>(world, {
    defaults: { ...CALM_LINK, ...link },
    digest: (n) => n,
    kind: () => "msg",
  });
  const got: Got[] = [];
  for (const id of ["a", "b", "c"])
    net.attach(id, (from, n) => got.push({ to: id, from, n, atMs: world.nowMs }));
  return { world, net, got };
}

describe("SimNetwork", () => {
  it("delivers after latency + jitter, never synchronously, FIFO per link", () => {
    const { world, net, got } = setup({ latencyMs: 10, jitterMs: 5 });
    for (let n = 0; n < 50; n++) net.send("a", "b", n);
    expect(got).toEqual([]);
    world.runUntil({});
    expect(got.map((g) => g.n)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    for (const g of got) expect(g.atMs).toBeGreaterThanOrEqual(10);
    expect(Math.max(...got.map((g) => g.atMs))).toBeLessThanOrEqual(15);
  });

  it("loses, duplicates and reorders at the configured rates", () => {
    const { world, net, got } = setup({
      loss: 0.2,
      duplicate: 0.1,
      reorder: 0.3,
      reorderDelayMs: 50,
    });
    for (let n = 0; n < 5000; n++) net.send("a", "b", n);
    world.runUntil({});
    expect(net.stats.lost).toBeGreaterThan(850);
    expect(net.stats.lost).toBeLessThan(1150);
    expect(net.stats.duplicated).toBeGreaterThan(300);
    expect(got.length).toBe(5000 - net.stats.lost + net.stats.duplicated);
    let maxSeen = -1;
    let overtaken = 0; // delivered after a message that was sent later
    for (const g of got) {
      if (g.n < maxSeen) overtaken++;
      maxSeen = Math.max(maxSeen, g.n);
    }
    expect(overtaken).toBeGreaterThan(500);
  });

  it("is deterministic for a seed", () => {
    const run = (seed: number): string => {
      const { world, net, got } = setup(
        { loss: 0.3, jitterMs: 20, reorder: 0.2, reorderDelayMs: 30 },
        seed,
      );
      for (let n = 0; n < 200; n++) net.send(n % 2 ? "a" : "c", "b", n);
      world.runUntil({});
      return JSON.stringify(got) + world.traceHash();
    };
    expect(run(4)).toBe(run(4));
    expect(run(4)).not.toBe(run(5));
  });

  it("partitions: isolate, one-way, overlapping cuts restored independently, heal", () => {
    const { world, net, got } = setup();
    const isolateA = net.isolate("a", ["a", "b", "c"]);
    net.send("a", "b", 1);
    net.send("b", "a", 2);
    net.send("b", "c", 3);
    world.runUntil({});
    expect(got.map((g) => g.n)).toEqual([3]);
    const oneWay: [string, string][] = [["b", "a"]];
    net.cutOneWay("b", "a");
    net.restore(isolateA);
    net.send("a", "b", 4);
    net.send("b", "a", 5);
    world.runUntil({});
    expect(got.map((g) => g.n)).toEqual([3, 4]);
    net.restore(oneWay);
    net.send("b", "a", 6);
    world.runUntil({});
    expect(got.map((g) => g.n)).toEqual([3, 4, 6]);
    net.split([["a"], ["b", "c"]]);
    net.heal();
    net.send("a", "c", 7);
    world.runUntil({});
    expect(got.map((g) => g.n)).toEqual([3, 4, 6, 7]);
  });

  it("drops messages in flight when a partition starts before delivery", () => {
    const { world, net, got } = setup({ latencyMs: 10, jitterMs: 0 });
    net.send("a", "b", 1);
    world.schedule(5, "nemesis", "cut", 0, () => net.cut("a", "b"));
    world.runUntil({});
    expect(got).toEqual([]);
    expect(net.stats.cut).toBe(1);
  });

  it("bridge: the two sides reach each other only through the bridge", () => {
    const world = new World(1);
    const net = new SimNetwork<number>(world, {
      defaults: CALM_LINK,
      digest: (n) => n,
      kind: () => "m",
    });
    net.bridge(["a", "b"], ["d", "e"], "c");
    expect(net.isCut("a", "d")).toBe(true);
    expect(net.isCut("e", "b")).toBe(true);
    expect(net.isCut("a", "c")).toBe(false);
    expect(net.isCut("c", "e")).toBe(false);
    expect(net.isCut("a", "b")).toBe(false);
  });

  it("clog holds messages and releases them in order", () => {
    const { world, net, got } = setup();
    net.clog("a", "b");
    for (let n = 0; n < 5; n++) net.send("a", "b", n);
    world.runUntil({ untilMs: 1000 });
    expect(got).toEqual([]);
    net.unclog("a", "b");
    world.runUntil({});
    expect(got.map((g) => g.n)).toEqual([0, 1, 2, 3, 4]);
    expect(Math.min(...got.map((g) => g.atMs))).toBeGreaterThanOrEqual(1000);
  });
});
