// End to end: a real single-member cluster on wall-clock timers, served on one client port, driven
// by the etcd3 npm client (wire compatibility with another implementation of etcd's protos) and by
// detcd's own client (errors, streams, maintenance).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Etcd3 } from "etcd3";
import { status as Status } from "@grpc/grpc-js";
import { utf8 } from "../../../src/lib/bytes.js";
import { EtcdClient, EtcdClientError } from "../../../src/real/grpc/client.js";
import { verifySnapshotTrailer } from "../../../src/real/grpc/snapshot-trailer.js";
import { serveMember, testSnapshot, SERVER_VERSION, type ServedMember } from "./serve-member.js";

let served: ServedMember;
let etcd3: Etcd3;
let client: EtcdClient;

beforeAll(async () => {
  served = await serveMember();
  etcd3 = new Etcd3({ hosts: `127.0.0.1:${served.port}` });
  client = new EtcdClient({ endpoints: [`127.0.0.1:${served.port}`], callTimeoutMs: 5_000 });
});

afterAll(async () => {
  etcd3.close();
  client.close();
  await served.stop();
});

const text = (bytes: Uint8Array | undefined): string => new TextDecoder().decode(bytes);

function until(check: () => boolean, limitMs = 5_000): Promise<void> {
  const start = Date.now();
  return new Promise((resolve, reject) => {
    const poll = (): void => {
      if (check()) return resolve();
      if (Date.now() - start > limitMs) return reject(new Error("condition not met in time"));
      setTimeout(poll, 10);
    };
    poll();
  });
}

async function clientError(p: Promise<unknown>): Promise<EtcdClientError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof EtcdClientError) return e;
    throw e;
  }
  throw new Error("the call succeeded");
}

describe("the etcd3 npm client", () => {
  it("puts, gets and ranges by prefix", async () => {
    await etcd3.put("e3/a").value("1");
    await etcd3.put("e3/b").value("2");
    await etcd3.put("other").value("x");
    expect(await etcd3.get("e3/a").string()).toBe("1");
    expect(await etcd3.get("missing").string()).toBeNull();
    expect(await etcd3.getAll().prefix("e3/").strings()).toEqual({ "e3/a": "1", "e3/b": "2" });
    expect(await etcd3.getAll().prefix("e3/").count()).toBe(2);
  });

  it("runs a txn on both branches and deletes", async () => {
    const ok = await etcd3
      .if("e3/a", "Value", "==", "1")
      .then(etcd3.put("e3/a").value("txn"))
      .else(etcd3.put("e3/a").value("else"))
      .commit();
    expect(ok.succeeded).toBe(true);
    const failed = await etcd3
      .if("e3/a", "Value", "==", "1")
      .then(etcd3.put("e3/a").value("again"))
      .else(etcd3.get("e3/b"))
      .commit();
    expect(failed.succeeded).toBe(false);
    expect(failed.responses[0]?.response_range?.kvs[0]?.value.toString()).toBe("2");
    expect(await etcd3.get("e3/a").string()).toBe("txn");
    const deleted = await etcd3.delete().prefix("e3/");
    expect(deleted.deleted).toBe("2");
    expect(await etcd3.getAll().prefix("e3/").keys()).toEqual([]);
  });

  it("watches a key and receives the events", async () => {
    const watcher = await etcd3.watch().key("w3").withPreviousKV().create();
    const seen: string[] = [];
    watcher.on("put", (kv, prev) =>
      seen.push(`put ${kv.value.toString()} prev ${prev?.value.toString() ?? "-"}`),
    );
    watcher.on("delete", (kv) => seen.push(`delete ${kv.key.toString()}`));
    await etcd3.put("w3").value("1");
    await etcd3.put("w3").value("2");
    await etcd3.delete().key("w3");
    await until(() => seen.length === 3);
    expect(seen).toEqual(["put 1 prev -", "put 2 prev 1", "delete w3"]);
    await watcher.cancel();
  });

  it("grants a lease, keeps it alive, and revoking it removes its keys", async () => {
    const lease = etcd3.lease(30, { autoKeepAlive: false });
    const id = await lease.grant();
    await lease.put("leased").value("v");
    expect(await etcd3.get("leased").string()).toBe("v");
    const renewed = await lease.keepaliveOnce();
    expect(renewed.TTL).toBe("30");
    expect(renewed.ID).toBe(id);
    await lease.revoke();
    expect(await etcd3.get("leased").string()).toBeNull();
  });
});

