// detcdctl's main() against a real member served on a loopback port: exact output and exit codes.

import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { HashKVResponse } from "../../../src/api/rpc.js";
import { checkPerf } from "../../../src/real/ctl/commands/check.js";
import { hexId16, humanizeBytes } from "../../../src/real/ctl/go-format.js";
import { standaloneContext } from "../../../src/real/ctl/main.js";
import { snapshotFileStatus } from "../../../src/real/server/snapshot-file.js";
import { lines } from "./fixtures.js";
import { ctl, ctlAt, serveMember, type ServedMember } from "./helpers.js";

let m: ServedMember;
let dir: string;

beforeAll(async () => {
  m = await serveMember();
  dir = mkdtempSync(join(tmpdir(), "detcdctl-"));
});

afterAll(async () => {
  await m.stop();
  rmSync(dir, { recursive: true, force: true });
});

function revision(): number {
  return m.member.responseHeader().revision;
}

/** The JSON header of an answer given now. */
function jsonHeader(): string {
  const h = m.member.responseHeader();
  return `"header":{"cluster_id":${h.cluster_id},"member_id":1,"revision":${h.revision},"raft_term":${h.raft_term}}`;
}

describe("key-value commands", () => {
  it("put, get and del print what etcdctl prints", async () => {
    const r0 = revision();
    expect(await ctlAt(m, ["put", "foo", "bar"])).toMatchObject({
      code: 0,
      stdout: "OK\n",
      stderr: "",
    });
    expect((await ctlAt(m, ["put", "foo", "baz", "--prev-kv"])).stdout).toBe(
      lines("OK", "foo", "bar"),
    );
    expect((await ctlAt(m, ["get", "foo"])).stdout).toBe(lines("foo", "baz"));
    expect((await ctlAt(m, ["get", "foo", "-w", "json"])).stdout).toBe(
      `{${jsonHeader()},"kvs":[{"key":"Zm9v","create_revision":${r0 + 1},"mod_revision":${r0 + 2},"version":2,"value":"YmF6"}],"count":1}\n`,
    );
    expect((await ctlAt(m, ["get", "f", "--prefix", "--keys-only"])).stdout).toBe(lines("foo", ""));
    expect((await ctlAt(m, ["get", "--print-value-only", "foo"])).stdout).toBe(lines("baz"));
    expect((await ctlAt(m, ["--hex", "get", "foo"])).stdout).toBe(
      lines("\\x66\\x6f\\x6f", "\\x62\\x61\\x7a"),
    );
    expect((await ctlAt(m, ["del", "foo", "--prev-kv"])).stdout).toBe(lines("1", "foo", "baz"));
    expect(await ctlAt(m, ["get", "foo"])).toMatchObject({ code: 0, stdout: "" });
  });

  it("reads range options: sort, limit, revision, from-key and the mod/create filters", async () => {
    for (const [k, v] of [
      ["r/b", "2"],
      ["r/a", "3"],
      ["r/c", "1"],
    ])
      await ctlAt(m, ["put", k!, v!]);
    const after = revision();
    await ctlAt(m, ["put", "r/a", "4"]);
    const get = async (...args: string[]) => (await ctlAt(m, ["get", ...args])).stdout;
    expect(
      await get("r/", "--prefix", "--sort-by", "VALUE", "--order", "DESCEND", "--keys-only"),
    ).toBe(lines("r/a", "", "r/b", "", "r/c", ""));
    expect(await get("r/", "--prefix", "--limit", "2", "--keys-only")).toBe(
      lines("r/a", "", "r/b", ""),
    );
    expect(await get("r/a", "--rev", String(after))).toBe(lines("r/a", "3"));
    expect(await get("r/b", "--from-key", "--keys-only", "--consistency", "s")).toBe(
      lines("r/b", "", "r/c", ""),
    );
    expect(await get("r/", "--prefix", "--min-mod-rev", String(after + 1), "--keys-only")).toBe(
      lines("r/a", ""),
    );
    expect(await get("r/", "--prefix", "--max-create-rev", String(after - 2), "--keys-only")).toBe(
      lines("r/b", ""),
    );
    const fields = await ctlAt(m, ["get", "r/", "--prefix", "--count-only", "-w", "fields"]);
    expect(fields.stdout).toContain('"Count" : 3\n');
    expect(await ctlAt(m, ["get", "r/", "--prefix", "--count-only"])).toMatchObject({
      code: 128,
      stderr: "Error: --count-only is only for `--write-out=fields`\n",
    });
  });

  it("put takes the value from stdin, bytes as they are", async () => {
    expect((await ctlAt(m, ["put", "kin"], { stdin: "hello\nworld" })).stdout).toBe("OK\n");
    expect((await ctlAt(m, ["get", "kin", "--print-value-only"])).stdout).toBe("hello\nworld\n");
    expect(await ctlAt(m, ["put", "kin2"], { stdin: "" })).toMatchObject({
      code: 128,
      stderr: "Error: put command needs 1 argument and input from stdin or 2 arguments\n",
    });
  });

  it("txn reads compares and requests from stdin, with prompts under -i", async () => {
    await ctlAt(m, ["put", "k1", "v1"]);
    const input = 'mod("k1") > "0"\n\nput k1 "over" --prev-kv\nget k1\n\nput k1 created\n\n';
    expect(await ctlAt(m, ["txn"], { stdin: input })).toMatchObject({
      code: 0,
      stdout: lines("SUCCESS", "", "OK", "k1", "v1", "", "k1", "over"),
    });
    const failed = await ctlAt(m, ["txn", "-i"], { stdin: 'val("k1") = "nope"\n\n\ndel k1\n\n' });
    expect(failed.stdout).toBe(
      lines(
        "compares:",
        "success requests (get, put, del):",
        "failure requests (get, put, del):",
        "FAILURE",
        "",
        "1",
      ),
    );
    expect(await ctlAt(m, ["txn"], { stdin: 'mod("k1") = "x"\n\n\n\n' })).toMatchObject({
      code: 3,
      stdout: "",
      stderr: 'Error: line 1: invalid txn compare request: mod("k1") = "x"\n',
    });
  });
});

