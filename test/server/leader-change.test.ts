// The member across leader changes: a new leader's lease answers wait for its backlog, forwarded
// lease requests follow the leader, a proposal Raft drops is answered with etcd's error, and reads
// are size-checked like writes.
import { describe, expect, it } from "vitest";
import type { EtcdError } from "../../src/api/errors.js";
import type { LeaseKeepAliveResponse } from "../../src/api/rpc.js";
import type { Result } from "../../src/lib/result.js";
import type { SimKvMember } from "../../sim/member/kv-cluster.js";
import { awaitLeader, b, call, client, errorOf, makeCluster, value } from "./helpers.js";

describe("member: lease requests across leader changes", () => {
  it("a new leader renews only once it has applied the entries committed before it", () => {
    const { world, cluster } = makeCluster(3, 21);
    const old = awaitLeader(world, cluster);
    const grant = value(client(world, old.member!).leaseGrant({ TTL: 60, ID: 5n }));
    const heir = cluster.slots.find((s) => s !== old)!;
    old.member!.transferLeadership(heir.id);
    world.runUntil({ until: () => heir.member!.isLeader, untilMs: world.nowMs + 5_000 });
    expect(heir.member!.isLeader).toBe(true);
    // Elected this instant: its own first entry is not committed yet.
    const startIndex = heir.member!.status().raftIndex;
    expect(heir.member!.consistentIndex).toBeLessThan(startIndex);
    let appliedAtAnswer = -1;
    const r = call<LeaseKeepAliveResponse>(world, (done) =>
      heir.member!.leaseKeepAlive({ ID: grant.ID }, (result) => {
        appliedAtAnswer = heir.member!.consistentIndex;
        done(result);
      }),
    );
    expect(value(r).TTL).toBe(60);
    expect(appliedAtAnswer).toBeGreaterThanOrEqual(startIndex);
  });

  it("a new leader cut off before applying its backlog does not renew", () => {
    const { world, cluster } = makeCluster(3, 22);
    const old = awaitLeader(world, cluster);
    value(client(world, old.member!).leaseGrant({ TTL: 60, ID: 6n }));
    const heir = cluster.slots.find((s) => s !== old)!;
    old.member!.transferLeadership(heir.id);
    world.runUntil({ until: () => heir.member!.isLeader, untilMs: world.nowMs + 5_000 });
    cluster.network.isolate(heir.name, cluster.names);
    const r = call(world, (done) => heir.member!.leaseKeepAlive({ ID: 6n }, done));
    expect(errorOf(r).name).toBe("TimeoutWaitAppliedIndex");
  });

  it("a keepalive forwarded to a leader that is cut off is retried at the next leader", () => {
    const { world, cluster } = makeCluster(3, 23);
    const leader = awaitLeader(world, cluster);
    value(client(world, leader.member!).leaseGrant({ TTL: 60, ID: 7n }));
    world.runUntil({ untilMs: world.nowMs + 500 });
    const follower = cluster.slots.find((s) => s !== leader) as SimKvMember;
    cluster.network.isolate(leader.name, cluster.names);
    const start = world.nowMs;
    const r = call<LeaseKeepAliveResponse>(world, (done) =>
      follower.member!.leaseKeepAlive({ ID: 7n }, done),
    );
    expect(value(r).TTL).toBe(60);
    expect(world.nowMs - start).toBeLessThan(follower.member!.config.requestTimeoutMs);
    expect(follower.member!.leader).not.toBe(leader.id);
  });

  it("timetolive through a follower follows a leadership transfer", () => {
    const { world, cluster } = makeCluster(3, 24);
    const leader = awaitLeader(world, cluster);
    value(client(world, leader.member!).leaseGrant({ TTL: 60, ID: 8n }));
    const [a, c] = cluster.slots.filter((s) => s !== leader) as [SimKvMember, SimKvMember];
    // The forward goes out to the old leader, which hands leadership to `c` before answering.
    let answer: Result<unknown, EtcdError> | undefined;
    a.member!.leaseTimeToLive({ ID: 8n }, (result) => (answer = result));
    leader.member!.transferLeadership(c.id);
    world.runUntil({ until: () => answer !== undefined, untilMs: world.nowMs + 10_000 });
    expect(answer?.ok).toBe(true);
  });

  it("gives up with NoLeader when no leader appears in time", () => {
    const { world, cluster } = makeCluster(3, 25, { memberConfig: { requestTimeoutMs: 3_000 } });
    const leader = awaitLeader(world, cluster);
    const follower = cluster.slots.find((s) => s !== leader)!;
    for (const s of cluster.slots) cluster.network.isolate(s.name, cluster.names);
    const r = call(world, (done) => follower.member!.leaseKeepAlive({ ID: 9n }, done));
    expect(["NoLeader", "Timeout"]).toContain(errorOf(r).name);
  });
});

describe("member: errors etcd gives", () => {
  it("a write Raft drops during a leadership transfer fails with ProposalDropped", () => {
    const { world, cluster } = makeCluster(3, 26);
    const leader = awaitLeader(world, cluster);
    const target = cluster.slots.find((s) => s !== leader)!;
    // The transferee is unreachable, so the transfer stays pending and the leader drops proposals.
    cluster.network.isolate(target.name, cluster.names);
    value(client(world, leader.member!).put({ key: b("k"), value: b("1") }));
    leader.member!.transferLeadership(target.id);
    const r = client(world, leader.member!).put({ key: b("k"), value: b("2") });
    expect(errorOf(r)).toMatchObject({ name: "ProposalDropped", code: "Unknown" });
    expect(errorOf(r).message).toBe("raft proposal dropped");
  });

  it("reads larger than the request limit fail with RequestTooLarge, like writes", () => {
    const { world, cluster } = makeCluster(1, 27);
    const leader = awaitLeader(world, cluster);
    const c = client(world, leader.member!);
    const big = new Uint8Array(1_572_864).fill(97);
    expect(errorOf(c.range({ key: big })).name).toBe("RequestTooLarge");
    expect(errorOf(c.range({ key: b("a"), range_end: big })).name).toBe("RequestTooLarge");
    const readTxn = c.txn({ success: [{ request: "request_range", request_range: { key: big } }] });
    expect(errorOf(readTxn).name).toBe("RequestTooLarge");
    expect(value(c.range({ key: b("a") })).count).toBe(0);
  });
});
