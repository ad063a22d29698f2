import { describe, expect, it } from "vitest";
import { fromUtf8, prefixEnd } from "../../src/lib/bytes.js";
import type { WatchResponse } from "../../src/api/rpc.js";
import { awaitLeader, b, client, errorOf, makeCluster, value } from "./helpers.js";

describe("member leases", () => {
  it("expire under virtual time on the leader and delete their keys", () => {
    const { world, cluster } = makeCluster(3, 11);
    const leader = awaitLeader(world, cluster);
    const c = client(world, leader.member!);
    const grant = value(c.leaseGrant({ TTL: 5 }));
    expect(grant.TTL).toBe(5);
    value(c.put({ key: b("l/a"), value: b("1"), lease: grant.ID }));
    const start = world.nowMs;
    world.runUntil({ untilMs: start + 4_000 });
    expect(value(c.range({ key: b("l/a") })).count).toBe(1);
    world.runUntil({ untilMs: start + 6_500 });
    expect(value(c.range({ key: b("l/a") })).count).toBe(0);
    for (const s of cluster.slots) expect(s.member!.lessor.has(grant.ID)).toBe(false);
    expect(value(c.leaseTimeToLive({ ID: grant.ID })).TTL).toBe(-1);
  });

  it("keepalive through a follower (forwarded to the leader) keeps a lease alive", () => {
    const { world, cluster } = makeCluster(3, 12);
    const leader = awaitLeader(world, cluster);
    const follower = cluster.slots.find((s) => s !== leader)!;
    const f = client(world, follower.member!);
    const grant = value(f.leaseGrant({ TTL: 3, ID: 77n }));
    expect(grant.ID).toBe(77n);
    value(f.put({ key: b("k"), value: b("v"), lease: 77n }));
    for (let i = 0; i < 10; i++) {
      world.runUntil({ untilMs: world.nowMs + 1_000 });
      expect(value(f.leaseKeepAlive({ ID: 77n })).TTL).toBe(3);
    }
    const ttl = value(f.leaseTimeToLive({ ID: 77n, keys: true }));
    expect(ttl.grantedTTL).toBe(3);
    expect(ttl.keys.map(fromUtf8)).toEqual(["k"]);
    expect(value(f.leaseLeases({})).leases.map((l) => l.ID)).toEqual([77n]);
    world.runUntil({ untilMs: world.nowMs + 5_000 });
    expect(errorOf(f.leaseKeepAlive({ ID: 77n })).name).toBe("LeaseNotFound");
    expect(value(f.range({ key: b("k") })).count).toBe(0);
  });

  it("a leader change keeps the remaining TTL (checkpointed), not the full TTL", () => {
    const { world, cluster } = makeCluster(3, 13, {
      memberConfig: { leaseCheckpointIntervalMs: 1_000 },
    });
    const leader = awaitLeader(world, cluster);
    const c = client(world, leader.member!);
    const grant = value(c.leaseGrant({ TTL: 30 }));
    const grantedAt = world.nowMs;
    world.runUntil({ untilMs: grantedAt + 12_000 });
    const next = cluster.slots.find((s) => s !== leader)!;
    leader.member!.transferLeadership(next.id);
    const newLeader = awaitLeader(world, cluster);
    expect(newLeader.id).toBe(next.id);
    const n = client(world, newLeader.member!);
    const left = value(n.leaseTimeToLive({ ID: grant.ID })).TTL;
    // About 18 s were left; the new leader adds one election timeout (1 s), as etcd does.
    expect(left).toBeGreaterThanOrEqual(16);
    expect(left).toBeLessThanOrEqual(20);
    world.runUntil({ untilMs: grantedAt + 33_000 });
    expect(newLeader.member!.lessor.has(grant.ID)).toBe(false);
  });

  it("revoke deletes every attached key at one revision, and watchers see all the deletes", () => {
    const { world, cluster } = makeCluster(3, 14);
    const leader = awaitLeader(world, cluster);
    const c = client(world, leader.member!);
    const grant = value(c.leaseGrant({ TTL: 60 }));
    for (const k of ["r/a", "r/b", "r/c"])
      value(c.put({ key: b(k), value: b(k), lease: grant.ID }));
    value(c.put({ key: b("r/free"), value: b("x") }));
    const follower = cluster.slots.find((s) => s !== leader)!.member!;
    const seen: WatchResponse[] = [];
    follower
      .watch((rs) => seen.push(...rs))
      .request({
        request_union: "create_request",
        create_request: { key: b("r/"), range_end: prefixEnd(b("r/")), start_revision: 1 },
      });
    const revoked = value(c.leaseRevoke({ ID: grant.ID }));
    const rev = revoked.header.revision;
    expect(rev).toBe(value(c.range({ key: b("r/free") })).header.revision);
    world.runUntil({ untilMs: world.nowMs + 500 });
    const deletes = seen.filter((r) => r.events.some((e) => e.type === "DELETE"));
    expect(deletes).toHaveLength(1);
    expect(deletes[0]!.events.map((e) => `${fromUtf8(e.kv.key)}@${e.kv.mod_revision}`)).toEqual([
      `r/a@${rev}`,
      `r/b@${rev}`,
      `r/c@${rev}`,
    ]);
    const left = value(c.range({ key: b("r/"), range_end: prefixEnd(b("r/")) }));
    expect(left.kvs.map((kv) => fromUtf8(kv.key))).toEqual(["r/free"]);
  });
});
