// Structured fuzz of one durable member: random KV, Lease, Cluster and Maintenance requests
// through EtcdClient. Every answer is a success of the right shape or one of etcd's errors (code
// and message), never INTERNAL, UNKNOWN or a hang; the process sees no uncaught exception; the
// successful writes are all the store holds; and the member restarted from its data dir holds
// the same data (HashKV, a full range and its alarms at the same revision).
import fc from "fast-check";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DetcdServer } from "../../../src/real/server/detcd-server.js";
import type { EtcdClient } from "../../../src/real/grpc/client.js";
import { clientFor, eventually, memberFlags, memberPorts, tempDir } from "../server/helpers.js";
import { fuzzOpArb, type FuzzLimits } from "./arbitraries.js";
import { KvModel } from "./check.js";
import { CrashWatch, everything, Runner, sortedAlarms } from "./harness.js";

const MAX_REQUEST_BYTES = 16 * 1024;
const MAX_TXN_OPS = 128;
const LEASE_POOL = [7001n, 7002n, 7003n];

describe("fuzzed requests against one durable member", () => {
  const watch = new CrashWatch();
  let server: DetcdServer | undefined;
  let client: EtcdClient;
  let flags: string[];
  let port: number;

  beforeAll(async () => {
    watch.install();
    const [m] = await memberPorts(["fuzz"]);
    port = m!.client;
    flags = memberFlags(m!, [m!], join(tempDir("fuzz"), "data"), [
      `--max-request-bytes=${MAX_REQUEST_BYTES}`,
      `--max-txn-ops=${MAX_TXN_OPS}`,
      // Snapshots during the run, so the restart recovers from one plus the log after it.
      "--snapshot-count=40",
    ]);
    server = await watch.start(flags);
    client = clientFor([port]);
    await eventually(async () => ((await client.status()).leader !== 0n ? true : undefined));
  });

  afterAll(async () => {
    client?.close();
    await server?.stop();
    watch.uninstall();
  });

  it("answers every request with a result or etcd's error, and the store holds exactly the successful writes", async () => {
    for (const ID of LEASE_POOL) await client.leaseGrant({ ID, TTL: 3600 });
    const { members } = await client.memberList();
    const limits: FuzzLimits = {
      maxRequestBytes: MAX_REQUEST_BYTES,
      maxTxnOps: MAX_TXN_OPS,
      leasePool: LEASE_POOL,
      memberIds: members.map((x) => x.ID),
    };
    const runner = new Runner(() => client, limits, new KvModel(), true, watch);
    await fc.assert(
      fc.asyncProperty(
        fc.array(fuzzOpArb(limits), { minLength: 5, maxLength: 30 }),
        async (ops) => {
          await runner.run(ops);
          await runner.clearNoSpace(client);
          const all = await everything(client);
          const problems = runner.model.checkAll(all.kvs, "full range");
          if (problems.length > 0) throw new Error(problems.join("; "));
        },
      ),
      { numRuns: 100 },
    );
    // Both sides of the checks were exercised, over many of etcd's errors.
    expect(runner.counts.ok).toBeGreaterThan(300);
    expect(runner.counts.failed).toBeGreaterThan(200);
    expect(runner.errorsSeen.size).toBeGreaterThanOrEqual(12);
    watch.expectNothing();

    // The same data dir comes back with the same data.
    const before = await everything(client);
    const revision = before.revision;
    const hashBefore = await client.hashKV({ revision });
    const alarmsBefore = sortedAlarms((await client.alarm({ action: "GET" })).alarms);
    client.close();
    await server!.stop();
    server = await watch.start(flags);
    client = clientFor([port]);
    await eventually(async () => ((await client.status()).leader !== 0n ? true : undefined));
    const after = await everything(client, revision);
    expect(after.kvs).toEqual(before.kvs);
    expect(await client.hashKV({ revision })).toMatchObject({
      hash: hashBefore.hash,
      compact_revision: hashBefore.compact_revision,
      hash_revision: revision,
    });
    expect(sortedAlarms((await client.alarm({ action: "GET" })).alarms)).toEqual(alarmsBefore);
    expect(runner.model.checkAll(after.kvs, "after the restart")).toEqual([]);
    watch.expectNothing();
  });
});
