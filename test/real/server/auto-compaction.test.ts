import { describe, expect, it } from "vitest";
import { compactionPlanner } from "../../../src/real/server/auto-compaction.js";
import { memberIdHex, newClusterIdentity } from "../../../src/real/server/cluster-identity.js";

describe("auto-compaction planner", () => {
  it("periodic under an hour: compacts every retention to the newest sample that old", () => {
    const p = compactionPlanner({ mode: "periodic", retentionMs: 10_000 })!;
    expect(p.tickMs).toBe(1_000);
    const planned: [number, number][] = [];
    // The revision grows by 5 per second.
    for (let t = 0; t <= 30_000; t += 1_000) {
      const target = p.tick(t, 1 + t / 200);
      if (target !== undefined) {
        planned.push([t, target]);
        p.compacted(target);
      }
    }
    expect(planned).toEqual([
      [10_000, 1],
      [20_000, 51],
      [30_000, 101],
    ]);
  });

  it("periodic of a day: runs hourly and keeps a day of history", () => {
    const p = compactionPlanner({ mode: "periodic", retentionMs: 24 * 3_600_000 })!;
    expect(p.tickMs).toBe(360_000);
    const hour = 3_600_000;
    let first: [number, number] | undefined;
    for (let t = 0; t <= 26 * hour && first === undefined; t += p.tickMs) {
      const target = p.tick(t, 100 + t / 1000);
      if (target !== undefined) first = [t, target];
    }
    expect(first).toEqual([24 * hour, 100]);
  });

  it("revision mode keeps the newest N revisions and skips what is already compacted", () => {
    const p = compactionPlanner({ mode: "revision", retentionRevisions: 1000 })!;
    expect(p.tickMs).toBe(300_000);
    expect(p.tick(0, 900)).toBeUndefined();
    expect(p.tick(1, 1500)).toBe(500);
    p.compacted(500);
    expect(p.tick(2, 1500)).toBeUndefined();
    expect(p.tick(3, 2600)).toBe(1600);
  });

  it("retention 0 disables it", () => {
    expect(compactionPlanner({ mode: "periodic", retentionMs: 0 })).toBeUndefined();
    expect(compactionPlanner({ mode: "revision", retentionRevisions: 0 })).toBeUndefined();
  });
});

describe("cluster identity", () => {
  it("numbers members by name and derives the cluster id from the token and peer URLs", () => {
    const cluster = [
      { name: "infra2", peerURLs: ["http://127.0.0.1:22380"] },
      { name: "infra0", peerURLs: ["http://127.0.0.1:2380"] },
      { name: "infra1", peerURLs: ["http://127.0.0.1:12380"] },
    ];
    const a = newClusterIdentity(cluster, "tok");
    expect(a.members.map((m) => [m.id, m.name])).toEqual([
      [1, "infra0"],
      [2, "infra1"],
      [3, "infra2"],
    ]);
    expect(a.members[0]).toEqual({
      id: 1,
      name: "infra0",
      peerURLs: ["http://127.0.0.1:2380"],
      clientURLs: [],
      isLearner: false,
    });
    const again = newClusterIdentity([...cluster].reverse(), "tok");
    expect(again.clusterId).toBe(a.clusterId);
    expect(newClusterIdentity(cluster, "other").clusterId).not.toBe(a.clusterId);
    expect(a.clusterId > 0n && a.clusterId < 2n ** 63n).toBe(true);
    expect(memberIdHex(255)).toBe("ff");
  });
});
