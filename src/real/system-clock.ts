// The real world's Clock, Timers and Random for a member: the process's monotonic clock, Node's
// timers, and crypto-strength randomness. Same contracts as the simulator's (src/env).
import { randomInt } from "node:crypto";
import type { Clock } from "../env/clock.js";
import type { Random } from "../env/random.js";
import type { TimerId, Timers } from "../env/timers.js";

export class SystemClock implements Clock {
  now(): number {
    return performance.now();
  }
}

export class SystemTimers implements Timers {
  private nextId = 1;
  private readonly handles = new Map<TimerId, NodeJS.Timeout>();

  schedule(delayMs: number, callback: () => void): TimerId {
    const id = this.nextId++;
    const handle = setTimeout(
      () => {
        this.handles.delete(id);
        callback();
      },
      Math.max(0, delayMs),
    );
    this.handles.set(id, handle);
    return id;
  }

  cancel(id: TimerId): void {
    const handle = this.handles.get(id);
    if (handle === undefined) return;
    clearTimeout(handle);
    this.handles.delete(id);
  }

  /** Cancels every pending timer (a member shutting down). */
  cancelAll(): void {
    for (const handle of this.handles.values()) clearTimeout(handle);
    this.handles.clear();
  }
}

// randomInt draws from a range of at most 2^48 - 1 values.
const RANDOM_RANGE = 2 ** 48 - 1;

export class SystemRandom implements Random {
  float(): number {
    return randomInt(0, RANDOM_RANGE) / RANDOM_RANGE;
  }

  int(lo: number, hi: number): number {
    if (!Number.isInteger(lo) || !Number.isInteger(hi) || lo > hi)
      throw new RangeError(`int(${lo}, ${hi})`);
    return lo + Math.floor(this.float() * (hi - lo + 1));
  }

  chance(p: number): boolean {
    return this.float() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError("pick from an empty list");
    return items[this.int(0, items.length - 1)] as T;
  }

  shuffle<T>(items: readonly T[]): T[] {
    const out = items.slice();
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.int(0, i);
      [out[i], out[j]] = [out[j] as T, out[i] as T];
    }
    return out;
  }
}
