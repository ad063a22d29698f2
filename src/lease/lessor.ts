// The lessor: etcd's lease semantics as a synchronous state machine that the member drives. It owns
// no timers and performs no I/O; it returns what the member must propose or delete.
//
// Two halves with different rules:
//
// - Replicated (LeaseTable): changed only by applying committed Raft entries, in log order, on every
//   member: applyGrant, applyRevoke, applyCheckpoint, and applyKvEvents/attach/detach for keys that
//   a kv write puts on or takes off a lease. exportState/restore carry it through snapshots. Given
//   the same entries and the same electionTimeoutMs, every member reaches the same table.
//
// - Leader-local (PrimaryState): expiry times on this member's Clock, present only between
//   promote() and demote(). Only the primary renews (keepAlive), answers timeToLive, and decides
//   which leases have expired (expiredLeases) and which remaining TTLs to checkpoint
//   (checkpointsDue); those decisions become Raft proposals, so expiry itself is replicated as a
//   revoke entry. Followers forward keepalive and timetolive to the leader.
//
// Member wiring, in order of a member's life:
//   1. new Lessor({clock, electionTimeoutMs}); kv store gets `leaseExists: (id) => lessor.has(id)`
//      and `kv.onCommit((txn) => lessor.applyKvEvents(txn.events))`.
//   2. On a snapshot: lessor.restore(state, every live KeyValue of the restored kv store).
//   3. Client LeaseGrant with ID 0: the proposing member sets ID = lessor.chooseId(random) before
//      proposing, so the applied entry is the same everywhere.
//   4. On apply: applyGrant / applyRevoke (then delete the returned keys in one kv write txn) /
//      applyCheckpoint.
//   5. On becoming leader: promote(electionTimeoutMs); on losing leadership: demote().
//   6. While leader: whenever nextDeadlineMs() is due (re-ask after every apply, keepAlive and
//      promote), propose a revoke for each id of expiredLeases() and one checkpoint entry with
//      checkpointsDue(); propose the resetCheckpoint a keepAlive returns. Polling both every 500 ms
//      is also correct.

import { assert } from "../lib/assert.js";
import { bytesToLatin1, latin1ToBytes } from "../lib/bytes.js";
import { err, ok, type Result } from "../lib/result.js";
import { Errors, type EtcdError } from "../api/errors.js";
import { NO_LEASE, type Event, type LeaseId } from "../api/kv.js";
import type { LeaseCheckpoint, LeaseCheckpointRequest } from "../api/lease-internal.js";
import type { Clock } from "../env/clock.js";
import type { Random } from "../env/random.js";
import {
  assertLeaseId,
  assertRecord,
  LeaseTable,
  MAX_LEASE_TTL_SECONDS,
  type LeaseRecord,
} from "./lease-table.js";
import { PrimaryState } from "./primary-state.js";

/** etcd's default checkpoint interval: 5 minutes. */
export const DEFAULT_CHECKPOINT_INTERVAL_MS = 300_000;
/** How long a handed-out expired lease waits before it is handed out again (etcd: 3 s). */
export const DEFAULT_EXPIRED_RETRY_MS = 3_000;
/** At most this many expiry revokes per window: etcd's 1000 revokes per second. */
export const DEFAULT_REVOKE_BATCH_LIMIT = 500;
export const DEFAULT_REVOKE_WINDOW_MS = 500;
/** At most this many checkpoints per checkpointsDue call (etcd's checkpoint batch size). */
export const DEFAULT_CHECKPOINT_BATCH_LIMIT = 1_000;

export interface LessorConfig {
  /** The member's clock; read only while primary. */
  readonly clock: Clock;
  /**
   * The cluster's election timeout. It sets the minimum TTL, ceil(1.5 * electionTimeoutMs / 1000)
   * seconds, which is part of the replicated behaviour: every member must use the same value.
   */
  readonly electionTimeoutMs: number;
  readonly checkpointIntervalMs?: number;
  readonly expiredRetryMs?: number;
  readonly revokeBatchLimit?: number;
  readonly revokeWindowMs?: number;
  readonly checkpointBatchLimit?: number;
}

/** The replicated state for a snapshot: every lease, ascending by id. Keys are not included. */
export interface LessorState {
  readonly leases: readonly LeaseRecord[];
}

export interface GrantedLease {
  readonly id: LeaseId;
  /** The TTL after clamping to the minimum. */
  readonly ttlSeconds: number;
}

export interface RevokedLease {
  /** The keys that were attached, in key order: delete them all in one kv write txn. */
  readonly keys: Uint8Array[];
}

export interface KeepAliveOutcome {
  /** The lease's granted TTL: the lease lives this long from now. */
  readonly ttlSeconds: number;
  /**
   * Present when the lease has a checkpointed remaining TTL: propose it so that a future leader
   * starts the lease from its full TTL rather than from the stale checkpoint.
   */
  readonly resetCheckpoint: LeaseCheckpoint | undefined;
}

