// Prometheus metrics of a detcd member under etcd's names, types and labels, so etcd's dashboards
// and alerts (contrib/mixin) work unchanged. Two kinds of inputs:
// - state the member already keeps (leadership, proposal indexes, sizes, revisions, peer traffic
//   totals) is read from a MetricsSource when Prometheus scrapes, never copied on every change;
// - events only the host sees (an fsync's duration, a gRPC call finishing) are counted through
//   methods of ServerMetrics that the host calls as they happen.
// Each ServerMetrics owns its registry (no global state), so several members share a process.
import {
  Counter,
  Gauge,
  Histogram,
  Registry,
  collectDefaultMetrics,
  exponentialBuckets,
} from "prom-client";
import { ETCD_CLUSTER_VERSION, ETCD_SERVER_VERSION } from "./version.js";

/** Cumulative traffic with one peer since this process started. Counts never decrease. */
export interface PeerStats {
  /** The peer's member ID as etcd prints it: lower-case hex without padding. */
  readonly id: string;
  readonly sentBytes: number;
  readonly receivedBytes: number;
  readonly sendFailures: number;
  /**
   * The latest measured round-trip time, if any. Each scrape adds it to the round-trip histogram
   * once, so the histogram samples the RTT at the scrape rate. A host that sees every measurement
   * calls ServerMetrics.peerRoundTrip instead and leaves this out (doing both counts twice).
   */
  readonly lastRttSeconds?: number | undefined;
}

/**
 * What the member knows, read at scrape time. Every method is cheap and side-effect free; it is
 * called once per scrape, outside the member's Ready loop, and must not throw.
 */
export interface MetricsSource {
  hasLeader(): boolean;
  isLeader(): boolean;
  /** Raft's commit index, as etcd's proposals_committed_total. */
  proposalsCommitted(): number;
  /** The applied index, as etcd's proposals_applied_total. */
  proposalsApplied(): number;
  /** Proposals this member made that are not yet applied. */
  proposalsPending(): number;
  dbSizeBytes(): number;
  dbSizeInUseBytes(): number;
  /** The effective backend quota. */
  quotaBytes(): number;
  keysTotal(): number;
  watchersTotal(): number;
  /** Watchers behind the current revision (etcd's unsynced watchers). */
  slowWatchersTotal(): number;
  currentRevision(): number;
  compactRevision(): number;
  /** Traffic per peer, in any order (sorted by id when rendered). */
  peers(): readonly PeerStats[];
}

export type GrpcType = "unary" | "client_stream" | "server_stream" | "bidi_stream";

/** gRPC status code names as Go prints them (the grpc_code label). */
export const GRPC_CODE_NAMES = [
  "OK",
  "Canceled",
  "Unknown",
  "InvalidArgument",
  "DeadlineExceeded",
  "NotFound",
  "AlreadyExists",
  "PermissionDenied",
  "ResourceExhausted",
  "FailedPrecondition",
  "Aborted",
  "OutOfRange",
  "Unimplemented",
  "Internal",
  "Unavailable",
  "DataLoss",
  "Unauthenticated",
] as const;

export type GrpcCodeName = (typeof GRPC_CODE_NAMES)[number];

/** The name of a numeric gRPC status code (@grpc/grpc-js's `status`); unknown numbers are Unknown. */
export function grpcCodeName(code: number): GrpcCodeName {
  return GRPC_CODE_NAMES[code] ?? "Unknown";
}

export interface ServerMetricsOptions {
  /** Read at scrape time; without one, sourced gauges read 0 and no peer series appear. */
  readonly source?: MetricsSource;
  /** Adds prom-client's process_* and nodejs_* metrics (default true). */
  readonly processMetrics?: boolean;
}

/** etcd's disk latency buckets: 1 ms doubling up to 8.192 s. */
const DISK_BUCKETS_SECONDS = exponentialBuckets(0.001, 2, 14);
/** etcd's peer round-trip buckets: 0.1 ms doubling up to 3.2768 s. */
const RTT_BUCKETS_SECONDS = exponentialBuckets(0.0001, 2, 16);
const GRPC_LABELS = ["grpc_type", "grpc_service", "grpc_method"] as const;

type GrpcLabel = (typeof GRPC_LABELS)[number];
type SourceRead = (source: MetricsSource) => number;

export class ServerMetrics {
  readonly registry = new Registry();
  private source: MetricsSource | undefined;