describe("watch", () => {
  it("prints events from a revision until stopped", async () => {
    const from = revision() + 1;
    const stop = new AbortController();
    const expected = lines(
      "PUT",
      "w1",
      "a",
      "PUT",
      "w1",
      "a",
      "w1",
      "b",
      "DELETE",
      "w1",
      "b",
      "w1",
      "",
    );
    const watching = ctlAt(m, ["watch", "w", "--prefix", "--prev-kv", "--rev", String(from)], {
      signal: stop.signal,
      onOutput: (out) => {
        if (out === expected) stop.abort();
      },
    });
    await ctlAt(m, ["put", "w1", "a"]);
    await ctlAt(m, ["put", "w1", "b"]);
    await ctlAt(m, ["del", "w1"]);
    expect(await watching).toMatchObject({ code: 130, stdout: expected, stderr: "" });
  });

  it("runs the exec command for every event with etcdctl's variables", async () => {
    const from = revision() + 1;
    await ctlAt(m, ["put", "x1", "v x"]);
    const stop = new AbortController();
    const script =
      'echo "$ETCD_WATCH_EVENT_TYPE $ETCD_WATCH_KEY $ETCD_WATCH_VALUE $ETCD_WATCH_REVISION"';
    const run = await ctlAt(m, ["watch", "x1", "--rev", String(from), "--", "sh", "-c", script], {
      signal: stop.signal,
      env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin" },
      onOutput: (out) => {
        if (out.includes(`${from}\n`)) stop.abort();
      },
    });
    expect(run.stdout).toBe(lines("PUT", "x1", "v x", `"PUT" "x1" "v x" ${from}`));
  });

  it("watch -i starts watchers from stdin lines and ends with stdin", async () => {
    const from = revision() + 1;
    const stdin = new PassThrough();
    const expected = lines("PUT", "i1", "a", "PUT", "i2", "b");
    const watching = ctlAt(m, ["watch", "-i"], {
      stdin,
      onOutput: (out) => {
        if (out === expected) stdin.end();
      },
    });
    stdin.write(`watch i1 --rev ${from}\n`);
    stdin.write(`watch --rev ${from} i2\n`);
    stdin.write("bogus\n");
    await ctlAt(m, ["put", "i1", "a"]);
    await ctlAt(m, ["put", "i2", "b"]);
    expect(await watching).toMatchObject({
      code: 3,
      stdout: expected,
      stderr: lines(
        "Invalid command bogus (only support watch)",
        "Error: error reading watch request line: EOF",
      ),
    });
  });

  it("ends with exit code 5 when the server cancels the watch", async () => {
    await ctlAt(m, ["put", "c1", "1"]);
    await ctlAt(m, ["compaction", String(revision())]);
    expect(await ctlAt(m, ["watch", "c1", "--rev", "1"])).toMatchObject({
      code: 5,
      stdout: "",
      stderr: lines(
        "watch was canceled (etcdserver: mvcc: required revision has been compacted)",
        "Error: watch is canceled by the server",
      ),
    });
  });

  it("refuses bad arguments as etcdctl does", async () => {
    expect(await ctlAt(m, ["watch"])).toMatchObject({
      code: 128,
      stderr: "Error: bad number of arguments\n",
    });
    expect(await ctlAt(m, ["watch", "a", "--"])).toMatchObject({
      code: 128,
      stderr: "Error: bad number of arguments (found separator --, but no commands)\n",
    });
    expect(await ctlAt(m, ["watch", "a", "b", "--prefix"])).toMatchObject({
      code: 128,
      stderr: "Error: `range_end` and `--prefix` are mutually exclusive\n",
    });
    expect(await ctlAt(m, ["watch", "a"], { env: { ETCDCTL_WATCH_KEY: "b" } })).toMatchObject({
      code: 128,
      stderr: "Error: bad number of arguments (found conflicting environment key)\n",
    });
  });
});

