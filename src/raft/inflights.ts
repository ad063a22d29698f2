// The flow-control window of one follower: the last index of every MsgApp sent in StateReplicate
// and not yet acknowledged, oldest first, in a fixed-size ring buffer (no allocation per message).
import { assert } from "../lib/assert.js";

/**
 * Inflights bounds how many MsgApp a leader keeps outstanding to one follower.
 * Contract: `add` is called with strictly increasing indexes and only while `!full()`;
 * `freeLE(i)` releases every message whose last index is <= i (an acknowledgement covers all
 * earlier messages because the follower's log is a prefix-closed sequence).
 */
export class Inflights {
  private readonly buffer: number[];
  private start = 0;
  private countMsgs = 0;

  constructor(readonly capacity: number) {
    assert(Number.isInteger(capacity) && capacity > 0, () => `inflights capacity ${capacity}`);
    this.buffer = new Array<number>(capacity).fill(0);
  }

  /** Records a MsgApp whose last entry has index `lastIndex`. */
  add(lastIndex: number): void {
    assert(!this.full(), "inflights: add while full");
    if (this.countMsgs > 0) {
      const newest = this.buffer[(this.start + this.countMsgs - 1) % this.capacity] as number;
      assert(lastIndex > newest, () => `inflights: index ${lastIndex} after ${newest}`);
    }
    this.buffer[(this.start + this.countMsgs) % this.capacity] = lastIndex;
    this.countMsgs++;
  }

  /** Releases every message whose last index is <= `index`. */
  freeLE(index: number): void {
    while (this.countMsgs > 0 && (this.buffer[this.start] as number) <= index) {
      this.start = (this.start + 1) % this.capacity;
      this.countMsgs--;
    }
    if (this.countMsgs === 0) this.start = 0;
  }

  /** Releases the oldest message (a heartbeat response proves the follower is alive). */
  freeFirstOne(): void {
    if (this.countMsgs === 0) return;
    this.freeLE(this.buffer[this.start] as number);
  }

  full(): boolean {
    return this.countMsgs === this.capacity;
  }

  count(): number {
    return this.countMsgs;
  }

  reset(): void {
    this.start = 0;
    this.countMsgs = 0;
  }
}
