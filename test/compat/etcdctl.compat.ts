// Debian's etcdctl (package etcd-client, v3.4) against a three-process detcd cluster: the operations
// an operator of the seed's cluster runs, then a snapshot it saved restored with detcdctl into a new
// cluster that serves the same data. Run by `npm run test:compat` (CI installs etcd-client first).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFile, spawn } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import {
  eventually,
  memberFlags,
  memberPorts,
  tempDir,
  type MemberPorts,
} from "../real/server/helpers.js";
import { startDetcd, stopDetcd, type DetcdProcess } from "../real/server/processes.js";
import { endpointsOf, ETCDCTL, etcdctl as runEtcdctl, startCluster } from "./cluster.js";

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, "..", "..");
const DETCDCTL = join(ROOT, "src", "cli", "detcdctl.ts");

let ports: MemberPorts[] = [];
const procs: DetcdProcess[] = [];
let dir = "";

/** etcdctl's stdout; a failure throws with its stderr. */
async function etcdctl(args: readonly string[], members = ports): Promise<string> {
  const r = await etcdctlOutput(args, members);
  if (r.code !== 0) throw new Error(`etcdctl ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

/** etcdctl prints some results (endpoint health) on stderr. */
function etcdctlOutput(args: readonly string[], members = ports) {
  return runEtcdctl(members, args);
}

async function startMembers(names: string[], sub: string) {
  return startCluster(procs, dir, names, sub);
}

beforeAll(async () => {
  dir = tempDir("compat");
  ports = await startMembers(["infra0", "infra1", "infra2"], "a");
}, 60_000);

afterAll(async () => {
  await Promise.all(procs.map((p) => stopDetcd(p)));
});

describe("Debian etcdctl against detcd", () => {
  it("endpoint health and status, member list", async () => {
    const health = (await etcdctlOutput(["endpoint", "health"])).stderr;
    for (const m of ports) {
      expect(health).toMatch(
        new RegExp(`127\\.0\\.0\\.1:${m.client} is healthy: successfully committed proposal`),
      );
    }
    const status = JSON.parse(await etcdctl(["endpoint", "status", "-w", "json"])) as {
      Endpoint: string;
      Status: { header: { member_id: number }; leader: number; raftTerm: number; version: string };
    }[];
    expect(status).toHaveLength(3);
    const leaders = new Set(status.map((s) => s.Status.leader));
    expect(leaders.size).toBe(1);
    expect(status.map((s) => s.Status.version)).toEqual(["3.5.33", "3.5.33", "3.5.33"]);
    const table = await etcdctl(["endpoint", "status", "-w", "table"]);
    expect(table).toContain("| IS LEADER |");
    const list = await etcdctl(["member", "list"]);
    const rows = list
      .trim()
      .split("\n")
      .map((l) => l.split(", "));
    expect(rows.map((r) => [r[1], r[2]]).sort()).toEqual([
      ["started", "infra0"],
      ["started", "infra1"],
      ["started", "infra2"],
    ]);
    for (const r of rows) expect(r[3]).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it("get / --prefix --keys-only, and watch --prefix /registry sees new writes", async () => {
    await etcdctl(["put", "/registry/pods/default/a", "pod-a"]);
    await etcdctl(["put", "/registry/pods/default/b", "pod-b"]);
    await etcdctl(["put", "/other", "x"]);
    const keys = await etcdctl(["get", "/", "--prefix", "--keys-only"]);
    expect(keys.split("\n").filter((l) => l !== "")).toEqual([
      "/other",
      "/registry/pods/default/a",
      "/registry/pods/default/b",
    ]);
    const watcher = spawn(
      ETCDCTL,
      [`--endpoints=${endpointsOf(ports)}`, "watch", "--prefix", "/registry"],
      {
        env: { ...process.env, ETCDCTL_API: "3" },
      },
    );
    let out = "";
    watcher.stdout.on("data", (d: Buffer) => (out += d.toString("utf8")));
    try {
      await new Promise((r) => setTimeout(r, 500));
      await etcdctl(["put", "/registry/pods/default/c", "pod-c"]);
      await etcdctl(["del", "/registry/pods/default/a"]);
      await etcdctl(["put", "/elsewhere", "not watched"]);
      await eventually(
        async () => (out.includes("DELETE") ? true : undefined),
        10_000,
        "watch output",
      );
      // etcdctl prints a delete's (empty) value line too.
      expect(out).toBe(
        "PUT\n/registry/pods/default/c\npod-c\nDELETE\n/registry/pods/default/a\n\n",
      );
    } finally {
      watcher.kill();
    }
  });

  it("snapshot save, then detcdctl snapshot restore brings a new cluster up with the data", async () => {
    const file = join(dir, "snapshot.db");
    const saved = await etcdctl(["snapshot", "save", file], [ports[0]!]);
    expect(saved).toContain(`Snapshot saved at ${file}`);
    const fresh = await memberPorts(["restored0", "restored1", "restored2"]);
    const cluster = fresh.map((m) => `${m.name}=http://127.0.0.1:${m.peer}`).join(",");
    for (const m of fresh) {
      await run(
        process.execPath,
        [
          "--import",
          "tsx",
          DETCDCTL,
          "snapshot",
          "restore",
          file,
          `--name=${m.name}`,
          `--data-dir=${join(dir, "b", m.name)}`,
          `--initial-cluster=${cluster}`,
          "--initial-cluster-token=restored",
          `--initial-advertise-peer-urls=http://127.0.0.1:${m.peer}`,
        ],
        { cwd: ROOT, timeout: 30_000 },
      );
    }
    for (const m of fresh) {
      procs.push(startDetcd(m.name, memberFlags(m, fresh, join(dir, "b", m.name))));
    }
    const keys = await eventually(
      async () => {
        const out = await etcdctl(["get", "/registry", "--prefix", "--keys-only"], fresh);
        return out.includes("/registry/pods/default/c") ? out : undefined;
      },
      30_000,
      "the restored cluster serving",
    );
    expect(keys.split("\n").filter((l) => l !== "")).toEqual([
      "/registry/pods/default/b",
      "/registry/pods/default/c",
    ]);
    const list = await etcdctl(["member", "list"], fresh);
    expect(list).toContain("restored1");
    expect(list).not.toContain("infra0");
    await etcdctl(["put", "/registry/after-restore", "ok"], fresh);
    expect(await etcdctl(["get", "/registry/after-restore", "--print-value-only"], fresh)).toBe(
      "ok\n",
    );
  }, 120_000);
});
