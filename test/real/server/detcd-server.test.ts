import { afterEach, describe, expect, it } from "vitest";
import { promises as fs } from "node:fs";
import { join } from "node:path";
import { fromUtf8, utf8 } from "../../../src/lib/bytes.js";
import { appendSnapshotTrailer } from "../../../src/real/grpc/snapshot-trailer.js";
import { DetcdServer } from "../../../src/real/server/detcd-server.js";
import { restoreSnapshot, snapshotFileStatus } from "../../../src/real/server/snapshot-file.js";
import {
  clientFor,
  configOf,
  eventually,
  memberFlags,
  memberPorts,
  memoryLogger,
  tempDir,
} from "./helpers.js";

const running: DetcdServer[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.stop()));
});

async function startOne(flags: string[]): Promise<DetcdServer> {
  const server = await DetcdServer.start({ config: configOf(flags), log: memoryLogger().log });
  running.push(server);
  return server;
}

describe("detcd server (one member in this process)", () => {
  it("serves writes, keeps them across a restart, and restores them from a snapshot into a new cluster", async () => {
    const [m] = await memberPorts(["solo"]);
    const dir = tempDir("solo");
    const flags = memberFlags(m!, [m!], join(dir, "data"));
    const first = await startOne(flags);
    const c = clientFor([m!.client]);
    await eventually(async () => ((await c.status()).leader !== 0n ? true : undefined));
    for (let i = 0; i < 20; i++) await c.put({ key: utf8(`k${i}`), value: utf8(`v${i}`) });
    const status = await c.status();
    expect(status.raftAppliedIndex).toBeGreaterThanOrEqual(21);
    expect(status.dbSizeInUse).toBeGreaterThan(0);
    const snap = await c.snapshot();
    c.close();
    await first.stop();
    running.splice(running.indexOf(first), 1);

    // The same data dir comes back with its data.
    await startOne(flags);
    const c2 = clientFor([m!.client]);
    const got = await eventually(async () => {
      const r = await c2.range({ key: utf8("k7") });
      return r.kvs.length === 1 ? r : undefined;
    });
    expect(fromUtf8(got.kvs[0]!.value)).toBe("v7");
    c2.close();

    // The snapshot restores into a new cluster with another token.
    const file = join(dir, "snapshot.db");
    await fs.writeFile(file, snap);
    const st = await snapshotFileStatus(file);
    expect(st.revision).toBe(21);
    expect(st.totalKey).toBe(20);
    expect(st.totalSize).toBe(snap.length);
    const [r] = await memberPorts(["restored"]);
    const restoredDir = join(dir, "restored");
    const restoreFlags = memberFlags(r!, [r!], restoredDir);
    const meta = await restoreSnapshot({
      snapshotPath: file,
      dataDir: restoredDir,
      name: "restored",
      initialCluster: configOf(restoreFlags).initialCluster,
      initialClusterToken: "restored-cluster",
      initialAdvertisePeerURLs: [`http://127.0.0.1:${r!.peer}`],
    });
    expect(meta.id).toBe(1);
    await expect(
      restoreSnapshot({
        snapshotPath: file,
        dataDir: restoredDir,
        name: "restored",
        initialCluster: configOf(restoreFlags).initialCluster,
        initialClusterToken: "x",
        initialAdvertisePeerURLs: [`http://127.0.0.1:${r!.peer}`],
      }),
    ).rejects.toThrow(/exists/);
    await startOne(restoreFlags);
    const c3 = clientFor([r!.client]);
    const all = await eventually(async () => {
      const res = await c3.range({ key: utf8("k"), range_end: utf8("l") });
      return res.kvs.length === 20 ? res : undefined;
    });
    expect(all.header.revision).toBe(21);
    expect(all.header.cluster_id).not.toBe(status.header.cluster_id);
    const members = await c3.memberList({});
    expect(members.members.map((x) => [x.name, x.peerURLs])).toEqual([
      ["restored", [`http://127.0.0.1:${r!.peer}`]],
    ]);
    c3.close();
  });

  it("refuses a snapshot file whose trailer does not match", async () => {
    const dir = tempDir("badsnap");
    const file = join(dir, "bad.db");
    const good = appendSnapshotTrailer(utf8("DETCDSN1 not really"));
    good[3] = good[3]! ^ 1;
    await fs.writeFile(file, good);
    await expect(snapshotFileStatus(file)).rejects.toThrow(/sha256 mismatch/);
  });
});