  private readonly leaderChanges = this.counter(
    "etcd_server_leader_changes_seen_total",
    "Leader changes this member has seen.",
  );
  private readonly proposalsFailed = this.counter(
    "etcd_server_proposals_failed_total",
    "Proposals that failed (timed out, dropped or lost to a leader change).",
  );
  private readonly serverId = this.labelledGauge(
    "etcd_server_id",
    "This member's ID in hex; 1 on the 'server_id' label.",
    ["server_id"],
  );
  private readonly clusterVersion = this.labelledGauge(
    "etcd_cluster_version",
    "The cluster version; 1 on the 'cluster_version' label.",
    ["cluster_version"],
  );
  private readonly walFsyncSeconds = this.histogram(
    "etcd_disk_wal_fsync_duration_seconds",
    "Latency of the WAL's fsync calls.",
    DISK_BUCKETS_SECONDS,
  );
  private readonly backendCommitSeconds = this.histogram(
    "etcd_disk_backend_commit_duration_seconds",
    "Latency of backend commits.",
    DISK_BUCKETS_SECONDS,
  );
  private readonly peerRttSeconds = this.registerPeerRtt();
  private readonly clientGrpcSentBytes = this.counter(
    "etcd_network_client_grpc_sent_bytes_total",
    "Bytes sent to gRPC clients.",
  );
  private readonly clientGrpcReceivedBytes = this.counter(
    "etcd_network_client_grpc_received_bytes_total",
    "Bytes received from gRPC clients.",
  );
  // The gRPC counters read these plain counts when scraped (see GrpcCounts).
  private readonly startedCounts = new GrpcCounts();
  private readonly handledCounts = new GrpcCounts();
  private readonly msgReceivedCounts = new GrpcCounts();
  private readonly msgSentCounts = new GrpcCounts();
  private readonly grpcStartedTotal = this.grpcCounter(
    "grpc_server_started_total",
    "RPCs started on the server.",
    this.startedCounts,
  );
  private readonly grpcHandledTotal = this.grpcCounter(
    "grpc_server_handled_total",
    "RPCs completed on the server, whatever their status.",
    this.handledCounts,
    ["grpc_code"],
  );
  private readonly grpcMsgReceivedTotal = this.grpcCounter(
    "grpc_server_msg_received_total",
    "RPC stream messages received by the server.",
    this.msgReceivedCounts,
  );
  private readonly grpcMsgSentTotal = this.grpcCounter(
    "grpc_server_msg_sent_total",
    "RPC stream messages sent by the server.",
    this.msgSentCounts,
  );
  private readonly mvccOps = {
    range: this.counter("etcd_mvcc_range_total", "Ranges seen by this member."),
    put: this.counter("etcd_mvcc_put_total", "Puts seen by this member."),
    delete: this.counter("etcd_mvcc_delete_total", "Deletes seen by this member."),
    txn: this.counter("etcd_mvcc_txn_total", "Transactions seen by this member."),
  };
  private readonly leaseOps = {
    granted: this.counter("etcd_debugging_lease_granted_total", "Leases granted."),
    revoked: this.counter("etcd_debugging_lease_revoked_total", "Leases revoked."),
    renewed: this.counter(
      "etcd_debugging_lease_renewed_total",
      "Lease renewals seen by the leader.",
    ),
  };

  constructor(options: ServerMetricsOptions = {}) {
    this.source = options.source;
    this.registerSourcedGauges();
    this.registerPeerCounters();
    this.labelledGauge(
      "etcd_server_version",
      "The etcd version this member answers as; 1 on the 'server_version' label.",
      ["server_version"],
    ).set({ server_version: ETCD_SERVER_VERSION }, 1);
    this.clusterVersion.set({ cluster_version: ETCD_CLUSTER_VERSION }, 1);
    if (options.processMetrics !== false) collectDefaultMetrics({ register: this.registry });
  }

  /** Where sourced gauges read from; replaces any earlier source. */
  setSource(source: MetricsSource): void {
    this.source = source;
  }

  /** This member's ID (hex), once known; replaces an earlier one. */
  setServerId(idHex: string): void {
    this.serverId.reset();
    this.serverId.set({ server_id: idHex }, 1);
  }

  /** The cluster version, when the cluster decides one (starts at ETCD_CLUSTER_VERSION). */
  setClusterVersion(version: string): void {
    this.clusterVersion.reset();
    this.clusterVersion.set({ cluster_version: version }, 1);
  }

  leaderChanged(): void {
    this.leaderChanges.inc();
  }

  proposalFailed(): void {
    this.proposalsFailed.inc();
  }

