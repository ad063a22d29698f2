// Drives a simulated cluster from a test: call a member method and run the world until it answers.
import { expect } from "vitest";
import type { EtcdError } from "../../src/api/errors.js";
import type { Result } from "../../src/lib/result.js";
import { utf8 } from "../../src/lib/bytes.js";
import type { NodeId } from "../../src/raft/types.js";
import { Member, type Done } from "../../src/server/member.js";
import {
  KvCluster,
  memberName,
  type KvClusterOptions,
  type SimKvMember,
} from "../../sim/member/kv-cluster.js";
import { CALM_LINK } from "../../sim/net.js";
import { SimHost } from "../../sim/sim-host.js";
import { World } from "../../sim/world.js";

export const b = utf8;

export function makeCluster(
  members: number,
  seed = 1,
  options: Partial<KvClusterOptions> = {},
): { world: World; cluster: KvCluster } {
  const world = new World(seed);
  const cluster = new KvCluster(world, {
    members,
    heartbeatMs: 100,
    electionMs: 1000,
    link: CALM_LINK,
    ...options,
  });
  return { world, cluster };
}

/** Runs until a leader that every up member follows exists; returns it. */
export function awaitLeader(world: World, cluster: KvCluster, limitMs = 20_000): SimKvMember {
  const settled = () => {
    const leader = cluster.leader();
    if (leader === undefined) return false;
    return cluster.slots.every((s) => !s.up || s.member?.leader === leader.id);
  };
  world.runUntil({ until: settled, untilMs: world.nowMs + limitMs });
  const leader = cluster.leader();
  expect(leader, "a leader").toBeDefined();
  return leader as SimKvMember;
}

/** Starts a request and runs the world until its answer arrives. */
export function call<T>(
  world: World,
  start: (done: Done<T>) => void,
  limitMs = 20_000,
): Result<T, EtcdError> {
  let out: Result<T, EtcdError> | undefined;
  start((r) => {
    expect(out, "answered twice").toBeUndefined();
    out = r;
  });
  if (out === undefined)
    world.runUntil({ until: () => out !== undefined, untilMs: world.nowMs + limitMs });
  expect(out, "an answer").toBeDefined();
  return out as Result<T, EtcdError>;
}

/** The value of an ok result; fails the test with the error otherwise. */
export function value<T>(r: Result<T, EtcdError>): T {
  if (!r.ok) throw new Error(`unexpected error ${r.error.name}: ${r.error.message}`);
  return r.value;
}

/** The error of a failed result. */
export function errorOf<T>(r: Result<T, EtcdError>): EtcdError {
  if (r.ok) throw new Error("expected an error");
  return r.error;
}

type Method<Req, Res> = (req: Req, done: Done<Res>) => void;

/** A member's client methods as calls that run the world until they answer. */
export function client(world: World, m: Member) {
  const run =
    <Req, Res>(method: Method<Req, Res>) =>
    (req: Req): Result<Res, EtcdError> =>
      call<Res>(world, (d) => method.call(m, req, d));
  return {
    range: run(m.range),
    put: run(m.put),
    deleteRange: run(m.deleteRange),
    txn: run(m.txn),
    compact: run(m.compact),
    hashKV: run(m.hashKV),
    leaseGrant: run(m.leaseGrant),
    leaseRevoke: run(m.leaseRevoke),
    leaseKeepAlive: run(m.leaseKeepAlive),
    leaseTimeToLive: run(m.leaseTimeToLive),
    leaseLeases: run(m.leaseLeases),
    memberAdd: run(m.memberAdd),
    memberRemove: run(m.memberRemove),
    memberUpdate: run(m.memberUpdate),
    memberList: run(m.memberList),
    memberPromote: run(m.memberPromote),
  };
}

/**
 * Starts the member MemberAdd added as `id` (etcd's --initial-cluster-state=existing): a new host
 * on the cluster's network under the endpoint the members already send `id`'s messages to.
 */
export function startJoiner(world: World, cluster: KvCluster, id: NodeId): Member {
  const name = memberName(id);
  const host = new SimHost(world, name);
  const peers = cluster.slots.map((s) => s.id);
  const member = new Member({
    id,
    peers,
    joining: true,
    env: { clock: host, timers: host, random: world.stream(`joiner-${id}`) },
    send: (to, message) => cluster.network.send(name, memberName(to), { type: "peer", message }),
    config: {
      heartbeatMs: cluster.options.heartbeatMs,
      electionMs: cluster.options.electionMs,
    },
  });
  cluster.network.attach(name, (from, m) =>
    host.run(() => {
      const fromId = /^m(\d+)$/.exec(from)?.[1];
      if (m.type === "peer" && fromId !== undefined) member.receive(Number(fromId), m.message);
    }),
  );
  return member;
}
