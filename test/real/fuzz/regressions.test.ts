// What the fuzz found, pinned down: requests that used to crash a member (a txn nested deeper than
// a replicated entry carries, enum numbers a compare or alarm cannot be replicated with, an empty
// txn op) or to change its state across a restart (alarms of member ids beyond 32 bits).
import { status as Status } from "@grpc/grpc-js";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RequestOp, TxnRequest } from "../../../src/api/rpc.js";
import { MAX_TXN_DEPTH } from "../../../src/api/validate.js";
import { fromUtf8, utf8 } from "../../../src/lib/bytes.js";
import type { EtcdClient } from "../../../src/real/grpc/client.js";
import type { DetcdServer } from "../../../src/real/server/detcd-server.js";
import { clientFor, eventually, memberFlags, memberPorts, tempDir } from "../server/helpers.js";
import { CrashWatch } from "./harness.js";

/** A put of `key` under `nested` txns, each the only op of its parent's success. */
function nestedPut(nested: number, key: string): TxnRequest {
  let txn: TxnRequest = { success: [{ request: "request_put", request_put: { key: utf8(key) } }] };
  for (let i = 0; i < nested; i++)
    txn = { success: [{ request: "request_txn", request_txn: txn }] };
  return txn;
}

async function failure(p: Promise<unknown>): Promise<{ code: number; details: string }> {
  const e = await p.then(
    () => undefined,
    (x: { code: number; details: string }) => x,
  );
  if (e === undefined) throw new Error("expected the request to fail");
  return { code: e.code, details: e.details };
}

