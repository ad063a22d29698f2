import { describe, expect, it } from "vitest";
import {
  grpcCodeName,
  ServerMetrics,
  type MetricsSource,
  type PeerStats,
} from "../../src/real/metrics.js";
import { ETCD_CLUSTER_VERSION, ETCD_SERVER_VERSION } from "../../src/real/version.js";

// ---- a small parser of the Prometheus text format (0.0.4) ----------------------------------------

interface Sample {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly value: number;
}

interface Family {
  help?: string;
  type?: string;
  readonly samples: Sample[];
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/;
const LABEL = /\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(?:,|$)/y;

function parseLabels(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  LABEL.lastIndex = 0;
  while (LABEL.lastIndex < text.length) {
    const m = LABEL.exec(text);
    if (m === null) throw new Error(`bad labels: ${text}`);
    labels[m[1] as string] = (m[2] as string).replace(/\\(.)/g, (_, c: string) =>
      c === "n" ? "\n" : c,
    );
  }
  return labels;
}

function parseValue(text: string): number {
  if (text === "+Inf") return Infinity;
  if (text === "-Inf") return -Infinity;
  const v = Number(text);
  // Prometheus reads values with Go's ParseFloat, which takes NaN in any case (prom-client: "Nan").
  if (Number.isNaN(v) && text.toLowerCase() !== "nan") throw new Error(`bad value: ${text}`);
  return v;
}

/** Families by name; histogram series (_bucket, _sum, _count) go to their family. */
function parseExposition(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const family = (name: string): Family => {
    let f = families.get(name);
    if (f === undefined) families.set(name, (f = { samples: [] }));
    return f;
  };
  let current = "";
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    const meta = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line);
    if (meta !== null) {
      const [, kind, name = "", rest = ""] = meta;
      current = name;
      if (kind === "HELP") family(name).help = rest;
      else family(name).type = rest;
      continue;
    }
    const m = SAMPLE.exec(line);
    if (m === null) throw new Error(`bad line: ${line}`);
    const [, name = "", labels, value = ""] = m;
    const owner = name.startsWith(current) ? current : name;
    family(owner).samples.push({
      name,
      labels: parseLabels(labels ?? ""),
      value: parseValue(value),
    });
  }
  return families;
}

// ---- a fake member -------------------------------------------------------------------------------

class FakeSource implements MetricsSource {
  leader = true;
  leading = false;
  committed = 120;
  applied = 118;
  pending = 2;
  dbBytes = 409600;
  dbInUseBytes = 204800;
  quota = 2147483648;
  keys = 42;
  watchers = 7;
  slowWatchers = 1;
  revision = 300;
  compacted = 250;
  peerStats: PeerStats[] = [
    { id: "fd422379fda50e48", sentBytes: 1000, receivedBytes: 2000, sendFailures: 3 },
    { id: "91bc3c398fb3c146", sentBytes: 10, receivedBytes: 20, sendFailures: 0 },
  ];
  hasLeader = () => this.leader;
  isLeader = () => this.leading;
  proposalsCommitted = () => this.committed;
  proposalsApplied = () => this.applied;
  proposalsPending = () => this.pending;
  dbSizeBytes = () => this.dbBytes;
  dbSizeInUseBytes = () => this.dbInUseBytes;
  quotaBytes = () => this.quota;
  keysTotal = () => this.keys;
  watchersTotal = () => this.watchers;
  slowWatchersTotal = () => this.slowWatchers;
  currentRevision = () => this.revision;
  compactRevision = () => this.compacted;
  peers = () => this.peerStats;
}

async function scrape(metrics: ServerMetrics): Promise<Map<string, Family>> {
  return parseExposition(await metrics.render());
}

function only(families: Map<string, Family>, name: string): Family {
  const f = families.get(name);
  if (f === undefined) throw new Error(`no metric ${name}`);
  return f;
}

