import { describe, expect, it } from "vitest";
import { Prng } from "../../src/lib/prng.js";
import { NO_LEASE } from "../../src/api/kv.js";
import type { Random } from "../../src/env/random.js";
import { MAX_LEASE_TTL_SECONDS, minLeaseTtlSeconds } from "../../src/lease/index.js";
import {
  b,
  deleteEvent,
  errorMessage,
  FakeClock,
  newLessor,
  putEvent,
  showAttachments,
  texts,
  unwrap,
} from "./helpers.js";

const NOT_FOUND = "etcdserver: requested lease not found";

describe("grant", () => {
  it("raises a TTL below ceil(1.5 x election timeout) to that minimum", () => {
    expect(minLeaseTtlSeconds(1000)).toBe(2);
    expect(minLeaseTtlSeconds(1100)).toBe(2);
    expect(minLeaseTtlSeconds(2000)).toBe(3);
    expect(minLeaseTtlSeconds(100)).toBe(1);
    const lessor = newLessor(new FakeClock(), { electionTimeoutMs: 2000 });
    expect(lessor.minTtlSeconds).toBe(3);
    expect(unwrap(lessor.applyGrant(1n, 1))).toEqual({ id: 1n, ttlSeconds: 3 });
    expect(unwrap(lessor.applyGrant(2n, -5))).toEqual({ id: 2n, ttlSeconds: 3 });
    expect(unwrap(lessor.applyGrant(3n, 4))).toEqual({ id: 3n, ttlSeconds: 4 });
    expect(lessor.lease(1n)).toEqual({ id: 1n, ttlSeconds: 3, remainingTtlSeconds: 0 });
  });

  it("fails with etcd's messages for a TTL above the maximum and for an existing id", () => {
    const lessor = newLessor();
    expect(errorMessage(lessor.applyGrant(1n, MAX_LEASE_TTL_SECONDS + 1))).toBe(
      "etcdserver: too large lease TTL",
    );
    expect(lessor.leases()).toEqual([]);
    expect(unwrap(lessor.applyGrant(1n, MAX_LEASE_TTL_SECONDS)).ttlSeconds).toBe(
      MAX_LEASE_TTL_SECONDS,
    );
    const again = lessor.applyGrant(1n, 10);
    expect(errorMessage(again)).toBe("etcdserver: lease already exists");
    expect(again.ok ? undefined : again.error.code).toBe("FailedPrecondition");
    expect(lessor.lease(1n)?.ttlSeconds).toBe(MAX_LEASE_TTL_SECONDS);
  });

  it("refuses id 0: the proposer must choose the id before proposing", () => {
    expect(() => newLessor().applyGrant(NO_LEASE, 10)).toThrow(/bad lease id/);
  });

  it("lists leases ascending by id, negative ids included", () => {
    const lessor = newLessor();
    for (const id of [5n, -3n, 9n, 1n]) unwrap(lessor.applyGrant(id, 10));
    expect(lessor.leases()).toEqual([-3n, 1n, 5n, 9n]);
    expect(lessor.exportState().leases.map((r) => r.id)).toEqual([-3n, 1n, 5n, 9n]);
  });
});

