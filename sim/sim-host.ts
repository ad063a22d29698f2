// One member's view of the simulated world: its own clock (with skew and drift), its timers, and
// its up / paused / down state. Every callback the member receives (timer or message) passes through
// `run`, so a crashed member hears nothing and a paused one hears everything later, in order.
import { assert } from "../src/lib/assert.js";
import type { Clock } from "../src/env/clock.js";
import type { TimerId, Timers } from "../src/env/timers.js";
import type { SimEvent, World } from "./world.js";

export type HostState = "up" | "paused" | "down";

export class SimHost implements Clock, Timers {
  private stateNow: HostState = "up";
  private epoch = 0;
  private nextTimerId = 1;
  private readonly timers = new Map<TimerId, SimEvent>();
  private deferred: Array<() => void> = [];
  // Local time = anchorLocalMs + (world.now - anchorWorldMs) * rate, clamped to stay monotonic.
  private anchorWorldMs = 0;
  private anchorLocalMs = 0;
  private rate = 1;
  private lastNowMs = 0;

  constructor(
    private readonly world: World,
    readonly name: string,
  ) {}

  get state(): HostState {
    return this.stateNow;
  }

  now(): number {
    const local = this.anchorLocalMs + (this.world.nowMs - this.anchorWorldMs) * this.rate;
    if (local > this.lastNowMs) this.lastNowMs = local;
    return this.lastNowMs;
  }

  schedule(delayMs: number, callback: () => void): TimerId {
    const id = this.nextTimerId++;
    const worldDelay = Math.max(0, Math.ceil(delayMs / this.rate));
    const event = this.world.schedule(worldDelay, this.name, "timer", id, () => {
      this.timers.delete(id);
      this.run(callback);
    });
    this.timers.set(id, event);
    return id;
  }

  cancel(id: TimerId): void {
    const event = this.timers.get(id);
    if (event === undefined) return;
    this.world.cancel(event);
    this.timers.delete(id);
  }

  /** Runs a callback addressed to this member: now if up, after resume if paused, never if down. */
  run(callback: () => void): void {
    if (this.stateNow === "up") callback();
    else if (this.stateNow === "paused") this.deferred.push(callback);
  }

  /** Wraps a callback so it is dropped if the member crashes before it runs. */
  guard(callback: () => void): () => void {
    const epoch = this.epoch;
    return () => {
      if (this.epoch === epoch) this.run(callback);
    };
  }

  crash(): void {
    assert(this.stateNow !== "down", `${this.name} crashed twice`);
    this.stateNow = "down";
    this.epoch++;
    for (const event of this.timers.values()) this.world.cancel(event);
    this.timers.clear();
    this.deferred = [];
  }

  restart(): void {
    assert(this.stateNow === "down", `${this.name} restarted while ${this.stateNow}`);
    this.stateNow = "up";
  }

  pause(): void {
    if (this.stateNow === "up") this.stateNow = "paused";
  }

  resume(): void {
    if (this.stateNow !== "paused") return;
    this.stateNow = "up";
    const pending = this.deferred;
    this.deferred = [];
    for (const callback of pending) {
      this.world.schedule(0, this.name, "resume", 0, this.guard(callback));
    }
  }

  /** Jumps the local clock by offsetMs (a backwards jump holds the clock until real time catches up). */
  skew(offsetMs: number): void {
    this.reanchor();
    this.anchorLocalMs += offsetMs;
  }

  /** Sets how fast the local clock runs relative to virtual time (1 = exact, 1.01 = 1% fast). */
  drift(rate: number): void {
    assert(rate > 0, `clock rate must be positive, got ${rate}`);
    this.reanchor();
    this.rate = rate;
  }

  private reanchor(): void {
    this.anchorLocalMs = this.now();
    this.anchorWorldMs = this.world.nowMs;
  }
}
