import { describe, expect, it } from "vitest";
import { fromUtf8 } from "../../src/lib/bytes.js";
import type { ClusterMember } from "../../src/api/cluster.js";
import type { WatchResponse } from "../../src/api/rpc.js";
import type { Member } from "../../src/server/member.js";
import type { KvCluster } from "../../sim/member/kv-cluster.js";
import type { World } from "../../sim/world.js";
import { awaitLeader, b, client, errorOf, makeCluster, startJoiner, value } from "./helpers.js";

function ids(members: readonly ClusterMember[]): number[] {
  return members.map((m) => Number(m.ID));
}

function listOn(world: World, m: Member): ClusterMember[] {
  return value(client(world, m).memberList({ linearizable: true })).members;
}

function putSome(world: World, m: Member, n: number, prefix = "k"): void {
  for (let i = 0; i < n; i++)
    value(client(world, m).put({ key: b(`${prefix}${i}`), value: b("v") }));
}

function otherMembers(cluster: KvCluster, not: Member): Member[] {
  return cluster.slots.filter((s) => s.member !== not && s.up).map((s) => s.member!);
}

describe("member: cluster membership", () => {
  it("lists the initial members, linearizably on a follower and locally", () => {
    const { world, cluster } = makeCluster(3, 11);
    const leader = awaitLeader(world, cluster).member!;
    const follower = otherMembers(cluster, leader)[0]!;
    const listed = listOn(world, follower);
    expect(ids(listed)).toEqual([1, 2, 3]);
    expect(listed[0]).toEqual({
      ID: 1n,
      name: "m1",
      peerURLs: ["http://m1:2380"],
      clientURLs: ["http://m1:2379"],
      isLearner: false,
    });
    const local = value(client(world, follower).memberList({}));
    expect(local.members).toEqual(listed);
    expect(local.header.member_id).toBe(BigInt(follower.id));
  });

  it("adds a learner that catches up; promotion is refused while it is behind, accepted after", () => {
    const { world, cluster } = makeCluster(3, 12);
    const leader = awaitLeader(world, cluster).member!;
    putSome(world, leader, 20);
    const c = client(world, leader);
    const added = value(c.memberAdd({ peerURLs: ["http://learner:2380"], isLearner: true }));
    expect(added.member.isLearner).toBe(true);
    expect(added.member.name).toBe("");
    expect(ids(added.members)).toContain(Number(added.member.ID));
    const id = Number(added.member.ID);
    // Not started yet: it holds nothing of the leader's log.
    expect(errorOf(c.memberPromote({ ID: added.member.ID })).name).toBe("LearnerNotReady");
    expect(errorOf(c.memberPromote({ ID: 1n })).name).toBe("MemberNotLearner");
    // etcd allows one learner at a time.
    expect(errorOf(c.memberAdd({ peerURLs: ["http://other:2380"], isLearner: true })).name).toBe(
      "TooManyLearners",
    );

    const learner = startJoiner(world, cluster, id);
    world.runUntil({
      until: () => listOn(world, leader).find((m) => Number(m.ID) === id)?.name === `m${id}`,
      untilMs: world.nowMs + 20_000,
    });
    expect(learner.status().appliedIndex).toBeGreaterThanOrEqual(20);
    expect(learner.status().role).toBe("StateFollower");
    // A learner serves serializable reads only (etcd refuses other RPCs on a learner).
    expect(learner.isLearner).toBe(true);
    const put = errorOf(client(world, learner).put({ key: b("x"), value: b("1") }));
    expect(put.message).toBe("etcdserver: rpc not supported for learner");
    expect(errorOf(client(world, learner).range({ key: b("k0") })).name).toBe(
      "NotSupportedForLearner",
    );
    const local = value(client(world, learner).range({ key: b("k0"), serializable: true }));
    expect(local.kvs).toHaveLength(1);
    // No watch streams either: the create is answered with a cancel naming etcd's error.
    const watched: WatchResponse[] = [];
    learner
      .watch((rs) => watched.push(...rs))
      .request({ request_union: "create_request", create_request: { key: b("k0"), watch_id: 7 } });
    world.runUntil({ until: () => watched.length > 0, untilMs: world.nowMs + 1_000 });
    expect(watched.map((w) => [w.watch_id, w.canceled, w.cancel_reason])).toEqual([
      [7, true, "etcdserver: rpc not supported for learner"],
    ]);
    // Asked on a follower: forwarded to the leader, which sees the learner in sync.
    const follower = otherMembers(cluster, leader).find((m) => m !== learner)!;
    const promoted = value(client(world, follower).memberPromote({ ID: added.member.ID }));
    expect(promoted.members.find((m) => m.ID === added.member.ID)?.isLearner).toBe(false);
    world.runUntil({ until: () => !learner.isLearner, untilMs: world.nowMs + 5_000 });
    // The promoted member is a voter that serves linearizable reads of what came before.
    const got = value(client(world, learner).range({ key: b("k19") }));
    expect(got.kvs.map((kv) => fromUtf8(kv.value))).toEqual(["v"]);
    world.runUntil({ untilMs: world.nowMs + 2_000 });
    expect(listOn(world, learner).every((m) => !m.isLearner)).toBe(true);
  });

  it("refuses a duplicate peer URL, an unknown member and promoting a voter", () => {
    const { world, cluster } = makeCluster(3, 13);
    const leader = awaitLeader(world, cluster).member!;
    const follower = otherMembers(cluster, leader)[0]!;
    const c = client(world, leader);
    const dup = errorOf(c.memberAdd({ peerURLs: ["http://m2:2380"] }));
    expect(dup.name).toBe("PeerURLExist");
    expect(dup.message).toBe("etcdserver: Peer URLs already exists");
    for (const bad of [[], ["m9:2380"], ["http://m9"], ["http://m9:2380/path"], ["ftp://m9:21"]]) {
      const refused = errorOf(c.memberAdd({ peerURLs: bad }));
      expect(refused.message).toBe("etcdserver: given member URLs are invalid");
    }
    expect(
      value(c.memberAdd({ peerURLs: ["https://[::1]:2380"], isLearner: true })).member.isLearner,
    ).toBe(true);
    expect(errorOf(c.memberUpdate({ ID: 1n, peerURLs: [] })).name).toBe("MemberBadURLs");
    const missing = errorOf(c.memberRemove({ ID: 77n }));
    expect(missing.message).toBe("etcdserver: member not found");
    expect(errorOf(c.memberUpdate({ ID: 77n, peerURLs: ["http://x:1"] })).name).toBe(
      "MemberNotFound",
    );
    expect(errorOf(c.memberUpdate({ ID: 1n, peerURLs: ["http://m3:2380"] })).name).toBe(
      "PeerURLExist",
    );
    // A follower forwards the promotion to the leader, which finds no learner.
    const voter = errorOf(client(world, follower).memberPromote({ ID: 2n }));
    expect(voter.message).toBe("etcdserver: can only promote a learner member");
  });

  it("checks a change again when it applies: a stale member's proposal fails there, everywhere alike", () => {
    const { world, cluster } = makeCluster(3, 19);
    const leaderSlot = awaitLeader(world, cluster);
    const leader = leaderSlot.member!;
    const stale = cluster.slots.find((s) => s !== leaderSlot)!;
    // The stale member hears nothing from the leader, so it does not learn of the first addition.
    cluster.network.cutOneWay(leaderSlot.name, stale.name);
    value(client(world, leader).memberAdd({ peerURLs: ["http://x:2380"] }));
    let answer: ReturnType<typeof errorOf> | "ok" | undefined;
    stale.member!.memberAdd({ peerURLs: ["http://x:2380"] }, (r) => {
      answer = r.ok ? "ok" : r.error;
    });
    // Valid in its stale list: proposed, not refused at once.
    expect(answer).toBeUndefined();
    world.runUntil({ untilMs: world.nowMs + 300 });
    cluster.network.uncutOneWay(leaderSlot.name, stale.name);
    world.runUntil({ until: () => answer !== undefined, untilMs: world.nowMs + 10_000 });
    expect(answer).toMatchObject({ name: "PeerURLExist" });
    const lists = cluster.slots.map((s) => listOn(world, s.member!));
    for (const l of lists) expect(l).toEqual(lists[0]);
    expect(lists[0]!.filter((m) => m.peerURLs.includes("http://x:2380"))).toHaveLength(1);
  });

  it("updates peer URLs; every member lists the new ones", () => {
    const { world, cluster } = makeCluster(3, 14);
    const leader = awaitLeader(world, cluster).member!;
    const follower = otherMembers(cluster, leader)[0]!;
    const updated = value(
      client(world, follower).memberUpdate({
        ID: BigInt(leader.id),
        peerURLs: ["http://new:2380"],
      }),
    );
    expect(updated.members.find((m) => Number(m.ID) === leader.id)?.peerURLs).toEqual([
      "http://new:2380",
    ]);
    for (const m of cluster.slots.map((s) => s.member!)) {
      const me = listOn(world, m).find((x) => Number(x.ID) === leader.id);
      expect(me?.peerURLs).toEqual(["http://new:2380"]);
    }
  });

  it("removes a follower: it stops, the others keep serving", () => {
    const { world, cluster } = makeCluster(3, 15);
    const leader = awaitLeader(world, cluster).member!;
    const follower = otherMembers(cluster, leader)[0]!;
    const removed = value(client(world, leader).memberRemove({ ID: BigInt(follower.id) }));
    expect(ids(removed.members)).not.toContain(follower.id);
    world.runUntil({ until: () => follower.status().stopped, untilMs: world.nowMs + 5_000 });
    expect(follower.status().stopped).toBe(true);
    putSome(world, leader, 5);
    // A removed id is never taken again.
    expect(errorOf(client(world, leader).memberRemove({ ID: BigInt(follower.id) })).name).toBe(
      "MemberNotFound",
    );
  });

  it("removes the leader: it steps down and stops, a new leader is elected and serves", () => {
    const { world, cluster } = makeCluster(3, 16);
    const leader = awaitLeader(world, cluster).member!;
    value(client(world, leader).put({ key: b("before"), value: b("1") }));
    const removed = value(client(world, leader).memberRemove({ ID: BigInt(leader.id) }));
    expect(ids(removed.members)).not.toContain(leader.id);
    world.runUntil({ until: () => leader.status().stopped, untilMs: world.nowMs + 5_000 });
    expect(leader.status().stopped).toBe(true);
    const rest = otherMembers(cluster, leader);
    world.runUntil({
      until: () => rest.some((m) => m.isLeader && rest.every((o) => o.leader === m.id)),
      untilMs: world.nowMs + 10_000,
    });
    const next = rest.find((m) => m.isLeader)!;
    expect(next).toBeDefined();
    value(client(world, next).put({ key: b("after"), value: b("2") }));
    const other = rest.find((m) => m !== next)!;
    const got = value(client(world, other).range({ key: b("after") }));
    expect(got.kvs.map((kv) => fromUtf8(kv.value))).toEqual(["2"]);
    expect(ids(listOn(world, other))).toEqual(rest.map((m) => m.id).sort((x, y) => x - y));
  });

  it("refuses a voter that would leave fewer started members than a quorum", () => {
    const { world, cluster } = makeCluster(3, 17);
    const leader = awaitLeader(world, cluster).member!;
    const c = client(world, leader);
    // Unstarted voters: 3 of 4, then 3 of 5 started still make a quorum; 3 of 6 do not.
    value(c.memberAdd({ peerURLs: ["http://v4:2380"] }));
    value(c.memberAdd({ peerURLs: ["http://v5:2380"] }));
    const refused = errorOf(c.memberAdd({ peerURLs: ["http://v6:2380"] }));
    expect(refused.message).toBe(
      "etcdserver: re-configuration failed due to not enough started members",
    );
    // A learner never counts towards the quorum.
    value(c.memberAdd({ peerURLs: ["http://l6:2380"], isLearner: true }));
    // Removing a started voter now would leave 2 started of 4.
    const follower = otherMembers(cluster, leader)[0]!;
    expect(errorOf(c.memberRemove({ ID: BigInt(follower.id) })).name).toBe(
      "MemberNotEnoughStarted",
    );
  });

  it("the member list survives a restart from a snapshot in durable mode", () => {
    const { world, cluster } = makeCluster(3, 18, {
      disk: { snapshotCount: 10, catchUpEntries: 2, segmentBytes: 64 * 1024, restartAfterMs: 200 },
    });
    const leader = awaitLeader(world, cluster);
    const c = client(world, leader.member!);
    const added = value(c.memberAdd({ peerURLs: ["http://learner:2380"], isLearner: true }));
    value(c.memberUpdate({ ID: 1n, peerURLs: ["http://moved:2380"] }));
    putSome(world, leader.member!, 30);
    const expected = listOn(world, leader.member!);
    expect(ids(expected)).toContain(Number(added.member.ID));
    const follower = cluster.slots.find((s) => s !== leader)!;
    world.runUntil({
      until: () => follower.member!.durabilityStats.snapshotsCreated > 0,
      untilMs: world.nowMs + 5_000,
    });
    cluster.crash(follower.name);
    cluster.restart(follower.name);
    world.runUntil({
      until: () => follower.member?.status().appliedIndex === leader.member!.status().appliedIndex,
      untilMs: world.nowMs + 10_000,
    });
    expect(follower.durability.recoveredFromIndex.at(-1)).toBeGreaterThan(0);
    const restarted = value(client(world, follower.member!).memberList({}));
    expect(restarted.members).toEqual(expected);
  });
});
