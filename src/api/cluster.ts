// etcdserverpb's Cluster service messages (rpc.proto): MemberAdd, MemberRemove, MemberUpdate,
// MemberList and MemberPromote, with etcd's field names. Member ids are bigint like the response
// header's member_id (etcd's uint64); detcd's members have ids below 512.

import type { ResponseHeader } from "./rpc.js";

/** One member of the cluster (etcdserverpb.Member). */
export interface ClusterMember {
  ID: bigint;
  /** Empty until the member has started and published its name. */
  name: string;
  peerURLs: string[];
  /** Empty until the member has started and published its client URLs. */
  clientURLs: string[];
  isLearner: boolean;
}

export interface MemberAddRequest {
  peerURLs: string[];
  isLearner?: boolean;
}

export interface MemberAddResponse {
  header: ResponseHeader;
  /** The member added, with the ID the cluster chose for it. */
  member: ClusterMember;
  /** Every member after the addition. */
  members: ClusterMember[];
}

export interface MemberRemoveRequest {
  ID: bigint;
}

export interface MemberRemoveResponse {
  header: ResponseHeader;
  members: ClusterMember[];
}

export interface MemberUpdateRequest {
  ID: bigint;
  peerURLs: string[];
}

export interface MemberUpdateResponse {
  header: ResponseHeader;
  members: ClusterMember[];
}

export interface MemberListRequest {
  /** Read through ReadIndex instead of from the serving member's applied state. */
  linearizable?: boolean;
}

export interface MemberListResponse {
  header: ResponseHeader;
  members: ClusterMember[];
}

export interface MemberPromoteRequest {
  ID: bigint;
}

export interface MemberPromoteResponse {
  header: ResponseHeader;
  members: ClusterMember[];
}
