// Who the members of a new cluster are, and the cluster's id. Every member of a new cluster gets the
// same --initial-cluster and --initial-cluster-token, so each computes the same ids on its own:
// members sorted by name get Raft ids 1, 2, 3, ... (detcd's ids stay below 512, see Membership),
// and the cluster id is a hash of the token and every peer URL, so two clusters bootstrapped with
// different tokens (a restore makes a new one) never take each other's messages.
import { createHash } from "node:crypto";
import type { InitialClusterMember } from "../config/initial-cluster.js";
import type { MemberInfo } from "../../server/membership.js";

export interface ClusterIdentity {
  readonly clusterId: bigint;
  /** The initial members in id order; client URLs are empty until each member publishes them. */
  readonly members: readonly MemberInfo[];
}

export function newClusterIdentity(
  initialCluster: readonly InitialClusterMember[],
  token: string,
): ClusterIdentity {
  const sorted = [...initialCluster].sort((a, b) =>
    a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
  );
  const members = sorted.map((m, i) => ({
    id: i + 1,
    name: m.name,
    peerURLs: [...m.peerURLs],
    clientURLs: [],
    isLearner: false,
  }));
  return { clusterId: clusterIdOf(token, members), members };
}

function clusterIdOf(token: string, members: readonly MemberInfo[]): bigint {
  const hash = createHash("sha256");
  hash.update(token);
  for (const url of members.flatMap((m) => m.peerURLs).sort()) hash.update(`\n${url}`);
  const digest = hash.digest();
  // A positive int64, so clients that read it as signed see the same number.
  return digest.readBigUInt64BE(0) & 0x7fff_ffff_ffff_ffffn;
}

/** A member id as etcdctl prints it: lowercase hex without leading zeros. */
export function memberIdHex(id: number | bigint): string {
  return BigInt(id).toString(16);
}
