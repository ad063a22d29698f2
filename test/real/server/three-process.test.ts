// A cluster of three detcd processes on loopback, used by the etcd3 npm client as it would use etcd:
// KV, txn, watch, leases, locks and elections; then the leader process is killed and the cluster
// keeps serving; a fourth member joins through MemberAdd; /metrics carries etcd's names.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { join } from "node:path";
import { Etcd3 } from "etcd3";
import { utf8 } from "../../../src/lib/bytes.js";
import {
  clientFor,
  eventually,
  memberFlags,
  memberPorts,
  tempDir,
  type MemberPorts,
} from "./helpers.js";
import { startDetcd, stopDetcd, type DetcdProcess } from "./processes.js";

let ports: MemberPorts[] = [];
let procs: DetcdProcess[] = [];
let dir = "";

beforeAll(async () => {
  dir = tempDir("three");
  ports = await memberPorts(["infra0", "infra1", "infra2"]);
  procs = ports.map((m) => startDetcd(m.name, memberFlags(m, ports, join(dir, m.name))));
  const c = clientFor(ports.map((p) => p.client));
  await eventually(
    async () => {
      const statuses = await Promise.all(ports.map((p) => clientFor([p.client]).status()));
      const leaders = new Set(statuses.map((s) => s.leader));
      return leaders.size === 1 && !leaders.has(0n) ? true : undefined;
    },
    30_000,
    "one leader that every member follows",
  );
  c.close();
}, 60_000);

afterAll(async () => {
  await Promise.all(procs.map((p) => stopDetcd(p)));
});

function hosts(members: readonly MemberPorts[]): string[] {
  return members.map((m) => `127.0.0.1:${m.client}`);
}

