// The contract of the Clock and Timers seams (src/env), as one suite that every implementation runs.
import { describe, expect, it } from "vitest";
import type { Clock } from "../../src/env/clock.js";
import type { Timers } from "../../src/env/timers.js";

export interface ClockTimersWorld {
  readonly clock: Clock;
  readonly timers: Timers;
  /** Lets at least `ms` pass on the clock, running the callbacks that fall due. */
  pass(ms: number): Promise<void>;
}

export function clockTimersContract(name: string, make: () => ClockTimersWorld): void {
  describe(`Clock and Timers contract: ${name}`, () => {
    it("never runs a callback synchronously, and not before its delay", async () => {
      const w = make();
      const start = w.clock.now();
      const firedAt: number[] = [];
      w.timers.schedule(20, () => firedAt.push(w.clock.now()));
      expect(firedAt).toEqual([]);
      await w.pass(60);
      expect(firedAt.length).toBe(1);
      expect((firedAt[0] as number) - start).toBeGreaterThanOrEqual(19.5);
    });

    it("runs callbacks due together in scheduling order", async () => {
      const w = make();
      const order: string[] = [];
      for (const tag of ["a", "b", "c", "d"]) w.timers.schedule(5, () => order.push(tag));
      w.timers.schedule(1, () => order.push("early"));
      await w.pass(40);
      expect(order).toEqual(["early", "a", "b", "c", "d"]);
    });

    it("never runs a cancelled callback; cancelling twice or unknown ids is harmless", async () => {
      const w = make();
      const ran: string[] = [];
      const id = w.timers.schedule(5, () => ran.push("cancelled"));
      w.timers.schedule(5, () => ran.push("kept"));
      w.timers.cancel(id);
      w.timers.cancel(id);
      w.timers.cancel(987_654);
      await w.pass(40);
      expect(ran).toEqual(["kept"]);
    });

    it("keeps the clock monotonic", async () => {
      const w = make();
      const readings: number[] = [w.clock.now()];
      for (let i = 0; i < 5; i++) {
        await w.pass(3);
        readings.push(w.clock.now());
      }
      for (let i = 1; i < readings.length; i++) {
        expect(readings[i] as number).toBeGreaterThanOrEqual(readings[i - 1] as number);
      }
      expect((readings.at(-1) as number) - (readings[0] as number)).toBeGreaterThanOrEqual(14.5);
    });
  });
}
