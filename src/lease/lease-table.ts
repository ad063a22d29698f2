// The replicated half of the lessor: which leases exist, their granted and checkpointed TTLs, and
// which keys are attached to each. Every member holds an identical table because it changes only
// when a committed Raft entry is applied (grant, revoke, checkpoint, or a kv write that moves keys).
// Nothing here reads a clock.
//
// Keys are held as latin1 strings of their bytes (see src/lib/bytes.ts): a cheap Map key whose
// code-unit order is the bytewise key order, so sorting them gives etcd's key order.

import { assert } from "../lib/assert.js";
import { NO_LEASE, type LeaseId } from "../api/kv.js";

/** etcd's MaxLeaseTTL: a grant above this many seconds fails with LeaseTTLTooLarge. */
export const MAX_LEASE_TTL_SECONDS = 9_000_000_000;

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** One lease as persisted in snapshots (etcd's lease bucket record, without the keys). */
export interface LeaseRecord {
  readonly id: LeaseId;
  /** The granted TTL after clamping, in whole seconds. */
  readonly ttlSeconds: number;
  /** The last checkpointed remaining TTL in whole seconds; 0 means none (use ttlSeconds). */
  readonly remainingTtlSeconds: number;
}

interface LeaseEntry {
  readonly id: LeaseId;
  readonly ttlSeconds: number;
  remainingTtlSeconds: number;
  /** Attached keys (latin1), in attach order. */
  readonly keys: Set<string>;
}

function toRecord(e: LeaseEntry): LeaseRecord {
  return { id: e.id, ttlSeconds: e.ttlSeconds, remainingTtlSeconds: e.remainingTtlSeconds };
}

/** Code-unit order, which for latin1 key strings is bytewise key order; also orders bigints. */
export function compareAscending<T extends string | bigint>(a: T, b: T): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function assertLeaseId(id: LeaseId): void {
  assert(id !== NO_LEASE && id >= INT64_MIN && id <= INT64_MAX, () => `bad lease id ${id}`);
}

export function assertRecord(r: LeaseRecord): void {
  assertLeaseId(r.id);
  assert(
    Number.isSafeInteger(r.ttlSeconds) &&
      r.ttlSeconds >= 1 &&
      r.ttlSeconds <= MAX_LEASE_TTL_SECONDS,
    () => `lease ${r.id}: bad ttlSeconds ${r.ttlSeconds}`,
  );
  assert(
    Number.isSafeInteger(r.remainingTtlSeconds) &&
      r.remainingTtlSeconds >= 0 &&
      r.remainingTtlSeconds <= r.ttlSeconds,
    () => `lease ${r.id}: bad remainingTtlSeconds ${r.remainingTtlSeconds} (ttl ${r.ttlSeconds})`,
  );
}

/**
 * The replicated lease state. Contract: callers validate requests first (missing or duplicate ids
 * are expected failures handled by the Lessor); every method here asserts its preconditions, so a
 * call that would break an invariant is a bug and throws.
 */
export class LeaseTable {
  private readonly leases = new Map<LeaseId, LeaseEntry>();
  /** The lease each attached key belongs to: a key is attached to at most one lease. */
  private readonly leaseOfKey = new Map<string, LeaseId>();

  get size(): number {
    return this.leases.size;
  }

  has(id: LeaseId): boolean {
    return this.leases.has(id);
  }

  /** A copy of the lease's record (the entry itself, with its key set, stays private). */
  get(id: LeaseId): LeaseRecord | undefined {
    const e = this.leases.get(id);
    return e === undefined ? undefined : toRecord(e);
  }

  /** Every lease id, ascending. */
  ids(): LeaseId[] {
    return [...this.leases.keys()].sort(compareAscending);
  }

  /** Every lease, ascending by id. */
  records(): LeaseRecord[] {
    return this.ids().map((id) => toRecord(this.entry(id)));
  }

  insert(record: LeaseRecord): void {
    assertRecord(record);
    assert(!this.leases.has(record.id), () => `lease ${record.id} already exists`);
    this.leases.set(record.id, { ...record, keys: new Set() });
  }

  /** Removes the lease and detaches its keys; returns those keys in key order. */
  remove(id: LeaseId): string[] {
    const keys = this.keysOf(id);
    for (const key of keys) this.detach(key, id);
    this.leases.delete(id);
    return keys;
  }

  setRemaining(id: LeaseId, remainingTtlSeconds: number): void {
    const e = this.entry(id);
    assertRecord({ id, ttlSeconds: e.ttlSeconds, remainingTtlSeconds });
    e.remainingTtlSeconds = remainingTtlSeconds;
  }

  attach(key: string, id: LeaseId): void {
    const e = this.entry(id);
    const current = this.leaseOfKey.get(key);
    assert(
      current === undefined,
      () => `key ${JSON.stringify(key)} is already on lease ${current}`,
    );
    e.keys.add(key);
    this.leaseOfKey.set(key, id);
  }

  detach(key: string, id: LeaseId): void {
    const e = this.entry(id);
    assert(
      this.leaseOfKey.get(key) === id && e.keys.has(key),
      () => `key ${JSON.stringify(key)} is not on lease ${id}`,
    );
    e.keys.delete(key);
    this.leaseOfKey.delete(key);
  }

  /** The lease `key` is attached to, if any. */
  leaseOf(key: string): LeaseId | undefined {
    return this.leaseOfKey.get(key);
  }

  /** The keys attached to `id`, in key order. */
  keysOf(id: LeaseId): string[] {
    return [...this.entry(id).keys].sort(compareAscending);
  }

  /** Every attachment, in key order. */
  attachments(): [string, LeaseId][] {
    return [...this.leaseOfKey.entries()].sort((a, b) => compareAscending(a[0], b[0]));
  }

  /** Every record is valid and the two maps describe the same attachments. */
  checkInvariants(): void {
    let attached = 0;
    for (const [id, e] of this.leases) {
      assert(e.id === id, () => `lease ${id} stored under another id`);
      assertRecord(e);
      for (const key of e.keys) {
        assert(this.leaseOfKey.get(key) === id, () => `key ${JSON.stringify(key)} vs lease ${id}`);
      }
      attached += e.keys.size;
    }
    assert(attached === this.leaseOfKey.size, "a key is attached to a lease that lacks it");
  }

  private entry(id: LeaseId): LeaseEntry {
    const e = this.leases.get(id);
    assert(e !== undefined, () => `lease ${id} does not exist`);
    return e;
  }
}
