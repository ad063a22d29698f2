// The leader's own copy of an entry counts toward the commit quorum only once the application has
// persisted it. If it counted at append time, a leader that sends before its write completes
// (allowed) and then crashes could lose an entry it had already declared committed.
import { describe, expect, it } from "vitest";
import { InteractionEnv, bytes } from "./interaction-env.js";

function electedCluster(): InteractionEnv {
  const env = new InteractionEnv();
  env.addNodes(3, { electionTick: 10, heartbeatTick: 1 });
  env.get(1).node.campaign();
  env.stabilize(env.ids());
  expect(env.get(1).node.status().softState.raftState).toBe("StateLeader");
  return env;
}

describe("leader self-acknowledgement", () => {
  it("a follower's ack alone does not commit the leader's unpersisted entry", () => {
    const env = electedCluster();
    const leader = env.get(1);
    const commitBefore = leader.node.status().hardState.commit;
    expect(leader.node.propose(bytes("v1"))).toBe("ok");
    env.sendReadyEarly(1);
    env.deliver({ to: 2 }, false);
    env.processReady(2);
    env.deliver({ to: 1 }, false);
    const st = leader.node.status();
    expect(st.progress.get(2)?.match).toBe(st.lastIndex);
    expect(st.progress.get(1)?.match).toBe(commitBefore);
    expect(st.hardState.commit).toBe(commitBefore);
    expect(leader.node.hasReady()).toBe(false); // nothing to apply

    // The leader crashes before its write: the entry was never committed, so losing it is safe.
    env.restart(1);
    expect(env.get(1).storage.lastIndex()).toBe(commitBefore);
    expect(env.get(1).node.status().hardState.commit).toBe(commitBefore);
  });

  it("the leader's write, acknowledged by advance, completes the quorum", () => {
    const env = electedCluster();
    const leader = env.get(1);
    leader.node.propose(bytes("v1"));
    env.sendReadyEarly(1);
    env.deliver({ to: 2 }, false);
    env.processReady(2);
    env.deliver({ to: 1 }, false);
    const last = leader.node.status().lastIndex;
    expect(leader.node.status().hardState.commit).toBeLessThan(last);
    env.persistHeldReady(1);
    expect(leader.node.status().hardState.commit).toBe(last);
    env.stabilize(env.ids());
    for (const id of env.ids()) expect(env.get(id).values).toEqual(["v1"]);
  });

  it("a node elected before it advanced a Ready counts that Ready's entries only from advance", () => {
    const env = electedCluster();
    env.get(1).node.propose(bytes("v1"));
    env.processReady(1);
    env.deliver({ from: 1, to: 2 }, false); // node 2 appends v1 at index 2, in memory
    env.take({ to: 3 }); // node 3 never sees v1
    const n2 = env.get(2);
    n2.node.campaign();
    const rd = n2.node.ready();
    expect(rd.entries.map((e) => e.index)).toEqual([2]);
    n2.storage.append(rd.entries);
    if (rd.hardState !== undefined) n2.storage.setHardState(rd.hardState);
    env.messages.push(...rd.messages);
    // Node 3's vote arrives before the application calls advance(rd).
    env.deliver({ to: 3 }, false);
    env.processReady(3);
    env.deliver({ from: 3, to: 2 }, false);
    expect(n2.node.status().softState.raftState).toBe("StateLeader");
    expect(n2.node.status().progress.get(2)?.match).toBe(1);
    n2.node.advance(rd);
    expect(n2.node.status().progress.get(2)?.match).toBe(2);
    env.stabilize(env.ids());
    const st = n2.node.status();
    expect(st.hardState.commit).toBe(st.lastIndex);
    for (const id of env.ids()) expect(env.get(id).values).toEqual(["v1"]);
  });
});
