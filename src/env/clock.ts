/**
 * Clock: milliseconds on a monotonic timeline.
 * Contract: `now()` never decreases between two calls on one clock; it has no relation to the wall
 * calendar (the simulator starts at 0). A member may see its own clock run fast, slow or offset
 * relative to other members (clock skew and drift are faults the simulator injects), so protocols
 * never compare timestamps across members.
 */
export interface Clock {
  now(): number;
}