describe("requests the fuzz found crashing or corrupting a member", () => {
  const watch = new CrashWatch();
  let server: DetcdServer | undefined;
  let client: EtcdClient;
  let flags: string[];
  let port: number;

  const start = async () => {
    server = await watch.start(flags);
    client = clientFor([port]);
    await eventually(async () => ((await client.status()).leader !== 0n ? true : undefined));
  };

  beforeAll(async () => {
    watch.install();
    const [m] = await memberPorts(["regress"]);
    port = m!.client;
    // Snapshots every 10 entries, so the restart below recovers from one.
    flags = memberFlags(m!, [m!], join(tempDir("regress"), "data"), [
      "--snapshot-count=10",
      "--max-request-bytes=8192",
    ]);
    await start();
  });

  afterAll(async () => {
    client?.close();
    await server?.stop();
    watch.uninstall();
  });

  it("refuses a txn nested deeper than a replicated entry carries, as too many operations", async () => {
    // etcd's op limit (128) alone would let 127 levels through; entries carry MAX_TXN_DEPTH.
    const deep = await failure(client.txn(nestedPut(MAX_TXN_DEPTH + 1, "deep")));
    expect(deep).toEqual({
      code: Status.INVALID_ARGUMENT,
      details: "etcdserver: too many operations in txn request",
    });
    const ok = await client.txn(nestedPut(MAX_TXN_DEPTH, "deepest"));
    expect(ok.succeeded).toBe(true);
    const got = await client.range({ key: utf8("deepest") });
    expect(got.kvs).toHaveLength(1);
    expect((await client.range({ key: utf8("deep") })).kvs).toHaveLength(0);
    watch.expectNothing();
  });

  it("refuses compare and alarm enum numbers etcd does not define while decoding", async () => {
    const compare = await failure(
      client.txn({
        compare: [{ result: "EQUAL", target: "5" as "VERSION", key: utf8("a"), version: 1 }],
        success: [{ request: "request_put", request_put: { key: utf8("a") } }],
      }),
    );
    expect(compare).toEqual({
      code: Status.INVALID_ARGUMENT,
      details: "bad request: etcdserverpb.Compare.target: unknown enum value 5",
    });
    const result = await failure(
      client.txn({ compare: [{ result: "9" as "EQUAL", target: "VERSION", key: utf8("a") }] }),
    );
    expect(result.details).toBe("bad request: etcdserverpb.Compare.result: unknown enum value 9");
    const alarm = await failure(
      client.alarm({ action: "ACTIVATE", memberID: 1n, alarm: "6" as "NOSPACE" }),
    );
    expect(alarm).toEqual({
      code: Status.INVALID_ARGUMENT,
      details: "bad request: etcdserverpb.AlarmRequest.alarm: unknown enum value 6",
    });
    const action = await failure(client.alarm({ action: "3" as "GET" }));
    expect(action.details).toBe(
      "bad request: etcdserverpb.AlarmRequest.action: unknown enum value 3",
    );
    // Sort options stay open: etcd's own error refuses them.
    const sort = await failure(client.range({ key: utf8("a"), sort_order: "7" as "NONE" }));
    expect(sort.details).toBe("etcdserver: invalid sort option");
    watch.expectNothing();
  });

  it("answers an empty txn op with etcd's key not found", async () => {
    const empty = await failure(client.txn({ success: [{} as RequestOp] }));
    expect(empty).toEqual({ code: Status.INVALID_ARGUMENT, details: "etcdserver: key not found" });
    const nested = await failure(
      client.txn({
        failure: [{ request: "request_txn", request_txn: { success: [{} as RequestOp] } }],
      }),
    );
    expect(nested.details).toBe("etcdserver: key not found");
    watch.expectNothing();
  });

  it("answers a put too large with request too large, not no space, while NOSPACE is raised", async () => {
    await client.alarm({ action: "ACTIVATE", memberID: 1n, alarm: "NOSPACE" });
    const large = await failure(client.put({ key: utf8("big"), value: new Uint8Array(9000) }));
    expect(large).toEqual({
      code: Status.INVALID_ARGUMENT,
      details: "etcdserver: request is too large",
    });
    const small = await failure(client.put({ key: utf8("small"), value: utf8("v") }));
    expect(small).toEqual({
      code: Status.RESOURCE_EXHAUSTED,
      details: "etcdserver: mvcc: database space exceeded",
    });
    // Deletes do not grow the store: NOSPACE lets them through.
    expect((await client.deleteRange({ key: utf8("small") })).deleted).toBe(0);
    await client.alarm({ action: "DEACTIVATE", memberID: 1n, alarm: "NOSPACE" });
    await client.put({ key: utf8("small"), value: utf8("v") });
    watch.expectNothing();
  });

  it("keeps alarms as they were across a restart from a snapshot; member ids beyond 32 bits change nothing", async () => {
    const far = await client.alarm({
      action: "ACTIVATE",
      memberID: 2n ** 40n + 5n,
      alarm: "CORRUPT",
    });
    expect(far.alarms).toEqual([]);
    const beyond53 = await client.alarm({
      action: "ACTIVATE",
      memberID: 2n ** 60n + 3n,
      alarm: "CORRUPT",
    });
    expect(beyond53.alarms).toEqual([]);
    const near = await client.alarm({
      action: "ACTIVATE",
      memberID: 0xffff_fffen,
      alarm: "CORRUPT",
    });
    expect(near.alarms).toEqual([{ memberID: 0xffff_fffen, alarm: "CORRUPT" }]);
    for (let i = 0; i < 25; i++) await client.put({ key: utf8(`k${i}`), value: utf8(`v${i}`) });
    const before = await client.alarm({ action: "GET" });
    expect(before.alarms).toEqual([{ memberID: 0xffff_fffen, alarm: "CORRUPT" }]);

    client.close();
    await server!.stop();
    await start();
    expect((await client.alarm({ action: "GET" })).alarms).toEqual(before.alarms);
    // The nested txns above came back from the log and the snapshot too.
    expect(fromUtf8((await client.range({ key: utf8("k24") })).kvs[0]!.value)).toBe("v24");
    expect((await client.range({ key: utf8("deepest") })).kvs).toHaveLength(1);
    watch.expectNothing();
  });
});