describe("lease", () => {
  it("grants, attaches, renews and revokes a lease", async () => {
    const granted = await ctlAt(m, ["lease", "grant", "60"]);
    const id = /^lease ([0-9a-f]{16}) granted with TTL\(60s\)\n$/.exec(
      granted.stdout,
    )?.[1] as string;
    expect(id).toBeDefined();
    expect((await ctlAt(m, ["put", "lk", "v", "--lease", id])).stdout).toBe("OK\n");
    expect((await ctlAt(m, ["lease", "timetolive", id, "--keys"])).stdout).toMatch(
      new RegExp(
        `^lease ${id} granted with TTL\\(60s\\), remaining\\((59|60)s\\), attached keys\\(\\[lk\\]\\)\n$`,
      ),
    );
    expect((await ctlAt(m, ["lease", "list"])).stdout).toContain(`\n${id}\n`);
    expect((await ctlAt(m, ["lease", "keep-alive", "--once", id])).stdout).toBe(
      `lease ${id} keepalived with TTL(60)\n`,
    );
    const stop = new AbortController();
    const kept = await ctlAt(m, ["lease", "keep-alive", id], {
      signal: stop.signal,
      onOutput: () => stop.abort(),
    });
    expect(kept).toMatchObject({ code: 130, stdout: `lease ${id} keepalived with TTL(60)\n` });
    expect((await ctlAt(m, ["lease", "revoke", id])).stdout).toBe(`lease ${id} revoked\n`);
    expect((await ctlAt(m, ["get", "lk"])).stdout).toBe("");
    expect((await ctlAt(m, ["lease", "timetolive", id])).stdout).toBe(
      `lease ${id} already expired\n`,
    );
    expect(await ctlAt(m, ["lease", "keep-alive", id])).toMatchObject({
      code: 0,
      stdout: `lease ${id} expired or revoked.\n`,
    });
    expect(await ctlAt(m, ["lease", "revoke", id])).toMatchObject({
      code: 1,
      stderr: "Error: failed to revoke lease (etcdserver: requested lease not found)\n",
    });
    expect(await ctlAt(m, ["lease", "keep-alive", "--once", id])).toMatchObject({
      code: 2,
      stderr: "Error: etcdserver: requested lease not found\n",
    });
  });

  it("refuses bad ids and TTLs", async () => {
    expect(await ctlAt(m, ["lease", "grant", "abc"])).toMatchObject({
      code: 128,
      stderr: 'Error: bad TTL (strconv.ParseInt: parsing "abc": invalid syntax)\n',
    });
    expect(await ctlAt(m, ["lease", "revoke", "xyz"])).toMatchObject({
      code: 128,
      stderr:
        'Error: bad lease ID arg (strconv.ParseInt: parsing "xyz": invalid syntax), expecting ID in Hex\n',
    });
  });
});

