// The one source of randomness in detcd. seedrandom's Alea generator underneath, an integer-oriented
// API on top, and named sub-streams: a stream's sequence depends only on the root seed and its name,
// so a new draw in one stream never shifts the draws of another.
import seedrandom from "seedrandom";
import { assert } from "./assert.js";

/** The stream names the simulator uses; any other name is allowed too. */
export type StreamName =
  `member-${number}` | "network" | "disk" | "workload" | "faults" | (string & {});

export class Prng {
  private readonly next: () => number;

  private constructor(readonly seedText: string) {
    this.next = seedrandom.alea(seedText);
  }

  /** The root stream of a run. */
  static fromSeed(seed: number | string): Prng {
    return new Prng(`detcd:${String(seed)}`);
  }

  /** A child stream; deriving it draws nothing from this one. */
  stream(name: StreamName): Prng {
    return new Prng(`${this.seedText}/${name}`);
  }

  /** A float in [0, 1). */
  float(): number {
    return this.next();
  }

  /** An integer in [lo, hi], both inclusive. */
  int(lo: number, hi: number): number {
    assert(Number.isInteger(lo) && Number.isInteger(hi) && lo <= hi, () => `int(${lo}, ${hi})`);
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  /** True with probability p (p <= 0 never draws true, p >= 1 always does; both still draw once). */
  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    assert(items.length > 0, "pick from an empty list");
    return items[this.int(0, items.length - 1)] as T;
  }

  /** A new array with the items in a random order (Fisher-Yates). */
  shuffle<T>(items: readonly T[]): T[] {
    const out = items.slice();
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.int(0, i);
      const tmp = out[i] as T;
      out[i] = out[j] as T;
      out[j] = tmp;
    }
    return out;
  }

  /** An exponentially distributed value with the given mean (for latency tails). */
  exponential(mean: number): number {
    return -Math.log(1 - this.next()) * mean;
  }
}
