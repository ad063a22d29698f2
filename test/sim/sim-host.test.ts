import { describe, expect, it } from "vitest";
import { SimHost } from "../../sim/sim-host.js";
import { World } from "../../sim/world.js";

describe("SimHost", () => {
  it("runs timers on the member clock, with drift and skew, monotonic", () => {
    const world = new World(1);
    const host = new SimHost(world, "m1");
    const fired: number[] = [];
    host.schedule(100, () => fired.push(world.nowMs));
    world.runUntil({});
    expect(fired).toEqual([100]);
    host.drift(2); // the member's clock runs twice as fast: 100 local ms = 50 virtual ms
    host.schedule(100, () => fired.push(world.nowMs));
    world.runUntil({});
    expect(fired).toEqual([100, 150]);
    expect(host.now()).toBe(200);
    host.skew(1000);
    expect(host.now()).toBe(1200);
    host.skew(-5000); // a backwards jump holds the clock instead of reversing it
    expect(host.now()).toBe(1200);
  });

  it("cancels timers, drops everything while down, defers while paused", () => {
    const world = new World(1);
    const host = new SimHost(world, "m1");
    const seen: string[] = [];
    const t = host.schedule(10, () => seen.push("cancelled"));
    host.cancel(t);
    host.schedule(10, () => seen.push("timer"));
    world.runUntil({ untilMs: 20 });
    host.pause();
    host.run(() => seen.push("while paused"));
    host.schedule(10, () => seen.push("timer while paused"));
    world.runUntil({ untilMs: 50 });
    expect(seen).toEqual(["timer"]);
    host.resume();
    world.runUntil({ untilMs: 60 });
    expect(seen).toEqual(["timer", "while paused", "timer while paused"]);
    host.schedule(10, () => seen.push("lost in crash"));
    host.crash();
    host.run(() => seen.push("to a crashed member"));
    world.runUntil({});
    expect(seen.length).toBe(3);
    expect(host.state).toBe("down");
    host.restart();
    expect(host.state).toBe("up");
  });
});
