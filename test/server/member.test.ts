import { describe, expect, it } from "vitest";
import { fromUtf8, prefixEnd } from "../../src/lib/bytes.js";
import type { RequestOp, WatchResponse } from "../../src/api/rpc.js";
import { awaitLeader, b, client, errorOf, makeCluster, value } from "./helpers.js";

describe("member: one-member cluster", () => {
  it("elects itself and serves put, range, txn, delete, compact and hashKV", () => {
    const { world, cluster } = makeCluster(1);
    awaitLeader(world, cluster);
    const m = cluster.member("m1");
    const put = value(client(world, m).put({ key: b("a"), value: b("1") }));
    expect(put.header.revision).toBe(2);
    expect(put.header.member_id).toBe(1n);
    expect(put.header.raft_term).toBeGreaterThan(0);
    expect(put.header.cluster_id).not.toBe(0n);
    const got = value(client(world, m).range({ key: b("a") }));
    expect(got.kvs.map((kv) => fromUtf8(kv.value))).toEqual(["1"]);
    const txn = value(
      client(world, m).txn({
        compare: [{ key: b("a"), result: "EQUAL", target: "VALUE", value: b("1") }],
        success: [{ request: "request_put", request_put: { key: b("b"), value: b("2") } }],
      }),
    );
    expect(txn.succeeded).toBe(true);
    expect(txn.header.revision).toBe(3);
    const del = value(client(world, m).deleteRange({ key: b("a"), prev_kv: true }));
    expect(del.deleted).toBe(1);
    expect(fromUtf8((del.prev_kvs[0] as { value: Uint8Array }).value)).toBe("1");
    value(client(world, m).compact({ revision: 3 }));
    expect(errorOf(client(world, m).range({ key: b("a"), revision: 2 })).name).toBe("Compacted");
    const hash = value(client(world, m).hashKV({}));
    expect(hash.hash_revision).toBe(4);
    expect(hash.compact_revision).toBe(3);
  });

  it("rejects bad requests with etcd's errors before Raft", () => {
    const { world, cluster } = makeCluster(1);
    awaitLeader(world, cluster);
    const m = cluster.member("m1");
    const before = m.status().raftIndex;
    expect(errorOf(client(world, m).put({ key: new Uint8Array(0) })).name).toBe("EmptyKey");
    const big = new Uint8Array(1_572_864);
    expect(errorOf(client(world, m).put({ key: b("k"), value: big })).name).toBe("RequestTooLarge");
    const ops: RequestOp[] = Array.from({ length: 129 }, (_, i) => ({
      request: "request_put",
      request_put: { key: b(`k${i}`) },
    }));
    expect(errorOf(client(world, m).txn({ success: ops })).name).toBe("TooManyOps");
    expect(errorOf(client(world, m).leaseRevoke({ ID: 42n })).name).toBe("LeaseNotFound");
    // Only the revoke (a well-formed request that failed on apply) reached the log.
    expect(m.status().raftIndex).toBe(before + 1);
    m.stop();
    expect(errorOf(client(world, m).range({ key: b("k") })).name).toBe("Stopped");
  });
});

describe("member: three-member cluster", () => {
  it("writes on a follower, reads linearizably on another, serializable reads are local", () => {
    const { world, cluster } = makeCluster(3, 2);
    const leader = awaitLeader(world, cluster);
    const followers = cluster.slots.filter((s) => s !== leader).map((s) => s.member!);
    const [f1, f2] = followers as [
      NonNullable<(typeof followers)[0]>,
      NonNullable<(typeof followers)[0]>,
    ];
    value(client(world, f1).put({ key: b("x"), value: b("v1") }));
    const read = value(client(world, f2).range({ key: b("x") }));
    expect(read.kvs.map((kv) => fromUtf8(kv.value))).toEqual(["v1"]);
    const local = value(client(world, f2).range({ key: b("x"), serializable: true }));
    expect(local.header.member_id).toBe(BigInt(f2.id));
  });

  it("answers NoLeader on an isolated member once it has lost its leader", () => {
    const { world, cluster } = makeCluster(3, 3);
    const leader = awaitLeader(world, cluster);
    const follower = cluster.slots.find((s) => s !== leader)!;
    cluster.network.isolate(follower.name, cluster.names);
    world.runUntil({ untilMs: world.nowMs + 5_000 });
    const m = follower.member!;
    expect(m.leader).toBe(0);
    expect(errorOf(client(world, m).put({ key: b("k"), value: b("v") })).name).toBe("NoLeader");
    expect(errorOf(client(world, m).range({ key: b("k") })).name).toBe("NoLeader");
    // A serializable read needs no leader.
    expect(value(client(world, m).range({ key: b("k"), serializable: true })).count).toBe(0);
  });

  it("times out a write that cannot commit (its outcome is unknown to the client)", () => {
    const { world, cluster } = makeCluster(3, 4, { memberConfig: { requestTimeoutMs: 2_000 } });
    const leader = awaitLeader(world, cluster);
    cluster.network.isolate(leader.name, cluster.names);
    const r = client(world, leader.member!).put({ key: b("k"), value: b("v") });
    expect(errorOf(r).name).toBe("Timeout");
  });

  it("a restarted member re-applies its log and converges (apply is idempotent)", () => {
    const { world, cluster } = makeCluster(3, 5);
    const leader = awaitLeader(world, cluster);
    const lm = leader.member!;
    for (let i = 0; i < 20; i++)
      value(client(world, lm).put({ key: b(`k${i % 5}`), value: b(`v${i}`) }));
    const victim = cluster.slots.find((s) => s !== leader)!;
    cluster.crash(victim.name);
    for (let i = 0; i < 10; i++)
      value(client(world, lm).put({ key: b(`j${i}`), value: b(`w${i}`) }));
    cluster.restart(victim.name);
    world.runUntil({ untilMs: world.nowMs + 3_000 });
    const hashes = cluster.slots.map((s) => value(client(world, s.member!).hashKV({})));
    expect(new Set(hashes.map((h) => `${h.hash}@${h.hash_revision}`)).size).toBe(1);
    expect(hashes[0]!.hash_revision).toBe(31);
    expect(victim.member!.consistentIndex).toBe(lm.consistentIndex);
    expect(cluster.violations.count).toBe(0);
  });

  it("serves a watch stream from revision 1 with every event", () => {
    const { world, cluster } = makeCluster(3, 6);
    const leader = awaitLeader(world, cluster);
    value(client(world, leader.member!).put({ key: b("w/a"), value: b("1") }));
    const follower = cluster.slots.find((s) => s !== leader)!.member!;
    const seen: WatchResponse[] = [];
    const w = follower.watch((rs) => seen.push(...rs));
    w.request({
      request_union: "create_request",
      create_request: { key: b("w/"), range_end: prefixEnd(b("w/")), start_revision: 1 },
    });
    value(client(world, leader.member!).put({ key: b("w/b"), value: b("2") }));
    value(client(world, leader.member!).deleteRange({ key: b("w/a") }));
    world.runUntil({ untilMs: world.nowMs + 500 });
    const events = seen.flatMap((r) =>
      r.events.map((e) => `${e.type}:${fromUtf8(e.kv.key)}@${e.kv.mod_revision}`),
    );
    expect(events).toEqual(["PUT:w/a@2", "PUT:w/b@3", "DELETE:w/a@4"]);
    expect(seen[0]!.created).toBe(true);
    expect(seen.every((r) => r.header.member_id === BigInt(follower.id))).toBe(true);
    w.close();
  });
});