describe("detcd's client", () => {
  it("puts and reads with exact revisions and lease ids", async () => {
    const put = await client.put({ key: utf8("own/a"), value: utf8("1"), prev_kv: true });
    expect(put.header.member_id).toBe(1n);
    expect(put.prev_kv).toBeUndefined();
    const again = await client.put({ key: utf8("own/a"), value: utf8("2"), prev_kv: true });
    expect(again.header.revision).toBe(put.header.revision + 1);
    expect(text(again.prev_kv?.value)).toBe("1");
    const got = await client.range({ key: utf8("own/"), range_end: utf8("own0") });
    expect(got.count).toBe(1);
    expect(got.kvs[0]).toMatchObject({
      version: 2,
      mod_revision: again.header.revision,
      lease: 0n,
    });
  });

  it("answers a compacted revision with etcd's message and OUT_OF_RANGE", async () => {
    const first = await client.put({ key: utf8("compact-me"), value: utf8("1") });
    await client.put({ key: utf8("compact-me"), value: utf8("2") });
    await client.compact({ revision: first.header.revision + 1, physical: true });
    const e = await clientError(
      client.range({ key: utf8("compact-me"), revision: first.header.revision }),
    );
    expect(e.code).toBe(Status.OUT_OF_RANGE);
    expect(e.details).toBe("etcdserver: mvcc: required revision has been compacted");
    expect(e.etcd?.name).toBe("Compacted");
  });

  it("maps other engine errors: empty key, future revision, unknown lease", async () => {
    const empty = await clientError(client.put({ key: new Uint8Array(0), value: utf8("v") }));
    expect([empty.code, empty.details]).toEqual([
      Status.INVALID_ARGUMENT,
      "etcdserver: key is not provided",
    ]);
    const future = await clientError(client.range({ key: utf8("a"), revision: 1_000_000 }));
    expect([future.code, future.etcd?.name]).toEqual([Status.OUT_OF_RANGE, "FutureRev"]);
    const lease = await clientError(client.leaseRevoke({ ID: 2n ** 62n + 1n }));
    expect([lease.code, lease.details]).toEqual([
      Status.NOT_FOUND,
      "etcdserver: requested lease not found",
    ]);
  });

  it("refuses an int64 revision beyond 2^53 with INVALID_ARGUMENT, on either side", async () => {
    const local = await clientError(client.range({ key: utf8("a"), revision: 2 ** 53 }));
    expect(local.code).toBe(Status.INVALID_ARGUMENT);
    // etcd3 sends int64 fields as decimal strings, so it can put 2^53 + 1 on the wire.
    const remote = await etcd3
      .get("a")
      .revision("9007199254740993")
      .string()
      .catch((e: Error) => e);
    expect(remote).toBeInstanceOf(Error);
    expect((remote as Error).message).toContain("int64 value beyond 2^53");
  });

  it("says UNIMPLEMENTED for the Auth service", async () => {
    const e = await clientError(client.call("etcdserverpb.Auth", "AuthStatus", {}));
    expect(e.code).toBe(Status.UNIMPLEMENTED);
  });

  it("streams watch events for a prefix", async () => {
    const watch = client.watch();
    watch.create({ key: utf8("ws/"), range_end: utf8("ws0"), prev_kv: true });
    const created = await watch.next();
    expect(created.created).toBe(true);
    const put = await client.put({ key: utf8("ws/x"), value: utf8("1") });
    const events = await watch.next();
    expect(events.watch_id).toBe(created.watch_id);
    expect(events.events).toHaveLength(1);
    expect(events.events[0]).toMatchObject({
      type: "PUT",
      kv: { mod_revision: put.header.revision },
    });
    expect(text(events.events[0]?.kv.key)).toBe("ws/x");
    await client.deleteRange({ key: utf8("ws/x") });
    const deleted = await watch.next();
    expect(deleted.events[0]?.type).toBe("DELETE");
    expect(text(deleted.events[0]?.prev_kv?.value)).toBe("1");
    watch.cancel(created.watch_id);
    expect((await watch.next()).canceled).toBe(true);
    watch.close();
    await expect(watch.next()).rejects.toThrow("stream ended");
  });

  it("keeps a lease alive on a stream, reports TTL 0 once revoked, and revoking drops its keys", async () => {
    const granted = await client.leaseGrant({ TTL: 20 });
    expect(granted.ID).toBeGreaterThan(0n);
    await client.put({ key: utf8("lk"), value: utf8("v"), lease: granted.ID });
    const stream = client.leaseKeepAlive();
    stream.keepAlive(granted.ID);
    expect(await stream.next()).toMatchObject({ ID: granted.ID, TTL: 20 });
    const ttl = await client.leaseTimeToLive({ ID: granted.ID, keys: true });
    expect(ttl.grantedTTL).toBe(20);
    expect(ttl.keys.map(text)).toEqual(["lk"]);
    expect((await client.leaseLeases()).leases.map((l) => l.ID)).toContain(granted.ID);
    await client.leaseRevoke({ ID: granted.ID });
    expect((await client.range({ key: utf8("lk") })).count).toBe(0);
    stream.keepAlive(granted.ID);
    expect(await stream.next()).toMatchObject({ ID: granted.ID, TTL: 0 });
    stream.close();
    expect((await client.leaseKeepAliveOnce(granted.ID)).TTL).toBe(0);
  });

  it("serves a txn with compares, nested ranges and a lease id above 2^53 in a compare", async () => {
    const resp = await client.txn({
      compare: [{ result: "EQUAL", target: "LEASE", key: utf8("nope"), lease: 2n ** 60n }],
      success: [],
      failure: [
        { request: "request_put", request_put: { key: utf8("t/1"), value: utf8("a") } },
        { request: "request_range", request_range: { key: utf8("t/1") } },
      ],
    });
    expect(resp.succeeded).toBe(false);
    expect(resp.responses.map((r) => r.response)).toEqual(["response_put", "response_range"]);
    const range = resp.responses[1];
    expect(range?.response === "response_range" && text(range.response_range.kvs[0]?.value)).toBe(
      "a",
    );
  });

  it("serves the cluster and maintenance RPCs", async () => {
    const members = await client.memberList({ linearizable: true });
    expect(members.members.map((m) => m.ID)).toEqual([1n]);
    const status = await client.status();
    expect(status).toMatchObject({
      version: SERVER_VERSION,
      leader: 1n,
      isLearner: false,
      errors: [],
    });
    expect(status.raftAppliedIndex).toBeGreaterThan(0);
    const hashKV = await client.hashKV({});
    expect(hashKV.hash).toBe((await client.hash()).hash);
    expect((await client.alarm({ action: "GET" })).alarms).toEqual([]);
    expect((await client.defragment()).header.member_id).toBe(1n);
  });

  it("downloads a snapshot in 32 KiB chunks ending with its sha256", async () => {
    const file = await client.snapshot();
    // 100,000 bytes padded to 100,352 (196 pages of 512), then the 32-byte trailer.
    expect(file.length).toBe(100_352 + 32);
    const data = verifySnapshotTrailer(file);
    expect(data.ok && data.value.subarray(0, 100_000)).toEqual(testSnapshot(100_000));
    expect(data.ok && data.value.subarray(100_000).every((b) => b === 0)).toBe(true);
  });

  it("honours a per-call deadline", async () => {
    const e = await clientError(client.range({ key: utf8("a") }, { timeoutMs: 0 }));
    expect(e.code).toBe(Status.DEADLINE_EXCEEDED);
  });

  it("fails over to the next endpoint when one refuses connections", async () => {
    const twoEndpoints = new EtcdClient({
      endpoints: ["127.0.0.1:1", `http://127.0.0.1:${served.port}`],
      callTimeoutMs: 5_000,
    });
    try {
      await twoEndpoints.put({ key: utf8("failover"), value: utf8("ok") });
      expect(twoEndpoints.endpoint).toBe(`127.0.0.1:${served.port}`);
      expect(text((await twoEndpoints.range({ key: utf8("failover") })).kvs[0]?.value)).toBe("ok");
    } finally {
      twoEndpoints.close();
    }
  });
});

describe("the client port", () => {
  it("sends HTTP/1.1 requests to the http handler", async () => {
    const health = await fetch(`http://127.0.0.1:${served.port}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ health: "true", reason: "" });
    const missing = await fetch(`http://127.0.0.1:${served.port}/nothing`);
    expect(missing.status).toBe(404);
  });
});