function value(families: Map<string, Family>, name: string, labels: Record<string, string> = {}) {
  const family = [...families.values()].find((f) => f.samples.some((s) => s.name === name));
  const found = (family?.samples ?? []).filter(
    (s) =>
      s.name === name &&
      Object.keys(labels).length === Object.keys(s.labels).length &&
      Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
  if (found.length !== 1)
    throw new Error(`${found.length} samples of ${name} ${JSON.stringify(labels)}`);
  return found[0]?.value;
}

const DISK_BUCKETS = [
  "0.001",
  "0.002",
  "0.004",
  "0.008",
  "0.016",
  "0.032",
  "0.064",
  "0.128",
  "0.256",
  "0.512",
  "1.024",
  "2.048",
  "4.096",
  "8.192",
  "+Inf",
];

describe("ServerMetrics", () => {
  it("exposes etcd's metric names with their types", async () => {
    const families = await scrape(new ServerMetrics({ source: new FakeSource() }));
    const types: Record<string, string> = {
      etcd_server_has_leader: "gauge",
      etcd_server_is_leader: "gauge",
      etcd_server_leader_changes_seen_total: "counter",
      etcd_server_proposals_committed_total: "gauge",
      etcd_server_proposals_applied_total: "gauge",
      etcd_server_proposals_pending: "gauge",
      etcd_server_proposals_failed_total: "counter",
      etcd_server_id: "gauge",
      etcd_server_version: "gauge",
      etcd_cluster_version: "gauge",
      etcd_disk_wal_fsync_duration_seconds: "histogram",
      etcd_disk_backend_commit_duration_seconds: "histogram",
      etcd_mvcc_db_total_size_in_bytes: "gauge",
      etcd_mvcc_db_total_size_in_use_in_bytes: "gauge",
      etcd_server_quota_backend_bytes: "gauge",
      etcd_network_peer_round_trip_time_seconds: "histogram",
      etcd_network_peer_sent_bytes_total: "counter",
      etcd_network_peer_received_bytes_total: "counter",
      etcd_network_peer_sent_failures_total: "counter",
      etcd_network_client_grpc_sent_bytes_total: "counter",
      etcd_network_client_grpc_received_bytes_total: "counter",
      grpc_server_started_total: "counter",
      grpc_server_handled_total: "counter",
      grpc_server_msg_received_total: "counter",
      grpc_server_msg_sent_total: "counter",
      etcd_debugging_mvcc_keys_total: "gauge",
      etcd_debugging_mvcc_watcher_total: "gauge",
      etcd_debugging_mvcc_slow_watcher_total: "gauge",
      etcd_debugging_mvcc_current_revision: "gauge",
      etcd_debugging_mvcc_compact_revision: "gauge",
      etcd_mvcc_put_total: "counter",
      etcd_mvcc_delete_total: "counter",
      etcd_mvcc_range_total: "counter",
      etcd_mvcc_txn_total: "counter",
      etcd_debugging_lease_granted_total: "counter",
      etcd_debugging_lease_revoked_total: "counter",
      etcd_debugging_lease_renewed_total: "counter",
      process_resident_memory_bytes: "gauge",
      process_cpu_seconds_total: "counter",
    };
    for (const [name, type] of Object.entries(types)) {
      expect(only(families, name).type, name).toBe(type);
      expect(only(families, name).help?.length, name).toBeGreaterThan(5);
    }
  });

  it("reads sourced gauges at each scrape", async () => {
    const source = new FakeSource();
    const metrics = new ServerMetrics({ source, processMetrics: false });
    let f = await scrape(metrics);
    expect(value(f, "etcd_server_has_leader")).toBe(1);
    expect(value(f, "etcd_server_is_leader")).toBe(0);
    expect(value(f, "etcd_server_proposals_committed_total")).toBe(120);
    expect(value(f, "etcd_server_proposals_applied_total")).toBe(118);
    expect(value(f, "etcd_server_proposals_pending")).toBe(2);
    expect(value(f, "etcd_mvcc_db_total_size_in_bytes")).toBe(409600);
    expect(value(f, "etcd_mvcc_db_total_size_in_use_in_bytes")).toBe(204800);
    expect(value(f, "etcd_server_quota_backend_bytes")).toBe(2147483648);
    expect(value(f, "etcd_debugging_mvcc_keys_total")).toBe(42);
    expect(value(f, "etcd_debugging_mvcc_watcher_total")).toBe(7);
    expect(value(f, "etcd_debugging_mvcc_slow_watcher_total")).toBe(1);
    expect(value(f, "etcd_debugging_mvcc_current_revision")).toBe(300);
    expect(value(f, "etcd_debugging_mvcc_compact_revision")).toBe(250);

    source.leader = false;
    source.leading = false;
    source.committed = 121;
    source.revision = 301;
    f = await scrape(metrics);
    expect(value(f, "etcd_server_has_leader")).toBe(0);
    expect(value(f, "etcd_server_proposals_committed_total")).toBe(121);
    expect(value(f, "etcd_debugging_mvcc_current_revision")).toBe(301);
  });

  it("peer counters carry the source's cumulative totals, labelled To / From, sorted", async () => {
    const source = new FakeSource();
    const metrics = new ServerMetrics({ source, processMetrics: false });
    let f = await scrape(metrics);
    expect(only(f, "etcd_network_peer_sent_bytes_total").samples).toEqual([
      { name: "etcd_network_peer_sent_bytes_total", labels: { To: "91bc3c398fb3c146" }, value: 10 },
      {
        name: "etcd_network_peer_sent_bytes_total",
        labels: { To: "fd422379fda50e48" },
        value: 1000,
      },
    ]);
    expect(value(f, "etcd_network_peer_received_bytes_total", { From: "fd422379fda50e48" })).toBe(
      2000,
    );
    expect(value(f, "etcd_network_peer_sent_failures_total", { To: "fd422379fda50e48" })).toBe(3);
    expect(value(f, "etcd_network_peer_sent_failures_total", { To: "91bc3c398fb3c146" })).toBe(0);

    // A second scrape shows the new totals, not totals added twice; a peer that left drops out.
    source.peerStats = [
      { id: "fd422379fda50e48", sentBytes: 1500, receivedBytes: 2100, sendFailures: 3 },
    ];
    await scrape(metrics);
    f = await scrape(metrics);
    expect(only(f, "etcd_network_peer_sent_bytes_total").samples).toEqual([
      {
        name: "etcd_network_peer_sent_bytes_total",
        labels: { To: "fd422379fda50e48" },
        value: 1500,
      },
    ]);
    expect(value(f, "etcd_network_peer_received_bytes_total", { From: "fd422379fda50e48" })).toBe(
      2100,
    );
  });

  it("without a source, gauges read 0 and peer counters are empty; setSource attaches one", async () => {
    const metrics = new ServerMetrics({ processMetrics: false });
    let f = await scrape(metrics);
    expect(value(f, "etcd_server_has_leader")).toBe(0);
    expect(only(f, "etcd_network_peer_sent_bytes_total").samples).toEqual([]);
    metrics.setSource(new FakeSource());
    f = await scrape(metrics);
    expect(value(f, "etcd_server_has_leader")).toBe(1);
  });

  it("counts events the host reports", async () => {
    const metrics = new ServerMetrics({ processMetrics: false });
    metrics.leaderChanged();
    metrics.leaderChanged();
    metrics.proposalFailed();
    metrics.clientGrpcSent(300);
    metrics.clientGrpcReceived(120);
    metrics.clientGrpcReceived(5);
    metrics.mvccRange();
    metrics.mvccRange(2);
    metrics.mvccPut();
    metrics.mvccDelete();
    metrics.mvccTxn(4);
    metrics.leaseGranted();
    metrics.leaseRevoked();
    metrics.leaseRenewed(3);
    const f = await scrape(metrics);
    const expected: Record<string, number> = {
      etcd_server_leader_changes_seen_total: 2,
      etcd_server_proposals_failed_total: 1,
      etcd_network_client_grpc_sent_bytes_total: 300,
      etcd_network_client_grpc_received_bytes_total: 125,
      etcd_mvcc_range_total: 3,
      etcd_mvcc_put_total: 1,
      etcd_mvcc_delete_total: 1,
      etcd_mvcc_txn_total: 4,
      etcd_debugging_lease_granted_total: 1,
      etcd_debugging_lease_revoked_total: 1,
      etcd_debugging_lease_renewed_total: 3,
    };
    for (const [name, v] of Object.entries(expected)) expect(value(f, name), name).toBe(v);
  });

  it("disk histograms use etcd's buckets: 1 ms doubling, 14 buckets", async () => {
    const metrics = new ServerMetrics({ processMetrics: false });
    metrics.walFsync(0.0005);
    metrics.walFsync(0.003);
    metrics.walFsync(20);
    metrics.backendCommit(0.05);
    const f = await scrape(metrics);
    const wal = only(f, "etcd_disk_wal_fsync_duration_seconds").samples;
    const buckets = wal.filter((s) => s.name.endsWith("_bucket"));
    expect(buckets.map((s) => s.labels.le)).toEqual(DISK_BUCKETS);
    expect(buckets.map((s) => s.value)).toEqual([1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 3]);
    expect(value(f, "etcd_disk_wal_fsync_duration_seconds_count")).toBe(3);
    expect(value(f, "etcd_disk_wal_fsync_duration_seconds_sum")).toBeCloseTo(20.0035, 9);
    const commit = only(f, "etcd_disk_backend_commit_duration_seconds").samples;
    expect(commit.filter((s) => s.name.endsWith("_bucket")).map((s) => s.labels.le)).toEqual(
      DISK_BUCKETS,
    );
    expect(value(f, "etcd_disk_backend_commit_duration_seconds_bucket", { le: "0.032" })).toBe(0);
    expect(value(f, "etcd_disk_backend_commit_duration_seconds_bucket", { le: "0.064" })).toBe(1);
  });

  it("peer round trips: a histogram per peer, 0.1 ms doubling, 16 buckets", async () => {
    const metrics = new ServerMetrics({ processMetrics: false });
    metrics.peerRoundTrip("fd422379fda50e48", 0.00015);
    metrics.peerRoundTrip("fd422379fda50e48", 0.01);
    const f = await scrape(metrics);
    const buckets = only(f, "etcd_network_peer_round_trip_time_seconds").samples.filter((s) =>
      s.name.endsWith("_bucket"),
    );
    expect(buckets.map((s) => s.labels.le)).toEqual([
      "0.0001",
      "0.0002",
      "0.0004",
      "0.0008",
      "0.0016",
      "0.0032",
      "0.0064",
      "0.0128",
      "0.0256",
      "0.0512",
      "0.1024",
      "0.2048",
      "0.4096",
      "0.8192",
      "1.6384",
      "3.2768",
      "+Inf",
    ]);
    expect(buckets.every((s) => s.labels.To === "fd422379fda50e48")).toBe(true);
    expect(
      value(f, "etcd_network_peer_round_trip_time_seconds_bucket", {
        To: "fd422379fda50e48",
        le: "0.0002",
      }),
    ).toBe(1);
    expect(
      value(f, "etcd_network_peer_round_trip_time_seconds_count", { To: "fd422379fda50e48" }),
    ).toBe(2);
  });

  it("a source's latest peer RTT is sampled into the histogram once per scrape", async () => {
    const source = new FakeSource();
    source.peerStats = [
      {
        id: "fd422379fda50e48",
        sentBytes: 0,
        receivedBytes: 0,
        sendFailures: 0,
        lastRttSeconds: 0.003,
      },
      { id: "91bc3c398fb3c146", sentBytes: 0, receivedBytes: 0, sendFailures: 0 },
    ];
    const metrics = new ServerMetrics({ source, processMetrics: false });
    await scrape(metrics);
    const f = await scrape(metrics);
    const to = { To: "fd422379fda50e48" };
    expect(value(f, "etcd_network_peer_round_trip_time_seconds_count", to)).toBe(2);
    expect(value(f, "etcd_network_peer_round_trip_time_seconds_sum", to)).toBeCloseTo(0.006, 9);
    expect(
      value(f, "etcd_network_peer_round_trip_time_seconds_bucket", { ...to, le: "0.0016" }),
    ).toBe(0);
    expect(
      value(f, "etcd_network_peer_round_trip_time_seconds_bucket", { ...to, le: "0.0032" }),
    ).toBe(2);
    const series = only(f, "etcd_network_peer_round_trip_time_seconds").samples;
    expect(series.some((s) => s.labels.To === "91bc3c398fb3c146")).toBe(false);
  });

  it("gRPC counters carry go-grpc-prometheus's labels", async () => {
    const metrics = new ServerMetrics({ processMetrics: false });
    metrics.initGrpcMethod("unary", "etcdserverpb.KV", "Put");
    metrics.grpcStarted("unary", "etcdserverpb.KV", "Range");
    metrics.grpcMsgReceived("unary", "etcdserverpb.KV", "Range");
    metrics.grpcMsgSent("unary", "etcdserverpb.KV", "Range");
    metrics.grpcHandled("unary", "etcdserverpb.KV", "Range", "OK");
    metrics.grpcStarted("bidi_stream", "etcdserverpb.Watch", "Watch");
    metrics.grpcMsgReceived("bidi_stream", "etcdserverpb.Watch", "Watch");
    metrics.grpcMsgReceived("bidi_stream", "etcdserverpb.Watch", "Watch");
    metrics.grpcHandled("bidi_stream", "etcdserverpb.Watch", "Watch", grpcCodeName(1));
    const f = await scrape(metrics);
    const range = { grpc_type: "unary", grpc_service: "etcdserverpb.KV", grpc_method: "Range" };
    const watch = {
      grpc_type: "bidi_stream",
      grpc_service: "etcdserverpb.Watch",
      grpc_method: "Watch",
    };
    const put = { grpc_type: "unary", grpc_service: "etcdserverpb.KV", grpc_method: "Put" };
    expect(value(f, "grpc_server_started_total", range)).toBe(1);
    expect(value(f, "grpc_server_handled_total", { ...range, grpc_code: "OK" })).toBe(1);
    expect(value(f, "grpc_server_msg_received_total", range)).toBe(1);
    expect(value(f, "grpc_server_msg_sent_total", range)).toBe(1);
    expect(value(f, "grpc_server_msg_received_total", watch)).toBe(2);
    expect(value(f, "grpc_server_handled_total", { ...watch, grpc_code: "Canceled" })).toBe(1);
    // An initialized method's series exist at 0, one handled series per code.
    expect(value(f, "grpc_server_started_total", put)).toBe(0);
    expect(value(f, "grpc_server_handled_total", { ...put, grpc_code: "Unavailable" })).toBe(0);
    const putHandled = only(f, "grpc_server_handled_total").samples.filter(
      (s) => s.labels.grpc_method === "Put",
    );
    expect(putHandled).toHaveLength(17);
  });

  it("identity gauges: server id, server and cluster versions", async () => {
    const metrics = new ServerMetrics({ processMetrics: false });
    let f = await scrape(metrics);
    expect(only(f, "etcd_server_id").samples).toEqual([]);
    expect(value(f, "etcd_server_version", { server_version: ETCD_SERVER_VERSION })).toBe(1);
    expect(value(f, "etcd_cluster_version", { cluster_version: ETCD_CLUSTER_VERSION })).toBe(1);
    metrics.setServerId("8e9e05c52164694d");
    metrics.setServerId("8e9e05c52164694e");
    metrics.setClusterVersion("3.5.1");
    f = await scrape(metrics);
    expect(only(f, "etcd_server_id").samples).toEqual([
      { name: "etcd_server_id", labels: { server_id: "8e9e05c52164694e" }, value: 1 },
    ]);
    expect(only(f, "etcd_cluster_version").samples).toEqual([
      { name: "etcd_cluster_version", labels: { cluster_version: "3.5.1" }, value: 1 },
    ]);
  });

  it("grpcCodeName follows gRPC's numbering", () => {
    expect([0, 4, 8, 14, 16, 99].map(grpcCodeName)).toEqual([
      "OK",
      "DeadlineExceeded",
      "ResourceExhausted",
      "Unavailable",
      "Unauthenticated",
      "Unknown",
    ]);
  });

  it("renders the Prometheus text content type; two instances do not share series", async () => {
    const a = new ServerMetrics({ processMetrics: false });
    const b = new ServerMetrics({ processMetrics: false });
    a.leaderChanged();
    expect(a.contentType).toBe("text/plain; version=0.0.4; charset=utf-8");
    expect(value(await scrape(b), "etcd_server_leader_changes_seen_total")).toBe(0);
    expect(value(await scrape(a), "etcd_server_leader_changes_seen_total")).toBe(1);
  });

  it("process metrics include the resident memory", async () => {
    const f = await scrape(new ServerMetrics());
    expect(value(f, "process_resident_memory_bytes")).toBeGreaterThan(1_000_000);
  });
});
