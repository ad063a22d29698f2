// The lessor: leases granted, revoked and checkpointed through Raft, expired and renewed by the
// leader. See lessor.ts for how a member drives it.
export {
  DEFAULT_CHECKPOINT_BATCH_LIMIT,
  DEFAULT_CHECKPOINT_INTERVAL_MS,
  DEFAULT_EXPIRED_RETRY_MS,
  DEFAULT_REVOKE_BATCH_LIMIT,
  DEFAULT_REVOKE_WINDOW_MS,
  Lessor,
  minLeaseTtlSeconds,
  type GrantedLease,
  type KeepAliveOutcome,
  type LeasedKey,
  type LeaseTimeToLive,
  type LessorConfig,
  type LessorState,
  type RevokedLease,
} from "./lessor.js";
export { MAX_LEASE_TTL_SECONDS, type LeaseRecord } from "./lease-table.js";
export { decodeLessorState, encodeLessorState } from "./snapshot.js";