describe("three detcd processes", () => {
  it("serve the etcd3 client: put, get, range, txn, delete, watch, lease, lock, election", async () => {
    const etcd = new Etcd3({ hosts: hosts(ports) });
    try {
      await etcd.put("/app/a").value("1");
      await etcd.put("/app/b").value("2");
      expect(await etcd.get("/app/a").string()).toBe("1");
      expect(await etcd.getAll().prefix("/app/").strings()).toEqual({
        "/app/a": "1",
        "/app/b": "2",
      });
      expect(await etcd.getAll().prefix("/app/").count()).toBe(2);

      const swapped = await etcd
        .if("/app/a", "Value", "==", "1")
        .then(etcd.put("/app/a").value("one"))
        .else(etcd.get("/app/a"))
        .commit();
      expect(swapped.succeeded).toBe(true);
      const refused = await etcd
        .if("/app/a", "Value", "==", "1")
        .then(etcd.put("/app/a").value("x"))
        .commit();
      expect(refused.succeeded).toBe(false);
      expect(await etcd.get("/app/a").string()).toBe("one");

      const watcher = await etcd.watch().prefix("/w/").create();
      const seen: string[] = [];
      watcher.on("put", (kv) => seen.push(`put ${kv.key.toString()}=${kv.value.toString()}`));
      watcher.on("delete", (kv) => seen.push(`delete ${kv.key.toString()}`));
      await etcd.put("/w/x").value("1");
      await etcd.delete().key("/w/x");
      await eventually(async () => (seen.length === 2 ? true : undefined), 5_000, "watch events");
      expect(seen).toEqual(["put /w/x=1", "delete /w/x"]);
      await watcher.cancel();

      const lease = etcd.lease(10);
      await lease.put("/lease/k").value("v");
      expect(await etcd.get("/lease/k").string()).toBe("v");
      const ttl = await etcd.lease(10).grant();
      expect(ttl).toMatch(/^[0-9a-f]+$/);
      await lease.keepaliveOnce();
      await lease.revoke();
      expect(await etcd.get("/lease/k").string()).toBeNull();

      // etcd3's lock is a create-if-absent txn on a leased key: a second taker is refused while
      // the first holds it, and gets it once released.
      const held = await etcd.lock("/locks/job").ttl(5).acquire();
      await expect(etcd.lock("/locks/job").ttl(5).acquire()).rejects.toThrow(/Failed to acquire/);
      await held.release();
      const second = await etcd.lock("/locks/job").ttl(5).acquire();
      await second.release();

      const election = etcd.election("/elect/leader", 5);
      const campaign = election.campaign("candidate-1");
      await new Promise<void>((resolve, reject) => {
        campaign.on("elected", () => resolve());
        campaign.on("error", reject);
      });
      expect(await election.leader()).toBe("candidate-1");
      await campaign.resign();

      await etcd.delete().prefix("/app/");
      expect(await etcd.getAll().prefix("/app/").count()).toBe(0);
    } finally {
      etcd.close();
    }
  }, 60_000);

  it("exposes /health, /version and /metrics with etcd's names on the client port", async () => {
    const base = `http://127.0.0.1:${ports[0]!.client}`;
    // A Put served by this member, so its gRPC counters have a Put.
    const c = clientFor([ports[0]!.client]);
    await c.put({ key: utf8("/metrics-probe"), value: utf8("1") });
    c.close();
    const health = await fetch(`${base}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ health: "true", reason: "" });
    const version = (await (await fetch(`${base}/version`)).json()) as Record<string, string>;
    expect(Object.keys(version).sort()).toEqual(["etcdcluster", "etcdserver"]);
    const text = await (await fetch(`${base}/metrics`)).text();
    for (const name of [
      "etcd_server_has_leader 1",
      "etcd_server_is_leader",
      "etcd_server_leader_changes_seen_total",
      "etcd_server_proposals_committed_total",
      "etcd_server_proposals_applied_total",
      "etcd_mvcc_db_total_size_in_bytes",
      "etcd_network_peer_sent_bytes_total{To=",
      'grpc_server_handled_total{grpc_type="unary",grpc_service="etcdserverpb.KV",grpc_method="Put",grpc_code="OK"}',
      "process_resident_memory_bytes",
    ]) {
      expect(text, name).toContain(name);
    }
    // Every write was fsynced, and timed.
    const fsyncs = /^etcd_disk_wal_fsync_duration_seconds_count (\d+)$/m.exec(text);
    expect(Number(fsyncs?.[1])).toBeGreaterThan(0);
  });

  it("keeps serving after the leader's process is killed, and takes a new member through MemberAdd", async () => {
    const c = clientFor(ports.map((p) => p.client));
    const leaderId = (await c.status()).leader;
    const members = (await c.memberList({})).members;
    const leaderName = members.find((m) => m.ID === leaderId)!.name;
    const leaderProc = procs.find((p) => p.name === leaderName)!;
    leaderProc.child.kill("SIGKILL");
    await leaderProc.exited;
    const survivors = ports.filter((p) => p.name !== leaderName);
    const etcd = new Etcd3({ hosts: hosts(survivors) });
    try {
      await eventually(
        async () => {
          await etcd.put("/after-kill").value("ok");
          return true;
        },
        20_000,
        "a write after the leader died",
      );
      expect(await etcd.get("/after-kill").string()).toBe("ok");
    } finally {
      etcd.close();
    }
    const sc = clientFor(survivors.map((p) => p.client));
    const newLeader = await eventually(async () => {
      const s = await sc.status();
      return s.leader !== 0n && s.leader !== leaderId ? s.leader : undefined;
    });
    expect(newLeader).not.toBe(leaderId);

    // The killed member comes back from its data dir and catches up.
    const back = ports.find((p) => p.name === leaderName)!;
    procs.push(startDetcd(back.name, memberFlags(back, ports, join(dir, back.name))));
    const bc = clientFor([back.client]);
    await eventually(
      async () => {
        const r = await bc.range({ key: utf8("/after-kill"), serializable: true });
        return r.kvs.length === 1 ? true : undefined;
      },
      20_000,
      "the restarted member catching up",
    );
    bc.close();

    // A fourth member: added first, then started with --initial-cluster-state=existing.
    const [fourth] = await memberPorts(["infra3"]);
    const added = await sc.memberAdd({ peerURLs: [`http://127.0.0.1:${fourth!.peer}`] });
    const all = [...ports, fourth!];
    procs.push(
      startDetcd(
        fourth!.name,
        memberFlags(fourth!, all, join(dir, fourth!.name), ["--initial-cluster-state=existing"]),
      ),
    );
    const listed = await eventually(
      async () => {
        const l = await sc.memberList({ linearizable: true });
        const me = l.members.find((m) => m.ID === added.member.ID);
        return me?.name === "infra3" && me.clientURLs.length === 1 ? l : undefined;
      },
      30_000,
      "the new member publishing its name",
    );
    expect(listed.members.map((m) => m.name).sort()).toEqual([
      "infra0",
      "infra1",
      "infra2",
      "infra3",
    ]);
    const fc = clientFor([fourth!.client]);
    const got = await eventually(
      async () => {
        const r = await fc.range({ key: utf8("/after-kill") });
        return r.kvs.length === 1 ? r : undefined;
      },
      20_000,
      "a linearizable read on the new member",
    );
    expect(got.kvs[0]!.value).toEqual(utf8("ok"));
    fc.close();
    sc.close();
    c.close();
  }, 120_000);
});