export interface LeaseTimeToLive {
  /** Whole seconds left, rounded down; 0 for an expired lease that is not revoked yet. */
  readonly ttlSeconds: number;
  readonly grantedTtlSeconds: number;
  /** The attached keys in key order; empty unless asked for. */
  readonly keys: Uint8Array[];
}

/** A key as the kv store holds it; only `key` and `lease` are read. */
export interface LeasedKey {
  readonly key: Uint8Array;
  readonly lease: LeaseId;
}

/** etcd's minLeaseTTL for an election timeout. */
export function minLeaseTtlSeconds(electionTimeoutMs: number): number {
  return Math.ceil((1.5 * electionTimeoutMs) / 1000);
}

/** Random lease ids have this many bits, so they stay exact as JavaScript numbers too. */
const ID_HIGH_BITS = 21;
const ID_LOW_BITS = 32;
const CHOOSE_ID_ATTEMPTS = 64;

export class Lessor {
  /** Grants below this many seconds are raised to it. */
  readonly minTtlSeconds: number;
  private readonly clock: Clock;
  private readonly checkpointBatchLimit: number;
  private readonly makePrimary: () => PrimaryState;
  private table = new LeaseTable();
  private primary: PrimaryState | undefined;

  constructor(config: LessorConfig) {
    assert(config.electionTimeoutMs > 0, () => `electionTimeoutMs ${config.electionTimeoutMs}`);
    this.clock = config.clock;
    this.minTtlSeconds = minLeaseTtlSeconds(config.electionTimeoutMs);
    this.checkpointBatchLimit = config.checkpointBatchLimit ?? DEFAULT_CHECKPOINT_BATCH_LIMIT;
    const limits = {
      checkpointIntervalMs: config.checkpointIntervalMs ?? DEFAULT_CHECKPOINT_INTERVAL_MS,
      expiredRetryMs: config.expiredRetryMs ?? DEFAULT_EXPIRED_RETRY_MS,
      revokeBatchLimit: config.revokeBatchLimit ?? DEFAULT_REVOKE_BATCH_LIMIT,
      revokeWindowMs: config.revokeWindowMs ?? DEFAULT_REVOKE_WINDOW_MS,
    };
    assert(limits.checkpointIntervalMs > 0, "checkpointIntervalMs must be positive");
    assert(limits.revokeBatchLimit > 0 && this.checkpointBatchLimit > 0, "batch limits positive");
    this.makePrimary = () => new PrimaryState(limits);
  }

  // ---- replicated: apply committed entries --------------------------------------------------------

  /**
   * A fresh lease id for a LeaseGrant whose ID is 0, drawn from the proposing member's Random and
   * not in use here. Ids are positive and below 2^53. Two grants in flight could still draw the same
   * id (odds about 2^-53); the second then fails with LeaseExist, as it would in etcd.
   */
  chooseId(random: Random): LeaseId {
    for (let attempt = 0; attempt < CHOOSE_ID_ATTEMPTS; attempt++) {
      const high = BigInt(random.int(0, 2 ** ID_HIGH_BITS - 1));
      const low = BigInt(random.int(0, 2 ** ID_LOW_BITS - 1));
      const id = (high << BigInt(ID_LOW_BITS)) | low;
      if (id !== NO_LEASE && !this.table.has(id)) return id;
    }
    assert(false, `no free lease id after ${CHOOSE_ID_ATTEMPTS} draws`);
  }

  /**
   * Applies a committed LeaseGrant. The id must not be 0 (the proposer chose it). Fails with
   * LeaseTTLTooLarge above MAX_LEASE_TTL_SECONDS and LeaseExist for a used id; raises a TTL below
   * minTtlSeconds to it. On the primary the lease starts expiring now.
   */
  applyGrant(id: LeaseId, ttlSeconds: number): Result<GrantedLease, EtcdError> {
    assertLeaseId(id);
    assert(Number.isInteger(ttlSeconds), () => `grant ${id}: ttl ${ttlSeconds} is not an integer`);
    if (ttlSeconds > MAX_LEASE_TTL_SECONDS) return err(Errors.LeaseTTLTooLarge);
    if (this.table.has(id)) return err(Errors.LeaseExist);
    const granted = Math.max(ttlSeconds, this.minTtlSeconds);
    this.table.insert({ id, ttlSeconds: granted, remainingTtlSeconds: 0 });
    this.primary?.track(id, this.clock.now(), granted * 1000);
    return ok({ id, ttlSeconds: granted });
  }

