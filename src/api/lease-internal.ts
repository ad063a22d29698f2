// Lease messages that travel only between members, inside Raft entries (etcd's raft_internal.proto
// LeaseCheckpointRequest). Clients never see them. Field names follow etcd's proto spelling, as in
// rpc.ts.

import type { LeaseId } from "./kv.js";

/**
 * The remaining TTL of one lease as the leader measured it. Applying it changes the TTL a future
 * leader starts the lease from; `remaining_TTL` 0 clears an earlier checkpoint (the full TTL
 * applies again, as after a keepalive).
 */
export interface LeaseCheckpoint {
  ID: LeaseId;
  /** Whole seconds, >= 0. */
  remaining_TTL: number;
}

/** One Raft entry's worth of checkpoints; applied in order on every member. */
export interface LeaseCheckpointRequest {
  checkpoints: LeaseCheckpoint[];
}
