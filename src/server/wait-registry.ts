// Request ids and the wait registry: how a client's callback finds the result of its proposal once
// the entry is applied, or gives up after a timeout on the member's own timers.

import { assert } from "../lib/assert.js";
import { err, type Result } from "../lib/result.js";
import { Errors, type EtcdError } from "../api/errors.js";
import type { Random } from "../env/random.js";
import type { TimerId, Timers } from "../env/timers.js";

const COUNTER_SPAN = 2 ** 24;
const EPOCH_SPAN = 2 ** 20;
const MEMBER_SPAN = 2 ** 9;

/**
 * Cluster-unique request ids: member id (9 bits), a random epoch (20 bits) and a counter (24 bits),
 * all below 2^53. The epoch is drawn at start and again whenever the counter wraps, so a restarted
 * member does not reuse the ids of entries it proposed before the crash (which it re-applies).
 */
export class RequestIds {
  private epoch: number;
  private counter = 0;

  constructor(
    private readonly memberId: number,
    private readonly random: Random,
  ) {
    assert(
      Number.isInteger(memberId) && memberId > 0 && memberId < MEMBER_SPAN,
      () => `member id ${memberId} must be in [1, ${MEMBER_SPAN})`,
    );
    this.epoch = random.int(0, EPOCH_SPAN - 1);
  }

  next(): number {
    if (this.counter === COUNTER_SPAN) {
      this.epoch = this.random.int(0, EPOCH_SPAN - 1);
      this.counter = 0;
    }
    const id = (this.memberId * EPOCH_SPAN + this.epoch) * COUNTER_SPAN + this.counter;
    this.counter++;
    return id;
  }
}

interface Waiter<T> {
  readonly done: (result: Result<T, EtcdError>) => void;
  readonly timer: TimerId;
}

/**
 * Callbacks waiting for an applied entry, by request id.
 * Contract: each registered callback is called exactly once: with the apply result (trigger), with
 * Errors.Timeout when `timeoutMs` passes first, or with the given error on failAll (the member
 * stops). Callbacks are not run inside trigger/failAll: they are handed to `defer`, which the member
 * runs after its Ready loop, so a callback may call back into the member.
 */
export class WaitRegistry<T> {
  private readonly waiters = new Map<number, Waiter<T>>();

  constructor(
    private readonly timers: Timers,
    private readonly defer: (callback: () => void) => void,
  ) {}

  get size(): number {
    return this.waiters.size;
  }

  has(id: number): boolean {
    return this.waiters.has(id);
  }

  register(id: number, timeoutMs: number, done: (result: Result<T, EtcdError>) => void): void {
    assert(!this.waiters.has(id), () => `request id ${id} registered twice`);
    const timer = this.timers.schedule(timeoutMs, () => {
      if (this.waiters.delete(id)) this.defer(() => done(err(Errors.Timeout)));
    });
    this.waiters.set(id, { done, timer });
  }

  /** Resolves the waiter of `id`, if this member has one (it proposed the entry). */
  trigger(id: number, result: Result<T, EtcdError>): void {
    const w = this.waiters.get(id);
    if (w === undefined) return;
    this.waiters.delete(id);
    this.timers.cancel(w.timer);
    this.defer(() => w.done(result));
  }

  /** Fails every waiter in registration order (the member stops). */
  failAll(error: EtcdError): void {
    const all = [...this.waiters.values()];
    this.waiters.clear();
    for (const w of all) {
      this.timers.cancel(w.timer);
      this.defer(() => w.done(err(error)));
    }
  }
}