  /**
   * Applies a committed LeaseRevoke: removes the lease and detaches its keys, which the member must
   * then delete in one kv write txn (their DELETE events find no lease left, which is expected).
   * Fails with LeaseNotFound for an unknown id.
   */
  applyRevoke(id: LeaseId): Result<RevokedLease, EtcdError> {
    if (!this.table.has(id)) return err(Errors.LeaseNotFound);
    const keys = this.table.remove(id);
    this.primary?.untrack(id);
    return ok({ keys: keys.map(latin1ToBytes) });
  }

  /**
   * Applies committed checkpoints in order. A checkpoint for a lease that is gone (revoked after it
   * was proposed) is skipped; a remaining TTL above the lease's TTL (the id was revoked and granted
   * again with a shorter TTL meanwhile) is capped at the TTL. The primary's expiry times are not
   * touched: they are already at least as fresh as any checkpoint.
   */
  applyCheckpoint(request: LeaseCheckpointRequest): void {
    for (const cp of request.checkpoints) {
      assert(
        Number.isSafeInteger(cp.remaining_TTL) && cp.remaining_TTL >= 0,
        () => `checkpoint ${cp.ID}: remaining ${cp.remaining_TTL}`,
      );
      const lease = this.table.get(cp.ID);
      if (lease === undefined) continue;
      this.table.setRemaining(cp.ID, Math.min(cp.remaining_TTL, lease.ttlSeconds));
    }
  }

  /**
   * Follows one committed kv write txn's events, in order: a PUT moves the key to the lease it now
   * names (or off any lease), a DELETE takes it off its lease. The kv store has already checked
   * that every named lease exists.
   */
  applyKvEvents(events: readonly Event[]): void {
    for (const e of events) {
      const key = bytesToLatin1(e.kv.key);
      const current = this.table.leaseOf(key);
      const next = e.type === "PUT" ? e.kv.lease : NO_LEASE;
      if (current === next || (current === undefined && next === NO_LEASE)) continue;
      if (current !== undefined) this.table.detach(key, current);
      if (next !== NO_LEASE) this.table.attach(key, next);
    }
  }

  /** Attaches a key that is on no lease to an existing lease. */
  attach(key: Uint8Array, id: LeaseId): void {
    this.table.attach(bytesToLatin1(key), id);
  }

  /** Detaches a key from the lease it is attached to. */
  detach(key: Uint8Array, id: LeaseId): void {
    this.table.detach(bytesToLatin1(key), id);
  }

  /** The replicated state, ascending by id (the key attachments are rebuilt from the kv store). */
  exportState(): LessorState {
    return { leases: this.table.records() };
  }

  /**
   * Replaces the replicated state with a snapshot's, and attaches every key of `kvs` that names a
   * lease (those leases must be in the snapshot). Only a follower restores a snapshot.
   */
  restore(state: LessorState, kvs: Iterable<LeasedKey>): void {
    assert(this.primary === undefined, "restore on the primary lessor");
    const table = new LeaseTable();
    let previous: LeaseId | undefined;
    for (const record of state.leases) {
      assertRecord(record);
      assert(previous === undefined || previous < record.id, "snapshot leases not ascending by id");
      table.insert(record);
      previous = record.id;
    }
    for (const kv of kvs) if (kv.lease !== NO_LEASE) table.attach(bytesToLatin1(kv.key), kv.lease);
    this.table = table;
  }

  // ---- replicated: reads -------------------------------------------------------------------------

  /** Whether the lease exists (the kv store's leaseExists check). */
  has(id: LeaseId): boolean {
    return this.table.has(id);
  }

  /** Every lease id, ascending (the LeaseLeases answer). */
  leases(): LeaseId[] {
    return this.table.ids();
  }

  /** The lease's replicated record, or undefined. */
  lease(id: LeaseId): LeaseRecord | undefined {
    return this.table.get(id);
  }

  /** The keys attached to an existing lease, in key order. */
  keysOf(id: LeaseId): Uint8Array[] {
    return this.table.keysOf(id).map(latin1ToBytes);
  }

  /** The lease a key is attached to, or NO_LEASE. */
  leaseOf(key: Uint8Array): LeaseId {
    return this.table.leaseOf(bytesToLatin1(key)) ?? NO_LEASE;
  }

  /** Every attached key with its lease, in key order (to cross-check against the kv store). */
  attachments(): LeasedKey[] {
    return this.table.attachments().map(([key, lease]) => ({ key: latin1ToBytes(key), lease }));
  }

  // ---- leader-local -------------------------------------------------------------------------------

  get isPrimary(): boolean {
    return this.primary !== undefined;
  }

  /**
   * Becomes the primary lessor (call when this member becomes leader). Every lease expires at now +
   * its checkpointed remaining TTL (or full TTL if none) + extendMs; etcd extends by one election
   * timeout so that clients get time to find the new leader and renew.
   */
  promote(extendMs: number): void {
    assert(this.primary === undefined, "promote: already primary");
    assert(extendMs >= 0, () => `promote: extendMs ${extendMs}`);
    const primary = this.makePrimary();
    const nowMs = this.clock.now();
    for (const r of this.table.records()) {
      primary.track(r.id, nowMs, startingTtlSeconds(r) * 1000 + extendMs);
    }
    this.primary = primary;
  }

