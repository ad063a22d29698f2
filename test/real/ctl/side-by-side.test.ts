// detcdctl and Debian's etcdctl (3.4, at /usr/bin/etcdctl) run against the same member: read-only
// commands must print the same bytes and exit with the same code. Skipped where etcdctl is absent.
//
// Where etcdctl 3.4 and 3.5 differ, detcdctl follows 3.5 and those commands are left out here: the
// json key of txn responses ("response_put" in 3.5), endpoint health (3.5 also checks alarms, and
// the time taken differs run to run), and member list -w json --hex (3.4 ignores --hex).

import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ctlAt, serveMember, type ServedMember } from "./helpers.js";

const ETCDCTL = "/usr/bin/etcdctl";

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function etcdctl(endpoint: string, args: readonly string[], stdin?: string): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(
      ETCDCTL,
      ["--endpoints", endpoint, ...args],
      { env: { ETCDCTL_API: "3", PATH: "/usr/bin:/bin" } },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
    child.stdin?.end(stdin ?? "");
  });
}

/** etcdctl's error line: its stderr holds log lines and, for usage errors, the line twice. */
function errorLine(stderr: string): string | undefined {
  return stderr.split("\n").find((l) => l.startsWith("Error: "));
}

const READ_ONLY: readonly string[][] = [
  ["get", "foo"],
  ["get", "foo", "-w", "json"],
  ["get", "foo", "-w", "fields"],
  ["get", "", "--prefix", "--keys-only"],
  ["get", "", "--from-key", "--limit", "2", "-w", "json"],
  ["get", "b", "--prefix", "--order", "DESCEND", "--sort-by", "VALUE"],
  ["get", "bin", "--hex"],
  ["get", "bin", "-w", "fields"],
  ["get", "foo", "--rev", "2", "-w", "json"],
  ["get", "missing", "-w", "json"],
  ["member", "list"],
  ["member", "list", "-w", "json"],
  ["member", "list", "-w", "table"],
  ["member", "list", "-w", "fields"],
  ["endpoint", "status"],
  ["endpoint", "status", "-w", "json"],
  ["endpoint", "status", "-w", "table"],
  ["endpoint", "status", "-w", "fields"],
  ["endpoint", "hashkv"],
  ["endpoint", "hashkv", "-w", "json"],
  ["endpoint", "hashkv", "-w", "table"],
  ["endpoint", "hashkv", "-w", "fields"],
  ["alarm", "list"],
  ["alarm", "list", "-w", "json"],
  ["lease", "timetolive", "1234"],
  ["lease", "timetolive", "1234", "-w", "json"],
  ["lease", "timetolive", "1234", "-w", "fields"],
];

const MISTAKES: readonly string[][] = [
  ["get"],
  ["get", "a", "--limit", "x"],
  ["get", "a", "--bogus"],
  ["get", "a", "b", "--prefix"],
  ["get", "a", "--order", "sideways"],
  ["-w", "bogus", "get", "a"],
  ["get", "a", "-w", "table"],
  ["put"],
  ["put", "a", "b", "--lease", "zz"],
  ["del", "a", "b", "c"],
  ["lease", "grant", "abc"],
  ["lease", "revoke", "xyz"],
  ["lease", "revoke", "1234"],
  ["compaction"],
  ["member", "remove", "zz"],
  ["member", "add", "x"],
  ["move-leader"],
  ["txn", "extra"],
];

describe.skipIf(!existsSync(ETCDCTL))("side by side with etcdctl 3.4", () => {
  let m: ServedMember;

  beforeAll(async () => {
    m = await serveMember();
    for (const [k, v] of [
      ["foo", "bar"],
      ["foo", "baz"],
      ["b1", "z"],
      ["b2", "y"],
      ["b3", "x"],
    ]) {
      await ctlAt(m, ["put", k!, v!]);
    }
    await ctlAt(m, ["put", "bin"], { stdin: Uint8Array.of(0x00, 0xff, 0x0a, 0x22) });
  });

  afterAll(() => m.stop());

  it("prints what etcdctl prints for read-only commands", async () => {
    for (const args of READ_ONLY) {
      const theirs = await etcdctl(m.endpoint, args);
      const ours = await ctlAt(m, args);
      expect({ args, code: ours.code, stdout: ours.stdout }).toEqual({
        args,
        code: theirs.code,
        stdout: theirs.stdout,
      });
    }
  });

  it("answers mistakes with etcdctl's error line and exit code", async () => {
    for (const args of MISTAKES) {
      const theirs = await etcdctl(m.endpoint, args);
      const ours = await ctlAt(m, args);
      expect({ args, code: ours.code, error: errorLine(ours.stderr) }).toEqual({
        args,
        code: theirs.code,
        error: errorLine(theirs.stderr)?.replaceAll("etcdctl", "detcdctl"),
      });
    }
  });

  it("runs the same txn to the same output", async () => {
    const input = 'val("foo") = "baz"\n\nput t1 "v 1" --prev-kv\nget b --prefix\n\ndel t1\n\n';
    const theirs = await etcdctl(m.endpoint, ["txn"], input);
    await ctlAt(m, ["del", "t1"]);
    const ours = await ctlAt(m, ["txn"], { stdin: input });
    expect(ours.stdout).toBe(theirs.stdout);
  });
});
