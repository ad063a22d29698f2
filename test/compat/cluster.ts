// What the compatibility tests share: running Debian's etcdctl against members, and starting a
// cluster of detcd processes that has elected a leader.
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import {
  clientFor,
  eventually,
  memberFlags,
  memberPorts,
  type MemberPorts,
} from "../real/server/helpers.js";
import { startDetcd, type DetcdProcess } from "../real/server/processes.js";

const exec = promisify(execFile);
export const ETCDCTL = process.env["ETCDCTL_BIN"] ?? "etcdctl";

export interface Outcome {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export function endpointsOf(members: readonly MemberPorts[]): string {
  return members.map((m) => `127.0.0.1:${m.client}`).join(",");
}

/** Runs etcdctl (API 3) against `members`; a failure is an outcome, never a throw. */
export async function etcdctl(
  members: readonly MemberPorts[],
  args: readonly string[],
): Promise<Outcome> {
  try {
    const r = await exec(ETCDCTL, [`--endpoints=${endpointsOf(members)}`, ...args], {
      env: { ...process.env, ETCDCTL_API: "3" },
      timeout: 20_000,
    });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const f = e as { code?: number; stdout?: string; stderr?: string };
    return { code: f.code ?? -1, stdout: f.stdout ?? "", stderr: f.stderr ?? "" };
  }
}

/**
 * Starts members `names` under `dir/sub` (added to `procs`) and waits for one leader that every
 * member follows and for every member to have published its name and client URLs.
 */
export async function startCluster(
  procs: DetcdProcess[],
  dir: string,
  names: readonly string[],
  sub: string,
  extra: readonly string[] = [],
): Promise<MemberPorts[]> {
  const members = await memberPorts(names);
  for (const m of members) {
    procs.push(startDetcd(m.name, memberFlags(m, members, join(dir, sub, m.name), extra)));
  }
  await eventually(
    async () => {
      const exited = procs.find((p) => p.child.exitCode !== null);
      if (exited !== undefined) throw new Error(`${exited.name} exited: ${exited.stderr.join("")}`);
      const s = await Promise.all(members.map((m) => clientFor([m.client]).status()));
      if (!s.every((x) => x.leader !== 0n && x.leader === s[0]!.leader)) return undefined;
      // Every member has published its name and client URLs (etcdctl shows it "started").
      const listed = await clientFor([members[0]!.client]).memberList({ linearizable: true });
      return listed.members.every((m) => m.clientURLs.length > 0) ? true : undefined;
    },
    60_000,
    "a leader and every member started",
  );
  return members;
}
