// The state machine of a Raft-only member: how many proposals it applied and a running digest of
// every applied entry. That is all a Raft-level test needs to tell whether two members applied the
// same sequence, and it is small enough to snapshot on every `snapshotCount` entries. The
// ConsistentIndex makes applying idempotent: after a restore, entries at or below the snapshot's
// index are skipped if raft hands them out again.
import { assert } from "../../src/lib/assert.js";
import type { Entry } from "../../src/raft/types.js";
import { ConsistentIndex } from "../../src/storage/index.js";
import { foldApplied, type AppliedSummary } from "../check/raft-safety.js";

const SNAPSHOT_MAGIC = 0x52534d31; // "RSM1"
const SNAPSHOT_BYTES = 4 + 8 + 8 + 4;

export class AppliedState {
  private consistentIndex: ConsistentIndex;
  private proposalCount: number;
  private digestNow: number;

  constructor(from: AppliedSummary = { index: 0, proposals: 0, digest: 0 }) {
    this.consistentIndex = new ConsistentIndex(from.index);
    this.proposalCount = from.proposals;
    this.digestNow = from.digest;
  }

  get index(): number {
    return this.consistentIndex.value;
  }

  summary(): AppliedSummary {
    return { index: this.index, proposals: this.proposalCount, digest: this.digestNow };
  }

  /** Whether `e` is new to this state machine (false: a replay below the consistent index). */
  shouldApply(e: Entry): boolean {
    return this.consistentIndex.shouldApply(e.index);
  }

  apply(e: Entry): void {
    assert(e.index === this.index + 1, () => `applied ${e.index} after ${this.index}`);
    this.digestNow = foldApplied(this.digestNow, e);
    if (e.data.length > 0) this.proposalCount++;
    this.consistentIndex.applied(e.index);
  }

  /** Replaces the whole state with a snapshot's (the consistent index jumps to its index). */
  restore(from: AppliedSummary): void {
    this.consistentIndex = new ConsistentIndex(from.index);
    this.proposalCount = from.proposals;
    this.digestNow = from.digest;
  }
}

/** The snapshot payload: the consistent index, the proposal count and the digest. */
export function encodeAppliedState(s: AppliedSummary): Uint8Array {
  const bytes = new Uint8Array(SNAPSHOT_BYTES);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, SNAPSHOT_MAGIC);
  view.setFloat64(4, s.index);
  view.setFloat64(12, s.proposals);
  view.setUint32(20, s.digest);
  return bytes;
}

/**
 * Decodes a snapshot payload. Storage checksums the file, so a payload that does not decode is a
 * bug of whoever wrote it, not corruption at rest.
 */
export function decodeAppliedState(data: Uint8Array): AppliedSummary {
  assert(data.length === SNAPSHOT_BYTES, () => `applied-state snapshot of ${data.length} bytes`);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  assert(view.getUint32(0) === SNAPSHOT_MAGIC, "not an applied-state snapshot");
  return { index: view.getFloat64(4), proposals: view.getFloat64(12), digest: view.getUint32(20) };
}
