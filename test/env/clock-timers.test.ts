// The Clock and Timers contract on both worlds: the simulator's member host and the real system.
import { setTimeout as sleep } from "node:timers/promises";
import { SystemClock, SystemTimers } from "../../src/real/system-clock.js";
import { SimHost } from "../../sim/sim-host.js";
import { World } from "../../sim/world.js";
import { clockTimersContract } from "./clock-timers.contract.js";

clockTimersContract("simulated member host", () => {
  const world = new World(1);
  const host = new SimHost(world, "m1");
  return {
    clock: host,
    timers: host,
    pass: (ms) => {
      world.runUntil({ untilMs: world.nowMs + ms });
      return Promise.resolve();
    },
  };
});

clockTimersContract("real system clock and timers", () => ({
  clock: new SystemClock(),
  timers: new SystemTimers(),
  pass: (ms) => sleep(ms),
}));
