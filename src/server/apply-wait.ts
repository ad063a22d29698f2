// Waiting for the applied index: etcd's applyWait. A leader renews a lease only once it has applied
// everything committed before it, so a just-elected leader never renews a lease that a revoke it
// has not applied yet already removed.

import type { EtcdError } from "../api/errors.js";
import type { TimerId, Timers } from "../env/timers.js";

interface Waiter {
  readonly index: number;
  readonly run: () => void;
  readonly fail: (error: EtcdError) => void;
  readonly timer: TimerId;
}

/**
 * Callbacks waiting until the member has applied an index. Contract: each is answered exactly once
 * through `defer` (run once applied >= index; fail with the timeout error, or with the error given
 * to failAll); waiters run in registration order among those released together.
 */
export class ApplyWait {
  private waiters: Waiter[] = [];

  constructor(
    private readonly timers: Timers,
    private readonly defer: (callback: () => void) => void,
    private readonly applied: () => number,
  ) {}

  get size(): number {
    return this.waiters.length;
  }

  /** Runs `run` once applied >= index (at once, through defer, if it already is). */
  wait(
    index: number,
    timeoutMs: number,
    timeoutError: EtcdError,
    run: () => void,
    fail: (error: EtcdError) => void,
  ): void {
    if (this.applied() >= index) return this.defer(run);
    const timer = this.timers.schedule(timeoutMs, () => {
      const i = this.waiters.indexOf(waiter);
      if (i < 0) return;
      this.waiters.splice(i, 1);
      this.defer(() => fail(timeoutError));
    });
    const waiter: Waiter = { index, run, fail, timer };
    this.waiters.push(waiter);
  }

  /** Releases the waiters whose index is now applied. */
  onApplied(): void {
    if (this.waiters.length === 0) return;
    const applied = this.applied();
    const ready = this.waiters.filter((w) => w.index <= applied);
    if (ready.length === 0) return;
    this.waiters = this.waiters.filter((w) => w.index > applied);
    for (const w of ready) {
      this.timers.cancel(w.timer);
      this.defer(w.run);
    }
  }

  failAll(error: EtcdError): void {
    const all = this.waiters;
    this.waiters = [];
    for (const w of all) {
      this.timers.cancel(w.timer);
      this.defer(() => w.fail(error));
    }
  }
}