describe("chooseId", () => {
  it("draws positive safe-integer ids, the same ones for the same seed", () => {
    const a = newLessor();
    const draw = (seed: number): bigint[] => {
      const random = Prng.fromSeed(seed).stream("member-1");
      return Array.from({ length: 50 }, () => a.chooseId(random));
    };
    const ids = draw(7);
    expect(draw(7)).toEqual(ids);
    expect(draw(8)).not.toEqual(ids);
    for (const id of ids) {
      expect(id > 0n && id <= BigInt(Number.MAX_SAFE_INTEGER)).toBe(true);
    }
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("draws again when the id is taken or 0", () => {
    const draws = [0, 0, 0, 5, 0, 6];
    const random: Random = {
      int: () => draws.shift() ?? 99,
      float: () => 0,
      chance: () => false,
      pick: (items) => items[0] as never,
      shuffle: (items) => [...items],
    };
    const lessor = newLessor();
    unwrap(lessor.applyGrant(5n, 10));
    expect(lessor.chooseId(random)).toBe(6n); // 0 and 5 are skipped
  });
});

describe("expiry under virtual time", () => {
  it("hands out a lease once its TTL has passed on the primary's clock, and again after the retry interval", () => {
    const clock = new FakeClock(1_000);
    const lessor = newLessor(clock, { expiredRetryMs: 3_000 });
    lessor.promote(0);
    unwrap(lessor.applyGrant(7n, 10));
    expect(lessor.nextDeadlineMs()).toBe(11_000);
    clock.advance(9_999);
    expect(lessor.expiredLeases()).toEqual([]);
    clock.advance(1);
    expect(lessor.expiredLeases()).toEqual([7n]);
    expect(lessor.expiredLeases()).toEqual([]); // its revoke is in flight
    expect(lessor.nextDeadlineMs()).toBe(14_000);
    clock.advance(3_000);
    expect(lessor.expiredLeases()).toEqual([7n]); // the revoke was lost: propose again
    unwrap(lessor.applyRevoke(7n));
    expect(lessor.expiredLeases()).toEqual([]);
    expect(lessor.nextDeadlineMs()).toBeUndefined();
    lessor.checkInvariants();
  });

  it("hands out expired leases earliest expiry first, then by id", () => {
    const clock = new FakeClock();
    const lessor = newLessor(clock);
    lessor.promote(0);
    unwrap(lessor.applyGrant(3n, 5));
    unwrap(lessor.applyGrant(2n, 5));
    unwrap(lessor.applyGrant(1n, 6));
    unwrap(lessor.applyGrant(9n, 4));
    clock.advance(6_000);
    expect(lessor.expiredLeases()).toEqual([9n, 2n, 3n, 1n]);
  });

  it("rate-limits revokes to a batch per window and says when the window reopens", () => {
    const clock = new FakeClock();
    const lessor = newLessor(clock, { revokeBatchLimit: 2, revokeWindowMs: 500 });
    lessor.promote(0);
    for (const id of [1n, 2n, 3n, 4n, 5n]) unwrap(lessor.applyGrant(id, 10));
    clock.advance(10_000);
    expect(lessor.expiredLeases()).toEqual([1n, 2n]);
    expect(lessor.expiredLeases()).toEqual([]);
    expect(lessor.nextDeadlineMs()).toBe(10_500);
    clock.advance(499);
    expect(lessor.expiredLeases()).toEqual([]);
    clock.advance(1);
    expect(lessor.expiredLeases()).toEqual([3n, 4n]);
    clock.advance(500);
    expect(lessor.expiredLeases()).toEqual([5n]);
  });

  it("does not track expiry on a follower", () => {
    const clock = new FakeClock();
    const lessor = newLessor(clock);
    unwrap(lessor.applyGrant(1n, 2));
    clock.advance(1_000_000);
    expect(lessor.isPrimary).toBe(false);
    expect(lessor.expiredLeases()).toEqual([]);
    expect(lessor.checkpointsDue()).toEqual([]);
    expect(lessor.nextDeadlineMs()).toBeUndefined();
    expect(errorMessage(lessor.keepAlive(1n))).toBe("etcdserver: not leader");
    expect(errorMessage(lessor.timeToLive(1n))).toBe("etcdserver: not leader");
  });

  it("stops tracking on demote", () => {
    const clock = new FakeClock();
    const lessor = newLessor(clock);
    lessor.promote(0);
    unwrap(lessor.applyGrant(1n, 2));
    lessor.demote();
    clock.advance(10_000);
    expect(lessor.expiredLeases()).toEqual([]);
    expect(lessor.nextDeadlineMs()).toBeUndefined();
    lessor.demote(); // idempotent
  });
});

describe("keepAlive and timeToLive", () => {
  it("a keepalive restarts the lease's full TTL from now", () => {
    const clock = new FakeClock();
    const lessor = newLessor(clock);
    lessor.promote(0);
    unwrap(lessor.applyGrant(1n, 10));
    clock.advance(6_000);
    expect(unwrap(lessor.timeToLive(1n)).ttlSeconds).toBe(4);
    expect(unwrap(lessor.keepAlive(1n))).toEqual({ ttlSeconds: 10, resetCheckpoint: undefined });
    expect(unwrap(lessor.timeToLive(1n))).toEqual({
      ttlSeconds: 10,
      grantedTtlSeconds: 10,
      keys: [],
    });
    clock.advance(1_500);
    expect(unwrap(lessor.timeToLive(1n)).ttlSeconds).toBe(8); // 8.5 s, rounded down
    clock.advance(8_499);
    expect(lessor.expiredLeases()).toEqual([]);
    clock.advance(1);
    expect(lessor.expiredLeases()).toEqual([1n]);
  });

  it("an expired lease cannot be renewed while its revoke is pending", () => {
    const clock = new FakeClock();
    const lessor = newLessor(clock);
    lessor.promote(0);
    unwrap(lessor.applyGrant(1n, 10));
    clock.advance(10_000);
    expect(errorMessage(lessor.keepAlive(1n))).toBe(NOT_FOUND);
    expect(unwrap(lessor.timeToLive(1n)).ttlSeconds).toBe(0);
  });

  it("fails with LeaseNotFound for a missing lease", () => {
    const lessor = newLessor();
    lessor.promote(0);
    expect(errorMessage(lessor.keepAlive(4n))).toBe(NOT_FOUND);
    expect(errorMessage(lessor.timeToLive(4n))).toBe(NOT_FOUND);
    expect(errorMessage(lessor.applyRevoke(4n))).toBe(NOT_FOUND);
    const r = lessor.applyRevoke(4n);
    expect(r.ok ? undefined : r.error.code).toBe("NotFound");
  });

  it("timeToLive lists the attached keys in key order when asked", () => {
    const lessor = newLessor();
    lessor.promote(0);
    unwrap(lessor.applyGrant(1n, 10));
    lessor.applyKvEvents([putEvent("b", 1n), putEvent("a", 1n), putEvent("c")]);
    expect(texts(unwrap(lessor.timeToLive(1n, true)).keys)).toEqual(["a", "b"]);
    expect(unwrap(lessor.timeToLive(1n)).keys).toEqual([]);
  });
});

describe("leader change", () => {
  it("promote extends every lease by extendMs beyond its TTL", () => {
    const clock = new FakeClock();
    const lessor = newLessor(clock);
    unwrap(lessor.applyGrant(1n, 10));
    clock.advance(5_000); // a follower's time does not count against the lease
    lessor.promote(1_000);
    expect(lessor.nextDeadlineMs()).toBe(5_000 + 10_000 + 1_000);
    expect(unwrap(lessor.timeToLive(1n)).ttlSeconds).toBe(11);
    clock.advance(10_999);
    expect(lessor.expiredLeases()).toEqual([]);
    clock.advance(1);
    expect(lessor.expiredLeases()).toEqual([1n]);
  });

  it("a new leader restored from the replicated state continues from the checkpointed remaining TTL", () => {
    const leaderClock = new FakeClock();
    const leader = newLessor(leaderClock, { checkpointIntervalMs: 10_000 });
    const follower = newLessor(new FakeClock(), { checkpointIntervalMs: 10_000 });
    leader.promote(0);
    for (const l of [leader, follower]) unwrap(l.applyGrant(1n, 60));

    leaderClock.advance(9_999);
    expect(leader.checkpointsDue()).toEqual([]);
    expect(leader.nextDeadlineMs()).toBe(10_000);
    leaderClock.advance(15_001); // 25 s in: 35 s remain
    const checkpoints = leader.checkpointsDue();
    expect(checkpoints).toEqual([{ ID: 1n, remaining_TTL: 35 }]);
    expect(leader.checkpointsDue()).toEqual([]); // rescheduled one interval later
    for (const l of [leader, follower]) l.applyCheckpoint({ checkpoints });

    // The leader dies; a member restored from the follower's state wins the election.
    const nextClock = new FakeClock(500_000);
    const next = newLessor(nextClock, { checkpointIntervalMs: 10_000 });
    next.restore(follower.exportState(), []);
    next.promote(2_000);
    expect(unwrap(next.timeToLive(1n))).toMatchObject({ ttlSeconds: 37, grantedTtlSeconds: 60 });
    nextClock.advance(36_999);
    expect(next.expiredLeases()).toEqual([]);
    nextClock.advance(1);
    expect(next.expiredLeases()).toEqual([1n]);
  });

  it("a keepalive after a checkpoint asks to clear it, so the next leader uses the full TTL", () => {
    const clock = new FakeClock();
    const leader = newLessor(clock, { checkpointIntervalMs: 1_000 });
    leader.promote(0);
    unwrap(leader.applyGrant(1n, 30));
    clock.advance(5_000);
    leader.applyCheckpoint({ checkpoints: leader.checkpointsDue() });
    expect(leader.lease(1n)?.remainingTtlSeconds).toBe(25);
    const renewed = unwrap(leader.keepAlive(1n));
    expect(renewed.resetCheckpoint).toEqual({ ID: 1n, remaining_TTL: 0 });
    leader.applyCheckpoint({ checkpoints: [renewed.resetCheckpoint!] });
    expect(leader.lease(1n)?.remainingTtlSeconds).toBe(0);
    expect(unwrap(leader.keepAlive(1n)).resetCheckpoint).toBeUndefined();

    const next = newLessor(new FakeClock());
    next.restore(leader.exportState(), []);
    next.promote(0);
    expect(unwrap(next.timeToLive(1n)).ttlSeconds).toBe(30);
  });

  it("checkpoints skip leases with nothing to save and leases already expired", () => {
    const clock = new FakeClock();
    const lessor = newLessor(clock, { checkpointIntervalMs: 1_000 });
    unwrap(lessor.applyGrant(1n, 10));
    unwrap(lessor.applyGrant(2n, 3));
    lessor.promote(1_000);
    clock.advance(1_000); // exactly the TTL left on both: a checkpoint would save nothing
    expect(lessor.checkpointsDue()).toEqual([]);
    clock.advance(1_000); // 9 s and 2 s left
    expect(lessor.checkpointsDue()).toEqual([
      { ID: 1n, remaining_TTL: 9 },
      { ID: 2n, remaining_TTL: 2 },
    ]);
    clock.advance(4_500); // lease 2 expired; lease 1: 4.5 s left, rounded up
    expect(lessor.checkpointsDue()).toEqual([{ ID: 1n, remaining_TTL: 5 }]);
  });

  it("limits the checkpoints per call", () => {
    const clock = new FakeClock();
    const lessor = newLessor(clock, { checkpointIntervalMs: 1_000, checkpointBatchLimit: 2 });
    lessor.promote(0);
    for (const id of [3n, 1n, 2n]) unwrap(lessor.applyGrant(id, 10));
    clock.advance(1_000);
    expect(lessor.checkpointsDue().map((c) => c.ID)).toEqual([1n, 2n]);
    expect(lessor.nextDeadlineMs()).toBe(1_000); // one is still due
    expect(lessor.checkpointsDue().map((c) => c.ID)).toEqual([3n]);
    expect(lessor.nextDeadlineMs()).toBe(2_000);
  });

  it("applyCheckpoint skips a revoked lease and caps the remaining TTL at the TTL", () => {
    const lessor = newLessor();
    unwrap(lessor.applyGrant(1n, 10));
    lessor.applyCheckpoint({
      checkpoints: [
        { ID: 2n, remaining_TTL: 5 },
        { ID: 1n, remaining_TTL: 50 },
      ],
    });
    expect(lessor.exportState().leases).toEqual([
      { id: 1n, ttlSeconds: 10, remainingTtlSeconds: 10 },
    ]);
    expect(() =>
      lessor.applyCheckpoint({ checkpoints: [{ ID: 1n, remaining_TTL: -1 }] }),
    ).toThrow();
  });

  it("only a follower restores a snapshot, and promote is called once", () => {
    const lessor = newLessor();
    lessor.promote(0);
    expect(() => lessor.restore({ leases: [] }, [])).toThrow(/primary/);
    expect(() => lessor.promote(0)).toThrow(/already primary/);
  });
});

describe("revoke and key attachments", () => {
  it("revoke returns exactly the attached keys, in key order, and detaches them", () => {
    const lessor = newLessor();
    unwrap(lessor.applyGrant(1n, 10));
    unwrap(lessor.applyGrant(2n, 10));
    lessor.applyKvEvents([
      putEvent("k2", 1n),
      putEvent("k1", 1n),
      putEvent("x", 2n),
      putEvent("n"),
    ]);
    expect(texts(unwrap(lessor.applyRevoke(1n)).keys)).toEqual(["k1", "k2"]);
    expect(lessor.has(1n)).toBe(false);
    expect(lessor.leaseOf(b("k1"))).toBe(NO_LEASE);
    expect(showAttachments(lessor.attachments())).toEqual([["x", 2n]]);
    // The member's delete of k1 and k2 comes back as DELETE events: nothing left to detach.
    lessor.applyKvEvents([deleteEvent("k1"), deleteEvent("k2")]);
    expect(showAttachments(lessor.attachments())).toEqual([["x", 2n]]);
    expect(texts(unwrap(lessor.applyRevoke(2n)).keys)).toEqual(["x"]);
    expect(texts(unwrap(lessor.applyGrant(3n, 10)) && lessor.keysOf(3n))).toEqual([]);
    lessor.checkInvariants();
  });

  it("a key moves between leases, off a lease, and is detached by a delete", () => {
    const lessor = newLessor();
    unwrap(lessor.applyGrant(1n, 10));
    unwrap(lessor.applyGrant(2n, 10));
    lessor.applyKvEvents([putEvent("k", 1n)]);
    expect(lessor.leaseOf(b("k"))).toBe(1n);
    lessor.applyKvEvents([putEvent("k", 1n)]); // overwrite on the same lease (or ignore_lease)
    expect(texts(lessor.keysOf(1n))).toEqual(["k"]);
    lessor.applyKvEvents([putEvent("k", 2n)]);
    expect([texts(lessor.keysOf(1n)), texts(lessor.keysOf(2n))]).toEqual([[], ["k"]]);
    lessor.applyKvEvents([putEvent("k")]);
    expect(lessor.leaseOf(b("k"))).toBe(NO_LEASE);
    expect(lessor.keysOf(2n)).toEqual([]);
    lessor.applyKvEvents([putEvent("k", 2n), deleteEvent("k"), deleteEvent("never")]);
    expect(lessor.attachments()).toEqual([]);
    lessor.checkInvariants();
  });

  it("asserts a key is on at most one lease and only on a lease that exists", () => {
    const lessor = newLessor();
    unwrap(lessor.applyGrant(1n, 10));
    unwrap(lessor.applyGrant(2n, 10));
    lessor.attach(b("k"), 1n);
    expect(() => lessor.attach(b("k"), 2n)).toThrow(/already on lease 1/);
    expect(() => lessor.attach(b("j"), 3n)).toThrow(/does not exist/);
    expect(() => lessor.detach(b("k"), 2n)).toThrow(/not on lease 2/);
    lessor.detach(b("k"), 1n);
    expect(lessor.attachments()).toEqual([]);
  });
});
