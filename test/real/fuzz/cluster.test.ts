// Structured fuzz of a three-member cluster in this process: the requests go to the members in
// turn (followers forward writes, lease and promote requests to the leader). Answers are judged as
// for one member; afterwards every member holds the same data at the same revision (HashKV and a
// full range), and that data is exactly what the successful writes left.
import fc from "fast-check";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EtcdClient } from "../../../src/real/grpc/client.js";
import type { DetcdServer } from "../../../src/real/server/detcd-server.js";
import { clientFor, eventually, memberFlags, memberPorts, tempDir } from "../server/helpers.js";
import { fuzzOpArb, type FuzzLimits } from "./arbitraries.js";
import { KvModel } from "./check.js";
import { CrashWatch, everything, Runner } from "./harness.js";

const MAX_REQUEST_BYTES = 16 * 1024;
const MAX_TXN_OPS = 16;
const LEASE_POOL = [7001n, 7002n];

describe("fuzzed requests against three members", () => {
  const watch = new CrashWatch();
  const servers: DetcdServer[] = [];
  let clients: EtcdClient[] = [];

  beforeAll(async () => {
    watch.install();
    const ports = await memberPorts(["f1", "f2", "f3"]);
    const dir = tempDir("fuzz3");
    servers.push(
      ...(await Promise.all(
        ports.map((m) =>
          watch.start(
            memberFlags(m, ports, join(dir, m.name), [
              `--max-request-bytes=${MAX_REQUEST_BYTES}`,
              `--max-txn-ops=${MAX_TXN_OPS}`,
            ]),
          ),
        ),
      )),
    );
    clients = ports.map((m) => clientFor([m.client]));
    for (const c of clients)
      await eventually(async () => ((await c.status()).leader !== 0n ? true : undefined));
  });

  afterAll(async () => {
    for (const c of clients) c.close();
    await Promise.all(servers.map((s) => s.stop()));
    watch.uninstall();
  });

  it("answers from every member with a result or etcd's error, and the members agree on the data", async () => {
    const first = clients[0]!;
    for (const ID of LEASE_POOL) await first.leaseGrant({ ID, TTL: 3600 });
    const { members } = await first.memberList();
    expect(members).toHaveLength(3);
    const limits: FuzzLimits = {
      maxRequestBytes: MAX_REQUEST_BYTES,
      maxTxnOps: MAX_TXN_OPS,
      leasePool: LEASE_POOL,
      memberIds: members.map((x) => x.ID),
    };
    let turn = 0;
    const next = (): EtcdClient => clients[turn++ % clients.length]!;
    // Serializable reads on a follower may lag the write just answered: the model skips them.
    const runner = new Runner(next, limits, new KvModel(true), false, watch);
    await fc.assert(
      fc.asyncProperty(
        fc.array(fuzzOpArb(limits), { minLength: 5, maxLength: 25 }),
        async (ops) => {
          await runner.run(ops);
          await runner.clearNoSpace(first);
        },
      ),
      { numRuns: 30 },
    );
    expect(runner.counts.ok).toBeGreaterThan(80);
    expect(runner.counts.failed).toBeGreaterThan(50);
    watch.expectNothing();

    // Every member reaches the last revision and holds the same data there.
    const all = await everything(first);
    const revision = all.revision;
    expect(runner.model.checkAll(all.kvs, "full range")).toEqual([]);
    const views = await Promise.all(
      clients.map((c) =>
        eventually(
          async () => {
            const r = await c.range({
              key: Uint8Array.of(0),
              range_end: Uint8Array.of(0),
              revision,
              serializable: true,
            });
            const h = await c.hashKV({ revision });
            return { kvs: r.kvs, hash: h.hash, compact: h.compact_revision };
          },
          10_000,
          `revision ${revision} on every member`,
        ),
      ),
    );
    for (const v of views.slice(1)) expect(v).toEqual(views[0]);
    watch.expectNothing();
  });
});
