// A member's settings, with etcd's defaults where etcd has one.

/** etcd's --max-request-bytes default: 1.5 MiB. */
export const DEFAULT_MAX_REQUEST_BYTES = 1_572_864;

export interface MemberConfig {
  /** One Raft tick (etcd's --heartbeat-interval). */
  readonly heartbeatMs: number;
  /** etcd's --election-timeout; a whole number of heartbeats. Every member must agree on it. */
  readonly electionMs: number;
  /** A write whose encoded entry is larger fails with RequestTooLarge before Raft. */
  readonly maxRequestBytes: number;
  /** Most operations per txn level (etcd's --max-txn-ops). */
  readonly maxTxnOps: number;
  /** A proposal, read or forwarded request not answered by then fails with Timeout. */
  readonly requestTimeoutMs: number;
  /** A ReadIndex request with no answer is asked again after this long (etcd: 500 ms). */
  readonly readIndexRetryMs: number;
  /** How often unsynced watchers catch up from the log (etcd: 100 ms). */
  readonly watchSyncMs: number;
  /** etcd's --watch-progress-notify-interval (10 minutes). */
  readonly watchProgressNotifyMs: number;
  /** How often the leader looks for expired leases and due checkpoints. */
  readonly leaseTickMs: number;
  /** etcd's --lease-checkpoint-interval (5 minutes). */
  readonly leaseCheckpointIntervalMs: number;
  /** Upper bound on uncommitted entry bytes at the leader (raft's MaxUncommittedEntriesSize). */
  readonly maxUncommittedEntriesBytes: number;
  /** How long a leader waits to apply its backlog before a lease request (etcd: 1 s). */
  readonly applyWaitTimeoutMs: number;
  /** Pause before a forwarded lease request is tried again at the new leader (etcd: 50 ms). */
  readonly leaseForwardRetryMs: number;
  /** Attempts of one forwarded lease request, the first included. */
  readonly leaseForwardMaxAttempts: number;
  /** Watch responses a stream may hold before its watchers catch up from the log (etcd: 128). */
  readonly watchMaxQueuedResponses: number;
  /** etcd's --quota-backend-bytes; 0 or less means etcd's default, 2 GiB (see quota.ts). */
  readonly quotaBackendBytes: number;
  /** How long a simple auth token lives after its last use (etcd's --auth-token-ttl, 300 s). */
  readonly authTokenTtlMs: number;
}

export const DEFAULT_MEMBER_CONFIG: MemberConfig = {
  heartbeatMs: 100,
  electionMs: 1000,
  maxRequestBytes: DEFAULT_MAX_REQUEST_BYTES,
  maxTxnOps: 128,
  // etcd: 5 s plus two election timeouts.
  requestTimeoutMs: 7_000,
  readIndexRetryMs: 500,
  watchSyncMs: 100,
  watchProgressNotifyMs: 600_000,
  leaseTickMs: 500,
  leaseCheckpointIntervalMs: 300_000,
  maxUncommittedEntriesBytes: 1 << 30,
  applyWaitTimeoutMs: 1_000,
  leaseForwardRetryMs: 50,
  leaseForwardMaxAttempts: 10,
  watchMaxQueuedResponses: 128,
  quotaBackendBytes: 0,
  authTokenTtlMs: 300_000,
};

/** The defaults with `overrides` on top; asserts nothing, see Member for the checks. */
export function memberConfig(overrides: Partial<MemberConfig> = {}): MemberConfig {
  return { ...DEFAULT_MEMBER_CONFIG, ...overrides };
}
