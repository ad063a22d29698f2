// The discrete-event scheduler of a simulation: one queue of callbacks on virtual milliseconds,
// the run's PRNG streams, and the trace hash. Nothing in a run happens except through `schedule`,
// so a run is a pure function of its seed, its scenario and the code.
import { assert } from "../src/lib/assert.js";
import { Prng, type StreamName } from "../src/lib/prng.js";
import { EventQueue, type QueuedEvent } from "./event-queue.js";
import { hashString, TraceHash } from "./trace-hash.js";

export interface SimEvent extends QueuedEvent {
  /** Who the event happens to (a member, a client, "net", "nemesis"). */
  readonly endpoint: string;
  /** What happens, e.g. "tick", "deliver:MsgApp", "fault:partition". */
  readonly kind: string;
  /** A digest of the payload, so a changed message changes the trace hash. */
  readonly digest: number;
  readonly run: () => void;
}

export type StopReason = "time" | "predicate" | "budget" | "idle";

export interface RunLimits {
  /** Stop before processing any event later than this virtual time; the clock ends at it. */
  readonly untilMs?: number;
  /** Stop as soon as this returns true (checked after each event). */
  readonly until?: () => boolean;
  /** Stop after this many events in this call. */
  readonly maxEvents?: number;
}

export class World {
  private current = 0;
  private seq = 0;
  private processed = 0;
  private readonly queue = new EventQueue<SimEvent>();
  private readonly trace = new TraceHash();
  readonly prng: Prng;

  constructor(readonly seed: number) {
    this.prng = Prng.fromSeed(seed);
  }

  get nowMs(): number {
    return this.current;
  }

  get eventsProcessed(): number {
    return this.processed;
  }

  get pending(): number {
    return this.queue.size;
  }

  stream(name: StreamName): Prng {
    return this.prng.stream(name);
  }

  /** Schedules `run` after `delayMs` (an integer >= 0). The event can be cancelled until it runs. */
  schedule(
    delayMs: number,
    endpoint: string,
    kind: string,
    digest: number,
    run: () => void,
  ): SimEvent {
    assert(Number.isInteger(delayMs) && delayMs >= 0, () => `bad delay ${delayMs} for ${kind}`);
    const event: SimEvent = {
      timeMs: this.current + delayMs,
      seq: this.seq++,
      cancelled: false,
      endpoint,
      kind,
      digest,
      run,
    };
    this.queue.push(event);
    return event;
  }

  cancel(event: SimEvent): void {
    event.cancelled = true;
  }

  /** Processes the next live event; false when the queue is empty. */
  step(): boolean {
    for (;;) {
      const event = this.queue.pop();
      if (event === undefined) return false;
      if (event.cancelled) continue;
      this.process(event);
      return true;
    }
  }

  runUntil(limits: RunLimits): StopReason {
    const budget = limits.maxEvents ?? Number.POSITIVE_INFINITY;
    let count = 0;
    for (;;) {
      if (count >= budget) return "budget";
      const next = this.nextLive();
      if (next === undefined) {
        if (limits.untilMs !== undefined) this.current = Math.max(this.current, limits.untilMs);
        return "idle";
      }
      if (limits.untilMs !== undefined && next.timeMs > limits.untilMs) {
        this.current = limits.untilMs;
        return "time";
      }
      this.queue.pop();
      this.process(next);
      count++;
      if (limits.until?.() === true) return "predicate";
    }
  }

  traceHash(): string {
    return this.trace.hex();
  }

  private nextLive(): SimEvent | undefined {
    for (;;) {
      const event = this.queue.peek();
      if (event === undefined || !event.cancelled) return event;
      this.queue.pop();
    }
  }

  private process(event: SimEvent): void {
    assert(event.timeMs >= this.current, "virtual time went backwards");
    this.current = event.timeMs;
    this.processed++;
    const trace = this.trace;
    trace.addInteger(event.timeMs);
    trace.add(hashString(event.endpoint));
    trace.add(hashString(event.kind));
    trace.add(event.digest);
    event.run();
  }
}