  /** Stops being primary (call when this member loses leadership); expiry is no longer tracked. */
  demote(): void {
    this.primary = undefined;
  }

  /**
   * Renews a lease on the primary: it lives its full TTL from now. Fails with NotLeader on a
   * non-primary (the member forwards, or replies so if leadership just moved) and LeaseNotFound
   * for a missing lease or one that has already expired (its revoke is on its way).
   */
  keepAlive(id: LeaseId): Result<KeepAliveOutcome, EtcdError> {
    const primary = this.primary;
    if (primary === undefined) return err(Errors.NotLeader);
    const lease = this.table.get(id);
    if (lease === undefined) return err(Errors.LeaseNotFound);
    const nowMs = this.clock.now();
    if (primary.expiryAtMs(id) <= nowMs) return err(Errors.LeaseNotFound);
    primary.renew(id, nowMs, lease.ttlSeconds * 1000);
    const resetCheckpoint =
      lease.remainingTtlSeconds > 0 ? { ID: id, remaining_TTL: 0 } : undefined;
    return ok({ ttlSeconds: lease.ttlSeconds, resetCheckpoint });
  }

  /**
   * Remaining and granted TTL, on the primary, and the attached keys if `withKeys`. Fails with
   * NotLeader on a non-primary and LeaseNotFound for a missing lease.
   */
  timeToLive(id: LeaseId, withKeys = false): Result<LeaseTimeToLive, EtcdError> {
    const primary = this.primary;
    if (primary === undefined) return err(Errors.NotLeader);
    const lease = this.table.get(id);
    if (lease === undefined) return err(Errors.LeaseNotFound);
    const remainingMs = Math.max(0, primary.expiryAtMs(id) - this.clock.now());
    return ok({
      ttlSeconds: Math.floor(remainingMs / 1000),
      grantedTtlSeconds: lease.ttlSeconds,
      keys: withKeys ? this.keysOf(id) : [],
    });
  }

  /**
   * The expired leases the leader should now propose revokes for, earliest expiry first. Empty on a
   * non-primary. Rate-limited to revokeBatchLimit per revokeWindowMs; a lease handed out is not
   * handed out again for expiredRetryMs, unless it is renewed.
   */
  expiredLeases(): LeaseId[] {
    return this.primary?.takeExpired(this.clock.now()) ?? [];
  }

  /**
   * Checkpoints the leader should propose now (in one entry): for each lease whose checkpoint
   * interval has passed, its remaining TTL rounded up to whole seconds, unless the lease has
   * expired or its remaining TTL is not below its TTL (nothing to save). At most
   * checkpointBatchLimit leases are looked at per call; each is rescheduled one interval later.
   */
  checkpointsDue(): LeaseCheckpoint[] {
    const primary = this.primary;
    if (primary === undefined) return [];
    const nowMs = this.clock.now();
    const out: LeaseCheckpoint[] = [];
    for (const id of primary.takeCheckpointsDue(nowMs, this.checkpointBatchLimit)) {
      const remainingMs = primary.expiryAtMs(id) - nowMs;
      if (remainingMs <= 0) continue;
      const remaining = Math.ceil(remainingMs / 1000);
      const ttlSeconds = this.table.get(id)?.ttlSeconds;
      assert(ttlSeconds !== undefined, () => `checkpoint: tracked lease ${id} not in table`);
      if (remaining < ttlSeconds) out.push({ ID: id, remaining_TTL: remaining });
    }
    return out;
  }

  /**
   * The earliest clock time at which expiredLeases or checkpointsDue may return something, or
   * undefined when there is nothing to wait for (not primary, or no leases). A value <= now means
   * call them now. It can move earlier after an apply, keepAlive or promote: ask again then.
   */
  nextDeadlineMs(): number | undefined {
    return this.primary?.nextDeadlineMs(this.clock.now());
  }

  /** Checks every invariant of both halves (slow: for tests and debug builds of the member). */
  checkInvariants(): void {
    this.table.checkInvariants();
    const primary = this.primary;
    if (primary === undefined) return;
    assert(primary.size === this.table.size, "primary tracks a different number of leases");
    for (const id of this.table.ids()) assert(primary.tracks(id), () => `lease ${id} not tracked`);
  }
}

/** The TTL a newly promoted leader starts a lease from: its checkpoint if any, else its TTL. */
function startingTtlSeconds(r: LeaseRecord): number {
  return r.remainingTtlSeconds > 0 ? r.remainingTtlSeconds : r.ttlSeconds;
}