describe("member", () => {
  it("lists members, adds a learner with etcdctl's environment lines, updates and removes it", async () => {
    const url = `http://${m.endpoint}`;
    expect((await ctlAt(m, ["member", "list"])).stdout).toBe(
      lines(`1, started, m1, http://m1:2380, ${url}, false`),
    );
    const pad = " ".repeat(url.length - "CLIENT ADDRS".length);
    const half = Math.floor(pad.length / 2);
    const rule = `+----+---------+------+----------------+-${"-".repeat(url.length)}-+------------+`;
    expect((await ctlAt(m, ["member", "list", "-w", "table"])).stdout).toBe(
      lines(
        rule,
        `| ID | STATUS  | NAME |   PEER ADDRS   | ${pad.slice(0, half)}CLIENT ADDRS${pad.slice(half)} | IS LEARNER |`,
        rule,
        `|  1 | started |   m1 | http://m1:2380 | ${url} |      false |`,
        rule,
      ),
    );
    const added = await ctlAt(m, [
      "member",
      "add",
      "m2",
      "--peer-urls",
      "http://127.0.0.1:1",
      "--learner",
    ]);
    const id = /^Member +([0-9a-f]+) added/.exec(added.stdout)?.[1] as string;
    const cluster = m.member.responseHeader().cluster_id;
    expect(added.stdout).toBe(
      lines(
        `Member ${hexId16(BigInt(`0x${id}`))} added to cluster ${hexId16(cluster)}`,
        "",
        'ETCD_NAME="m2"',
        'ETCD_INITIAL_CLUSTER="m1=http://m1:2380,m2=http://127.0.0.1:1"',
        'ETCD_INITIAL_ADVERTISE_PEER_URLS="http://127.0.0.1:1"',
        'ETCD_INITIAL_CLUSTER_STATE="existing"',
      ),
    );
    expect((await ctlAt(m, ["member", "list"])).stdout).toBe(
      lines(
        `1, started, m1, http://m1:2380, ${url}, false`,
        `${id}, unstarted, , http://127.0.0.1:1, , true`,
      ),
    );
    expect(await ctlAt(m, ["member", "promote", id])).toMatchObject({
      code: 1,
      stderr: "Error: etcdserver: can only promote a learner member which is in sync with leader\n",
    });
    expect(
      (await ctlAt(m, ["member", "update", id, "--peer-urls", "http://127.0.0.1:2"])).stdout,
    ).toBe(`Member ${hexId16(BigInt(`0x${id}`))} updated in cluster ${hexId16(cluster)}\n`);
    expect((await ctlAt(m, ["member", "remove", id])).stdout).toBe(
      `Member ${hexId16(BigInt(`0x${id}`))} removed from cluster ${hexId16(cluster)}\n`,
    );
    expect(await ctlAt(m, ["member", "add", "m3", "http://127.0.0.1:3"])).toMatchObject({
      code: 128,
      stderr: "Error: too many arguments, did you mean --peer-urls=http://127.0.0.1:3\n",
    });
    expect(await ctlAt(m, ["member", "remove", "zz"])).toMatchObject({
      code: 128,
      stderr:
        'Error: bad member ID arg (strconv.ParseUint: parsing "zz": invalid syntax), expecting ID in Hex\n',
    });
  });
});

