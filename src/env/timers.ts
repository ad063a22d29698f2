/** An opaque handle of a scheduled callback. */
export type TimerId = number;

/**
 * Timers: run a callback after a delay on the owner's Clock.
 * Contract: the callback runs once, no earlier than `delayMs` after `schedule` by that clock, never
 * synchronously inside `schedule`, and never after `cancel` returned. Callbacks due at the same time
 * run in the order they were scheduled. Cancelling an unknown or finished timer is a no-op.
 */
export interface Timers {
  schedule(delayMs: number, callback: () => void): TimerId;
  cancel(id: TimerId): void;
}
