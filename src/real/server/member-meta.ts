// The identity a data directory belongs to, written once when the member first starts and read at
// every later start: the member's name and Raft id, the cluster id, and the bootstrap member list
// the member's Raft storage started from (a restarted member must start from the same one; its
// later changes come back from the WAL and snapshots). Kept beside the WAL as
// <data-dir>/member/detcd-meta.json, written to a temporary file, fsynced, renamed, and the
// directory fsynced, so a crash leaves the old file or the new one.
import { promises as fs } from "node:fs";
import { join } from "node:path";
import type { MemberInfo } from "../../server/membership.js";

export const MEMBER_DIR = "member";
const META_FILE = "detcd-meta.json";
const META_VERSION = 1;

export interface MemberMeta {
  readonly name: string;
  readonly id: number;
  readonly clusterId: bigint;
  /** The cluster's initial members (Raft voters at index 0), this member included or not. */
  readonly bootstrapMembers: readonly MemberInfo[];
  /** This member joined a running cluster (--initial-cluster-state=existing). */
  readonly joined: boolean;
}

interface MetaJson {
  version: number;
  name: string;
  id: number;
  clusterId: string;
  bootstrapMembers: MemberInfo[];
  joined: boolean;
}

export function metaPath(dataDir: string): string {
  return join(dataDir, MEMBER_DIR, META_FILE);
}

/** The data directory's identity; undefined when it holds none (a fresh directory). */
export async function readMemberMeta(dataDir: string): Promise<MemberMeta | undefined> {
  const path = metaPath(dataDir);
  let text: string;
  try {
    text = await fs.readFile(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new Error(`${path}: ${(e as Error).message}`);
  }
  return parseMeta(path, text);
}

function parseMeta(path: string, text: string): MemberMeta {
  let json: MetaJson;
  try {
    json = JSON.parse(text) as MetaJson;
  } catch (e) {
    throw new Error(`${path}: not valid JSON (${(e as Error).message})`);
  }
  if (json.version !== META_VERSION) {
    throw new Error(`${path}: version ${String(json.version)}, expected ${META_VERSION}`);
  }
  if (!Number.isInteger(json.id) || json.id < 1 || typeof json.name !== "string") {
    throw new Error(`${path}: bad member id or name`);
  }
  if (!Array.isArray(json.bootstrapMembers) || !/^\d+$/.test(json.clusterId)) {
    throw new Error(`${path}: bad cluster id or bootstrap members`);
  }
  return {
    name: json.name,
    id: json.id,
    clusterId: BigInt(json.clusterId),
    bootstrapMembers: json.bootstrapMembers,
    joined: json.joined === true,
  };
}

export async function writeMemberMeta(dataDir: string, meta: MemberMeta): Promise<void> {
  const dir = join(dataDir, MEMBER_DIR);
  await fs.mkdir(dir, { recursive: true });
  const json: MetaJson = {
    version: META_VERSION,
    name: meta.name,
    id: meta.id,
    clusterId: meta.clusterId.toString(),
    bootstrapMembers: [...meta.bootstrapMembers],
    joined: meta.joined,
  };
  const tmp = join(dir, `${META_FILE}.tmp`);
  const file = await fs.open(tmp, "w", 0o600);
  try {
    await file.writeFile(`${JSON.stringify(json, null, 2)}\n`);
    await file.sync();
  } finally {
    await file.close();
  }
  await fs.rename(tmp, join(dir, META_FILE));
  const handle = await fs.open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