describe("endpoint and maintenance", () => {
  it("endpoint status, health and hashkv, also over the member list's URLs", async () => {
    const status = await ctlAt(m, ["endpoint", "status"]);
    const s = m.member.status();
    const row = `1, 3.5.33, ${humanizeBytes(m.member.dbSizeBytes)}, true, false, ${s.raftTerm}, ${s.commitIndex}, ${s.appliedIndex}, `;
    expect(status).toMatchObject({ code: 0, stdout: `${m.endpoint}, ${row}\n` });
    expect((await ctlAt(m, ["endpoint", "status", "--cluster"])).stdout).toBe(
      `http://${m.endpoint}, ${row}\n`,
    );
    expect((await ctlAt(m, ["endpoint", "health"])).stdout).toMatch(
      new RegExp(
        `^${m.endpoint} is healthy: successfully committed proposal: took = [0-9.]+(µs|ms|s)\n$`,
      ),
    );
    const hash = await new Promise<HashKVResponse>((resolve, reject) =>
      m.member.hashKV({}, (r) => (r.ok ? resolve(r.value) : reject(new Error(r.error.message)))),
    );
    expect((await ctlAt(m, ["endpoint", "hashkv"])).stdout).toBe(`${m.endpoint}, ${hash.hash}\n`);
    expect(
      await ctl(["endpoint", "status", "--endpoints", `${m.endpoint},127.0.0.1:1`]),
    ).toMatchObject({
      code: 1,
      stdout: `${m.endpoint}, ${row}\n`,
    });
  });

  it("compaction, defrag, alarm list and move-leader", async () => {
    await ctlAt(m, ["put", "cmp", "1"]);
    const rev = revision();
    expect((await ctlAt(m, ["compaction", String(rev), "--physical"])).stdout).toBe(
      `compacted revision ${rev}\n`,
    );
    expect(await ctlAt(m, ["compaction", String(rev)])).toMatchObject({
      code: 1,
      stderr: "Error: etcdserver: mvcc: required revision has been compacted\n",
    });
    expect(await ctlAt(m, ["compaction", "abc"])).toMatchObject({
      code: 1,
      stderr: 'Error: strconv.ParseInt: parsing "abc": invalid syntax\n',
    });
    expect((await ctlAt(m, ["defrag"])).stdout).toBe(
      `Finished defragmenting etcd member[${m.endpoint}]\n`,
    );
    expect(await ctlAt(m, ["alarm", "list"])).toMatchObject({ code: 0, stdout: "" });
    expect((await ctlAt(m, ["alarm", "list", "-w", "json"])).stdout).toBe(`{${jsonHeader()}}\n`);
    expect((await ctlAt(m, ["move-leader", "1"])).stdout).toBe(
      "Leadership transferred from 1 to 1\n",
    );
  });

  it("snapshot save writes a checked file that snapshot status reads", async () => {
    await ctlAt(m, ["put", "snap", "shot"]);
    const path = join(dir, "s.db");
    expect(await ctlAt(m, ["snapshot", "save", path])).toMatchObject({
      code: 0,
      stdout: `Snapshot saved at ${path}\n`,
    });
    expect(existsSync(`${path}.part`)).toBe(false);
    const st = await snapshotFileStatus(path);
    expect(st.revision).toBe(revision());
    expect(st.totalSize).toBe(readFileSync(path).length);
    expect((await ctlAt(m, ["snapshot", "status", path])).stdout).toBe(
      `${st.hash.toString(16)}, ${st.revision}, ${st.totalKey}, ${humanizeBytes(st.totalSize)}\n`,
    );
    expect((await ctlAt(m, ["snapshot", "status", path, "-w", "json"])).stdout).toBe(
      `{"hash":${st.hash},"revision":${st.revision},"totalKey":${st.totalKey},"totalSize":${st.totalSize}}\n`,
    );
    expect(
      await ctl(["snapshot", "save", path, "--endpoints", `${m.endpoint},${m.endpoint}`]),
    ).toMatchObject({
      code: 5,
      stderr: `Error: snapshot must be requested to one selected node, not multiple [${m.endpoint} ${m.endpoint}]\n`,
    });
  });

  it("check perf runs the load and prints etcdctl's verdict lines", async () => {
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on("data", (c: Buffer) => chunks.push(c));
    const { ctx, close } = standaloneContext(
      { stdout: out, stderr: new PassThrough() },
      {
        endpoints: [m.endpoint],
        dialTimeoutMs: 2000,
        commandTimeoutMs: 5000,
        commandTimeoutGiven: false,
        writeOut: "simple",
        hex: false,
      },
    );
    try {
      const model = { writesPerS: 40, clients: 4, durationMs: 1000 };
      const passed = await checkPerf(ctx, model, {
        prefix: "/perf/",
        autoCompact: true,
        autoDefrag: false,
      });
      const text = Buffer.concat(chunks).toString("utf8");
      expect(text).toMatch(
        /^Compacting with revision \d+\nCompacted with revision \d+\n(PASS: Throughput is|FAIL: Throughput too low:) \d+ writes\/s\n(PASS: Slowest request took|Slowest request took too long:) \d+\.\d{6}s\n(PASS: Stddev is|Stddev too high:) \d+\.\d{6}s\n(PASS|FAIL)\n$/,
      );
      expect(text.endsWith(passed ? "\nPASS\n" : "\nFAIL\n")).toBe(true);
    } finally {
      close();
    }
    expect(
      (await ctlAt(m, ["get", "/perf/", "--prefix", "--count-only", "-w", "fields"])).stdout,
    ).toContain('"Count" : 0\n');
  });
});

