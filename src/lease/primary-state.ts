// The leader-local half of the lessor: when each lease expires on this member's clock, when its next
// checkpoint is due, and how many expiry revokes were handed out recently. It exists only while the
// member leads (the primary lessor); it is never replicated, and a new leader rebuilds it from the
// replicated table (Lessor.promote). All times are the leader's own monotonic Clock in ms and are
// never compared with another member's.

import { assert } from "../lib/assert.js";
import type { LeaseId } from "../api/kv.js";
import { compareAscending } from "./lease-table.js";

/** The leader-local limits and intervals (see LessorConfig for meanings and defaults). */
export interface PrimaryLimits {
  readonly checkpointIntervalMs: number;
  readonly expiredRetryMs: number;
  readonly revokeBatchLimit: number;
  readonly revokeWindowMs: number;
}

interface Deadlines {
  expiryAtMs: number;
  /** A revoke for this lease was handed out; do not hand out another before this time. */
  revokeNotBeforeMs: number;
  checkpointAtMs: number;
}

function byTimeThenId(a: [LeaseId, number], b: [LeaseId, number]): number {
  return a[1] - b[1] || compareAscending(a[0], b[0]);
}

/**
 * Deadlines of every lease while this member is primary. Contract: the Lessor tracks every lease of
 * its table here (track on grant and promote, untrack on revoke), so the two always hold the same
 * ids; a method given an untracked id throws.
 */
export class PrimaryState {
  private readonly deadlines = new Map<LeaseId, Deadlines>();
  /** Fixed-window rate limit of handed-out revokes. */
  private windowStartMs = Number.NEGATIVE_INFINITY;
  private revokesInWindow = 0;

  constructor(private readonly limits: PrimaryLimits) {}

  get size(): number {
    return this.deadlines.size;
  }

  tracks(id: LeaseId): boolean {
    return this.deadlines.has(id);
  }

  /** Starts tracking a lease that lives `lifeMs` from `nowMs`. */
  track(id: LeaseId, nowMs: number, lifeMs: number): void {
    assert(!this.deadlines.has(id), () => `primary: lease ${id} already tracked`);
    assert(lifeMs >= 0, () => `primary: lease ${id} life ${lifeMs} ms`);
    this.deadlines.set(id, {
      expiryAtMs: nowMs + lifeMs,
      revokeNotBeforeMs: Number.NEGATIVE_INFINITY,
      checkpointAtMs: nowMs + this.limits.checkpointIntervalMs,
    });
  }

  untrack(id: LeaseId): void {
    assert(this.deadlines.delete(id), () => `primary: lease ${id} not tracked`);
  }

  /** Restarts the lease's life and its checkpoint period (a keepalive). */
  renew(id: LeaseId, nowMs: number, ttlMs: number): void {
    const d = this.get(id);
    d.expiryAtMs = nowMs + ttlMs;
    d.revokeNotBeforeMs = Number.NEGATIVE_INFINITY;
    d.checkpointAtMs = nowMs + this.limits.checkpointIntervalMs;
  }

  expiryAtMs(id: LeaseId): number {
    return this.get(id).expiryAtMs;
  }

  /**
   * Hands out up to the window's remaining budget of expired leases, earliest expiry first, and
   * holds each back for expiredRetryMs so an in-flight revoke is not proposed twice (if it is lost,
   * for example to a dropped proposal, the lease comes back after the retry interval).
   */
  takeExpired(nowMs: number): LeaseId[] {
    if (nowMs >= this.windowStartMs + this.limits.revokeWindowMs) {
      this.windowStartMs = nowMs;
      this.revokesInWindow = 0;
    }
    const budget = this.limits.revokeBatchLimit - this.revokesInWindow;
    assert(budget >= 0, () => `primary: revoke budget ${budget}`);
    const taken = this.readyToRevoke(nowMs).slice(0, budget);
    for (const [id] of taken) this.get(id).revokeNotBeforeMs = nowMs + this.limits.expiredRetryMs;
    this.revokesInWindow += taken.length;
    return taken.map(([id]) => id);
  }

  /** Up to `limit` leases whose checkpoint is due, earliest first; each is rescheduled. */
  takeCheckpointsDue(nowMs: number, limit: number): LeaseId[] {
    const due: [LeaseId, number][] = [];
    for (const [id, d] of this.deadlines)
      if (d.checkpointAtMs <= nowMs) due.push([id, d.checkpointAtMs]);
    const taken = due.sort(byTimeThenId).slice(0, limit);
    for (const [id] of taken)
      this.get(id).checkpointAtMs = nowMs + this.limits.checkpointIntervalMs;
    return taken.map(([id]) => id);
  }

  /**
   * The earliest time at which takeExpired or takeCheckpointsDue would return something, or
   * undefined if nothing is tracked. A result <= nowMs means "now".
   */
  nextDeadlineMs(nowMs: number): number | undefined {
    let next = Number.POSITIVE_INFINITY;
    for (const d of this.deadlines.values()) {
      next = Math.min(next, d.checkpointAtMs, this.revokeReadyAtMs(d, nowMs));
    }
    return next === Number.POSITIVE_INFINITY ? undefined : next;
  }

  /** When this lease could next be handed out as expired, given the rate limit. */
  private revokeReadyAtMs(d: Deadlines, nowMs: number): number {
    const ready = Math.max(d.expiryAtMs, d.revokeNotBeforeMs);
    const windowEndMs = this.windowStartMs + this.limits.revokeWindowMs;
    const exhausted = this.revokesInWindow >= this.limits.revokeBatchLimit && nowMs < windowEndMs;
    return exhausted ? Math.max(ready, windowEndMs) : ready;
  }

  private readyToRevoke(nowMs: number): [LeaseId, number][] {
    const ready: [LeaseId, number][] = [];
    for (const [id, d] of this.deadlines) {
      if (d.expiryAtMs <= nowMs && d.revokeNotBeforeMs <= nowMs) ready.push([id, d.expiryAtMs]);
    }
    return ready.sort(byTimeThenId);
  }

  private get(id: LeaseId): Deadlines {
    const d = this.deadlines.get(id);
    assert(d !== undefined, () => `primary: lease ${id} not tracked`);
    return d;
  }
}
