import { describe, expect, it } from "vitest";
import { AlarmStore } from "../../src/server/alarms.js";
import { decodeMemberSnapshot, encodeMemberSnapshot } from "../../src/server/member-snapshot.js";
import { AuthStore } from "../../src/auth/index.js";
import { Membership } from "../../src/server/membership.js";
import { KvStore, RECORD_OVERHEAD_BYTES } from "../../src/mvcc/kv-store.js";
import type { AlarmChangeRequest, AlarmChangeResponse, Member } from "../../src/server/member.js";
import type { World } from "../../sim/world.js";
import { awaitLeader, b, call, client, errorOf, makeCluster, value } from "./helpers.js";

function alarmOn(world: World, m: Member, req: AlarmChangeRequest) {
  return call<AlarmChangeResponse>(world, (d) => m.alarm(req, d));
}

const GET_ALL: AlarmChangeRequest = { action: "GET", memberID: 0n, alarm: "NONE" };

describe("mvcc: size in use", () => {
  it("grows with each record and shrinks when compaction drops old revisions", () => {
    const kv = new KvStore();
    expect(kv.sizeInUseBytes).toBe(0);
    kv.put({ key: b("a"), value: b("1234") });
    expect(kv.sizeInUseBytes).toBe(1 + 4 + RECORD_OVERHEAD_BYTES);
    kv.put({ key: b("a"), value: b("12345678") });
    expect(kv.sizeInUseBytes).toBe(2 + 12 + 2 * RECORD_OVERHEAD_BYTES);
    value(kv.compact({ revision: 3 }));
    expect(kv.sizeInUseBytes).toBe(1 + 8 + RECORD_OVERHEAD_BYTES);
    const restored = KvStore.fromState(kv.exportState());
    expect(restored.sizeInUseBytes).toBe(kv.sizeInUseBytes);
  });
});

describe("member: alarms and the backend quota", () => {
  it("refuses writes past the quota with NOSPACE everywhere until disarmed after compact and defrag", () => {
    const { world, cluster } = makeCluster(3, 21, { memberConfig: { quotaBackendBytes: 4096 } });
    const leader = awaitLeader(world, cluster).member!;
    const c = client(world, leader);
    let written = 0;
    let refused: string | undefined;
    for (let i = 0; i < 40 && refused === undefined; i++) {
      const r = c.put({ key: b("big"), value: new Uint8Array(300).fill(i) });
      if (r.ok) written++;
      else refused = r.error.name;
    }
    expect(refused).toBe("NoSpace");
    expect(written).toBeGreaterThan(5);
    world.runUntil({ untilMs: world.nowMs + 500 });
    // The alarm is replicated: every member lists it and refuses writes, reads still work.
    for (const slot of cluster.slots) {
      const m = slot.member!;
      const listed = value(alarmOn(world, m, GET_ALL)).alarms;
      expect(listed).toEqual([{ memberID: BigInt(leader.id), alarm: "NOSPACE" }]);
      expect(m.status().alarms).toEqual(m === leader ? ["NOSPACE"] : []);
      expect(errorOf(client(world, m).put({ key: b("x"), value: b("y") })).message).toBe(
        "etcdserver: mvcc: database space exceeded",
      );
      expect(errorOf(client(world, m).leaseGrant({ TTL: 10 })).name).toBe("NoSpace");
    }
    expect(value(c.range({ key: b("big") })).kvs).toHaveLength(1);
    // Deletes are allowed; disarming alone does not help while the db is still that large.
    const rev = value(c.range({ key: b("big") })).header.revision;
    value(c.compact({ revision: rev }));
    for (const slot of cluster.slots) {
      value(call(world, (d) => slot.member!.defragment(d)));
      expect(slot.member!.dbSizeBytes).toBe(slot.member!.dbSizeInUseBytes);
    }
    const disarmed = value(
      alarmOn(world, leader, {
        action: "DEACTIVATE",
        memberID: BigInt(leader.id),
        alarm: "NOSPACE",
      }),
    );
    expect(disarmed.alarms).toEqual([{ memberID: BigInt(leader.id), alarm: "NOSPACE" }]);
    expect(value(alarmOn(world, leader, GET_ALL)).alarms).toEqual([]);
    expect(value(c.put({ key: b("small"), value: b("v") })).header.revision).toBeGreaterThan(rev);
    // Deactivating again changes nothing and says so.
    const again = alarmOn(world, leader, {
      action: "DEACTIVATE",
      memberID: BigInt(leader.id),
      alarm: "NOSPACE",
    });
    expect(value(again).alarms).toEqual([]);
  });

  it("activates an alarm by request, filters GET by type, and refuses a txn that may put", () => {
    const { world, cluster } = makeCluster(3, 22);
    const leader = awaitLeader(world, cluster).member!;
    const c = client(world, leader);
    const raised = value(
      alarmOn(world, leader, { action: "ACTIVATE", memberID: 2n, alarm: "NOSPACE" }),
    );
    expect(raised.alarms).toEqual([{ memberID: 2n, alarm: "NOSPACE" }]);
    expect(value(alarmOn(world, leader, { ...GET_ALL, alarm: "CORRUPT" })).alarms).toEqual([]);
    const txn = c.txn({
      compare: [],
      success: [{ request: "request_put", request_put: { key: b("k"), value: b("v") } }],
      failure: [],
    });
    expect(errorOf(txn).name).toBe("NoSpace");
    // A read-only txn and a delete are served.
    value(
      c.txn({
        compare: [],
        success: [{ request: "request_range", request_range: { key: b("k") } }],
        failure: [],
      }),
    );
    value(c.deleteRange({ key: b("k") }));
  });

  it("carries alarms in member snapshots", () => {
    const alarms = new AlarmStore();
    alarms.activate({ memberID: 3, alarm: "NOSPACE" });
    alarms.activate({ memberID: 1, alarm: "CORRUPT" });
    const bytes = encodeMemberSnapshot({
      consistentIndex: 7,
      kv: new KvStore(),
      lessor: { leases: [] },
      membership: Membership.initial([1, 2, 3]),
      appliedIds: [4, 5],
      alarms,
      auth: new AuthStore(),
    });
    const decoded = decodeMemberSnapshot(bytes, {});
    expect(decoded.ok).toBe(true);
    if (!decoded.ok) return;
    expect(decoded.value.alarms.list()).toEqual([
      { memberID: 3, alarm: "NOSPACE" },
      { memberID: 1, alarm: "CORRUPT" },
    ]);
    expect(decoded.value.appliedIds).toEqual([4, 5]);
    expect(decodeMemberSnapshot(bytes.subarray(0, bytes.length - 2), {}).ok).toBe(false);
  });
});
