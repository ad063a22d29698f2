// Randomized, seeded runs of a small cluster under message loss, duplication and reordering,
// partitions, crashes (losing whatever was not persisted), log compaction and leaders that send
// before they write. Checked: at most one leader per term, every member applies the same entry at
// every index (state machine safety), the persist-before-send rule on every Ready (in the
// harness), and that the cluster converges once the faults stop.
import { describe, expect, it } from "vitest";
import { assert } from "../../src/lib/assert.js";
import { Prng } from "../../src/lib/prng.js";
import { describeEntry, type Entry, type NodeId } from "../../src/raft/index.js";
import { InteractionEnv, bytes } from "./interaction-env.js";

interface RunOptions {
  readonly seed: number;
  readonly steps: number;
}

function leaderOf(env: InteractionEnv): NodeId[] {
  return env.ids().filter((id) => env.get(id).node.status().softState.raftState === "StateLeader");
}

/** A leader that every member follows in its own term. */
function stableLeader(env: InteractionEnv): NodeId | undefined {
  const leaders = leaderOf(env);
  if (leaders.length !== 1) return undefined;
  const leader = leaders[0] as NodeId;
  const term = env.get(leader).node.status().hardState.term;
  const all = env.ids().every((id) => {
    const st = env.get(id).node.status();
    return st.softState.lead === leader && st.hardState.term === term;
  });
  return all ? leader : undefined;
}

function run({ seed, steps }: RunOptions): { proposals: number; applied: number } {
  const prng = Prng.fromSeed(seed).stream("raft-random-cluster");
  const env = new InteractionEnv();
  const size = prng.pick([3, 5]);
  env.addNodes(size, {
    electionTick: 10,
    heartbeatTick: 1,
    preVote: prng.chance(0.5),
    checkQuorum: prng.chance(0.5),
    maxInflightMsgs: prng.pick([1, 4, 256]),
    maxSizePerMsg: prng.pick([0, 100, 1024 * 1024]),
  });
  const ids = env.ids();
  env.reportSnapshots = true;
  // Randomized election timeouts from each member's own stream (set before the first reset
  // matters only for the initial timeout, which every node draws as electionTick).
  for (const id of ids) env.get(id).random.delegate = prng.stream(`member-${id}`);
  const applied = new Map<number, string>();
  env.onApply = (id, e: Entry) => {
    const seen = applied.get(e.index);
    const now = describeEntry(e);
    assert(seen === undefined || seen === now, () => `node ${id} applied ${now}, others ${seen}`);
    applied.set(e.index, now);
  };
  const leaderOfTerm = new Map<number, NodeId>();
  const checkLeaders = (): void => {
    for (const id of leaderOf(env)) {
      const term = env.get(id).node.status().hardState.term;
      const other = leaderOfTerm.get(term);
      assert(other === undefined || other === id, () => `two leaders in term ${term}`);
      leaderOfTerm.set(term, id);
    }
  };
  let proposals = 0;
  for (let step = 0; step < steps; step++) {
    const id = prng.pick(ids);
    const n = env.get(id);
    const r = prng.float();
    if (r < 0.3) {
      n.node.tick();
    } else if (r < 0.6 && env.messages.length > 0) {
      const [m] = env.messages.splice(prng.int(0, env.messages.length - 1), 1);
      if (m === undefined) continue;
      if (prng.chance(0.05)) env.messages.push(m); // duplicated
      const delivered = !prng.chance(0.1) && env.reachable(m.from, m.to);
      if (delivered) env.get(m.to).node.step(m);
      // The transport reports the fate of every snapshot, as the RawNode contract requires.
      if (m.type === "MsgSnap") env.get(m.from).node.reportSnapshot(m.to, delivered);
    } else if (r < 0.8) {
      const isLeader = n.node.status().softState.raftState === "StateLeader";
      if (isLeader && !env.heldReadies.has(id) && prng.chance(0.3)) env.sendReadyEarly(id);
      else env.processReady(id);
    } else if (r < 0.88) {
      n.node.propose(bytes(`p${proposals++}`));
    } else if (r < 0.9) {
      n.node.readIndex(bytes(`r${step}`));
    } else if (r < 0.905) {
      env.restart(id);
    } else if (r < 0.91) {
      if (env.partition.length > 0) env.partition = [];
      else {
        const shuffled = prng.shuffle(ids);
        const cut = prng.int(1, ids.length - 1);
        env.partition = [shuffled.slice(0, cut), shuffled.slice(cut)];
      }
    } else if (r < 0.915) {
      const snapshotIndex = n.storage.snapshot().metadata.index;
      if (n.appliedIndex > snapshotIndex && !env.heldReadies.has(id))
        env.compact(id, n.appliedIndex);
    } else if (env.heldReadies.has(id)) {
      // A leader that sent before writing crashes before the write completes now and then.
      if (prng.chance(0.2)) env.restart(id);
      else env.persistHeldReady(id);
    }
    checkLeaders();
  }
  // The faults stop: the cluster must elect a leader and converge.
  env.partition = [];
  for (let round = 0; round < 200 && stableLeader(env) === undefined; round++) {
    for (const id of ids) env.get(id).node.tick();
    env.stabilize(ids);
    checkLeaders();
  }
  const leader = stableLeader(env);
  assert(
    leader !== undefined,
    () =>
      `seed ${seed}: no leader after the faults stopped\n${ids.flatMap((id) => env.status(id)).join("\n")}\nheld:${[...env.heldReadies.keys()]}`,
  );
  expect(env.get(leader).node.propose(bytes("final"))).toBe("ok");
  for (let round = 0; round < 5; round++) {
    for (const id of ids) env.get(id).node.tick();
    env.stabilize(ids);
  }
  if (process.env["DEBUG_SEED"] === String(seed)) {
    console.log(ids.flatMap((id) => env.status(id)).join("\n"));
    for (const id of ids) env.get(id).node.tick();
    console.log(env.stabilize(ids).join("\n"));
  }
  const reference = env.get(leader).values;
  // Forwarded proposals still in flight may commit after "final"; it must be there all the same.
  expect(reference).toContain("final");
  for (const id of ids) expect(env.get(id).values, `seed ${seed} node ${id}`).toEqual(reference);
  return { proposals, applied: applied.size };
}

describe("randomized clusters", () => {
  for (let seed = 1; seed <= 24; seed++) {
    it(`seed ${seed}`, () => {
      const { applied } = run({ seed, steps: 3000 });
      expect(applied).toBeGreaterThan(1);
    });
  }
});
