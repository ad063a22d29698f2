// What /metrics reads from a running member at scrape time (peer traffic and round trips included),
// and leader changes, which the host samples on a short timer.
import type { Member } from "../../server/member.js";
import type { MetricsSource, PeerStats, ServerMetrics } from "../metrics.js";
import type { PeerTransport } from "../peer/transport.js";

export function metricsSourceOf(member: Member, transport: PeerTransport): MetricsSource {
  return {
    hasLeader: () => member.leader !== 0,
    isLeader: () => member.isLeader,
    proposalsCommitted: () => member.status().commitIndex,
    proposalsApplied: () => member.status().appliedIndex,
    proposalsPending: () => member.pendingProposals,
    dbSizeBytes: () => member.dbSizeBytes,
    dbSizeInUseBytes: () => member.dbSizeInUseBytes,
    quotaBytes: () => member.config.quotaBackendBytes,
    keysTotal: () => member.kv.keyCount,
    watchersTotal: () => member.watchable.watcherCounts().total,
    slowWatchersTotal: () => member.watchable.watcherCounts().unsynced,
    currentRevision: () => member.kv.currentRevision,
    compactRevision: () => member.kv.compactRevision,
    peers: () => {
      const out: PeerStats[] = [];
      for (const [id, s] of transport.stats()) {
        out.push({
          id: id.toString(16),
          sentBytes: s.sentBytes,
          receivedBytes: s.receivedBytes,
          sendFailures: s.sendFailures,
          ...(s.lastRttSeconds === undefined ? {} : { lastRttSeconds: s.lastRttSeconds }),
        });
      }
      return out;
    },
  };
}

/** Samples leader changes between scrapes: each new leader seen counts one (as etcd counts). */
export class LeaderChangeSampler {
  private lastLeader = 0;

  constructor(
    private readonly member: Member,
    private readonly metrics: ServerMetrics,
  ) {}

  sample(): void {
    const leader = this.member.leader;
    if (leader !== 0 && leader !== this.lastLeader) this.metrics.leaderChanged();
    if (leader !== 0) this.lastLeader = leader;
  }
}