  walFsync(seconds: number): void {
    this.walFsyncSeconds.observe(seconds);
  }

  backendCommit(seconds: number): void {
    this.backendCommitSeconds.observe(seconds);
  }

  /** One round-trip time measured to a peer (hex ID). */
  peerRoundTrip(peerId: string, seconds: number): void {
    this.peerRttSeconds.observe({ To: peerId }, seconds);
  }

  clientGrpcSent(bytes: number): void {
    this.clientGrpcSentBytes.inc(bytes);
  }

  clientGrpcReceived(bytes: number): void {
    this.clientGrpcReceivedBytes.inc(bytes);
  }

  /**
   * Makes a method's series exist at 0 before its first call (go-grpc-prometheus does the same),
   * so rates over them are defined from the start.
   */
  initGrpcMethod(type: GrpcType, service: string, method: string): void {
    this.startedCounts.add(type, service, method, undefined, 0);
    this.msgReceivedCounts.add(type, service, method, undefined, 0);
    this.msgSentCounts.add(type, service, method, undefined, 0);
    for (const code of GRPC_CODE_NAMES) this.handledCounts.add(type, service, method, code, 0);
  }

  grpcStarted(type: GrpcType, service: string, method: string): void {
    this.startedCounts.add(type, service, method);
  }

  grpcHandled(type: GrpcType, service: string, method: string, code: GrpcCodeName): void {
    this.handledCounts.add(type, service, method, code);
  }

  grpcMsgReceived(type: GrpcType, service: string, method: string): void {
    this.msgReceivedCounts.add(type, service, method);
  }

  grpcMsgSent(type: GrpcType, service: string, method: string): void {
    this.msgSentCounts.add(type, service, method);
  }

  mvccRange(count = 1): void {
    this.mvccOps.range.inc(count);
  }

  mvccPut(count = 1): void {
    this.mvccOps.put.inc(count);
  }

  mvccDelete(count = 1): void {
    this.mvccOps.delete.inc(count);
  }

  mvccTxn(count = 1): void {
    this.mvccOps.txn.inc(count);
  }

  leaseGranted(count = 1): void {
    this.leaseOps.granted.inc(count);
  }

  leaseRevoked(count = 1): void {
    this.leaseOps.revoked.inc(count);
  }

  leaseRenewed(count = 1): void {
    this.leaseOps.renewed.inc(count);
  }

  /** The Prometheus text exposition of every metric (reads the source). */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  /** The Content-Type of render()'s text. */
  get contentType(): string {
    return this.registry.contentType;
  }

  // ---- registration ------------------------------------------------------------------------------

  private counter(name: string, help: string): Counter {
    return new Counter({ name, help, registers: [this.registry] });
  }

  /** A gRPC counter whose values come from `counts` at each scrape. */
  private grpcCounter(
    name: string,
    help: string,
    counts: GrpcCounts,
    extraLabels: string[] = [],
  ): Counter<string> {
    return new Counter({
      name,
      help,
      labelNames: [...GRPC_LABELS, ...extraLabels],
      registers: [this.registry],
      collect() {
        counts.publish(this);
      },
    });
  }

  private histogram(name: string, help: string, buckets: number[]): Histogram {
    return new Histogram({ name, help, buckets, registers: [this.registry] });
  }

  private labelledGauge<L extends string>(name: string, help: string, labels: L[]): Gauge<L> {
    return new Gauge({ name, help, labelNames: labels, registers: [this.registry] });
  }

  /** A gauge whose value is read from the source at each scrape. */
  private sourcedGauge(name: string, help: string, read: SourceRead): void {
    const current = () => this.source;
    new Gauge({
      name,
      help,
      registers: [this.registry],
      collect() {
        const source = current();
        this.set(source === undefined ? 0 : read(source));
      },
    });
  }

  private registerSourcedGauges(): void {
    for (const [name, help, read] of SOURCED_GAUGES) this.sourcedGauge(name, help, read);
  }

  /** etcd's peer round-trip histogram, also fed by the source's latest RTT at each scrape. */
  private registerPeerRtt(): Histogram<"To"> {
    const current = () => this.source;
    return new Histogram({
      name: "etcd_network_peer_round_trip_time_seconds",
      help: "Round-trip time to each peer.",
      labelNames: ["To"],
      buckets: RTT_BUCKETS_SECONDS,
      registers: [this.registry],
      collect() {
        for (const peer of sortedPeers(current()))
          if (peer.lastRttSeconds !== undefined) this.observe({ To: peer.id }, peer.lastRttSeconds);
      },
    });
  }