describe("command line", () => {
  it("reads ETCDCTL_* variables for global flags the command line leaves out", async () => {
    const run = await ctl(["get", "kin", "--print-value-only"], {
      env: { ETCDCTL_ENDPOINTS: m.endpoint },
    });
    expect(run.stdout).toBe("hello\nworld\n");
    const json = await ctl(["get", "kin"], {
      env: { ETCDCTL_ENDPOINTS: m.endpoint, ETCDCTL_WRITE_OUT: "json" },
    });
    expect(json.stdout.startsWith('{"header":')).toBe(true);
    const flagWins = await ctl(["get", "kin", "-w", "simple", "--endpoints", m.endpoint], {
      env: { ETCDCTL_ENDPOINTS: "127.0.0.1:1", ETCDCTL_WRITE_OUT: "json" },
    });
    expect(flagWins.stdout).toBe("kin\nhello\nworld\n");
  });

  it("never takes the word after a bool flag as its value, as pflag does", async () => {
    expect((await ctlAt(m, ["put", "bool", "--prev-kv", "false"])).stdout).toBe("OK\n");
    expect((await ctlAt(m, ["get", "bool", "--print-value-only"])).stdout).toBe("false\n");
    expect((await ctlAt(m, ["get", "--keys-only=false", "bool"])).stdout).toBe("bool\nfalse\n");
  });

  it("accepts a unique prefix of a command name", async () => {
    expect((await ctlAt(m, ["ge", "kin", "--print-value-only"])).stdout).toBe("hello\nworld\n");
    expect((await ctlAt(m, ["mem", "li"])).code).toBe(0);
  });

  it("reports usage mistakes with etcdctl's messages and exit codes", async () => {
    expect(await ctlAt(m, ["get", "--bogus"])).toMatchObject({
      code: 1,
      stderr: "Error: unknown flag: --bogus\nRun 'detcdctl get --help' for usage.\n",
    });
    expect(await ctlAt(m, ["get", "k", "--limit"])).toMatchObject({
      code: 1,
      stderr: "Error: flag needs an argument: --limit\nRun 'detcdctl get --help' for usage.\n",
    });
    expect(await ctlAt(m, ["get", "k", "--limit", "x"])).toMatchObject({
      code: 1,
      stderr:
        'Error: invalid argument "x" for "--limit" flag: strconv.ParseInt: parsing "x": invalid syntax\nRun \'detcdctl get --help\' for usage.\n',
    });
    expect(await ctlAt(m, ["get", "k", "--prefix=maybe"])).toMatchObject({
      code: 1,
      stderr:
        'Error: invalid argument "maybe" for "--prefix" flag: strconv.ParseBool: parsing "maybe": invalid syntax\nRun \'detcdctl get --help\' for usage.\n',
    });
    expect(await ctl(["--dial-timeout", "x", "get", "k"])).toMatchObject({
      code: 1,
      stderr:
        'Error: invalid argument "x" for "--dial-timeout" flag: time: invalid duration "x"\nRun \'detcdctl get --help\' for usage.\n',
    });
    expect(await ctlAt(m, ["bogus"])).toMatchObject({
      code: 1,
      stderr: 'Error: unknown command "bogus" for "detcdctl"\nRun \'detcdctl --help\' for usage.\n',
    });
    expect(await ctlAt(m, ["get"])).toMatchObject({
      code: 128,
      stderr:
        "Error: get command needs one argument as key and an optional argument as range_end\n",
    });
    expect(await ctlAt(m, ["get", "a", "b", "--prefix"])).toMatchObject({
      code: 128,
      stderr:
        "Error: too many arguments, only accept one argument when `--prefix` or `--from-key` is set\n",
    });
    expect(await ctlAt(m, ["get", "a", "--consistency", "x"])).toMatchObject({
      code: 4,
      stderr: 'Error: unknown consistency flag "x"\n',
    });
    expect(await ctlAt(m, ["-w", "bogus", "get", "a"])).toMatchObject({
      code: 4,
      stderr: "Error: unsupported output format\n",
    });
    expect(await ctlAt(m, ["get", "a", "-w", "table"])).toMatchObject({
      code: 4,
      stderr: "Error: table not supported as output format\n",
    });
  });

  it("reports an unreachable endpoint with the gRPC status", async () => {
    const run = await ctl(["get", "a", "--endpoints", "127.0.0.1:1"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^Error: rpc error: code = Unavailable desc = .+\n$/);
  });

  it("prints help and the version", async () => {
    const help = await ctl(["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("detcdctl get");
    const lease = await ctl(["lease"]);
    expect(lease.code).toBe(0);
    expect(lease.stdout).toContain("detcdctl lease keep-alive");
    expect((await ctl(["version"])).stdout).toBe(
      lines("etcdctl version: 3.5.33", "API version: 3.5", "detcdctl version: 0.1.0"),
    );
  });
});