  /**
   * Peer traffic counters hold the source's cumulative totals: at each scrape they are cleared and
   * set to the totals, so a peer that left drops out and the values never drift from the source.
   */
  private registerPeerCounters(): void {
    const current = () => this.source;
    const peerCounter = (name: string, help: string, label: "To" | "From", read: PeerRead) =>
      new Counter({
        name,
        help,
        labelNames: [label],
        registers: [this.registry],
        collect() {
          this.reset();
          for (const peer of sortedPeers(current())) this.inc({ [label]: peer.id }, read(peer));
        },
      });
    peerCounter(
      "etcd_network_peer_sent_bytes_total",
      "Bytes sent to peers.",
      "To",
      (p) => p.sentBytes,
    );
    peerCounter(
      "etcd_network_peer_received_bytes_total",
      "Bytes received from peers.",
      "From",
      (p) => p.receivedBytes,
    );
    peerCounter(
      "etcd_network_peer_sent_failures_total",
      "Failed sends to peers.",
      "To",
      (p) => p.sendFailures,
    );
  }
}

type PeerRead = (peer: PeerStats) => number;

function sortedPeers(source: MetricsSource | undefined): PeerStats[] {
  if (source === undefined) return [];
  return [...source.peers()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/**
 * gRPC call counts per method (and code) kept as plain numbers and handed to a prom-client counter
 * when it is scraped: a labelled inc hashes its labels on every call, and these counters move on
 * every call a member serves.
 */
class GrpcCounts {
  private readonly counts = new Map<
    string,
    { labels: Partial<Record<GrpcLabel | "grpc_code", string>>; value: number }
  >();

  add(type: GrpcType, service: string, method: string, code?: GrpcCodeName, by = 1): void {
    const key = `${type}/${service}/${method}/${code ?? ""}`;
    const c = this.counts.get(key);
    if (c !== undefined) {
      c.value += by;
      return;
    }
    const labels = grpcLabels(type, service, method);
    this.counts.set(key, {
      labels: code === undefined ? labels : { ...labels, grpc_code: code },
      value: by,
    });
  }

  publish(counter: Counter<string>): void {
    counter.reset();
    for (const { labels, value } of this.counts.values()) counter.inc(labels, value);
  }
}

function grpcLabels(type: GrpcType, service: string, method: string): Record<GrpcLabel, string> {
  return { grpc_type: type, grpc_service: service, grpc_method: method };
}

const bit = (b: boolean): number => (b ? 1 : 0);

const SOURCED_GAUGES: readonly (readonly [string, string, SourceRead])[] = [
  ["etcd_server_has_leader", "1 if a leader exists, 0 if not.", (s) => bit(s.hasLeader())],
  ["etcd_server_is_leader", "1 if this member is the leader, 0 if not.", (s) => bit(s.isLeader())],
  [
    "etcd_server_proposals_committed_total",
    "Consensus proposals committed (the commit index).",
    (s) => s.proposalsCommitted(),
  ],
  [
    "etcd_server_proposals_applied_total",
    "Consensus proposals applied (the applied index).",
    (s) => s.proposalsApplied(),
  ],
  [
    "etcd_server_proposals_pending",
    "Proposals waiting to be committed.",
    (s) => s.proposalsPending(),
  ],
  [
    "etcd_mvcc_db_total_size_in_bytes",
    "Size of the backend database on disk, in bytes.",
    (s) => s.dbSizeBytes(),
  ],
  [
    "etcd_mvcc_db_total_size_in_use_in_bytes",
    "Bytes of the backend database holding live data.",
    (s) => s.dbSizeInUseBytes(),
  ],
  ["etcd_server_quota_backend_bytes", "The backend quota, in bytes.", (s) => s.quotaBytes()],
  ["etcd_debugging_mvcc_keys_total", "Keys in the store.", (s) => s.keysTotal()],
  ["etcd_debugging_mvcc_watcher_total", "Watchers.", (s) => s.watchersTotal()],
  [
    "etcd_debugging_mvcc_slow_watcher_total",
    "Watchers not yet synced to the current revision.",
    (s) => s.slowWatchersTotal(),
  ],
  [
    "etcd_debugging_mvcc_current_revision",
    "The store's current revision.",
    (s) => s.currentRevision(),
  ],
  [
    "etcd_debugging_mvcc_compact_revision",
    "The revision of the last compaction.",
    (s) => s.compactRevision(),
  ],
];
