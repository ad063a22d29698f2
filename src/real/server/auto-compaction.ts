// etcd's automatic compaction (--auto-compaction-mode/-retention), decided by a pure planner that
// the server drives from a timer:
//   - periodic, retention R: the current revision is sampled every period/10; at the end of each
//     period, history is compacted to the newest sample at least R old. The period is R when
//     R < 1 h and 1 h otherwise (etcd's rule since 3.3);
//   - revision, retention N: every 5 minutes, history is compacted to current - N.
// A planned revision at or below the last compaction is skipped.
import type { AutoCompaction } from "../config/server-config.js";

const HOUR_MS = 3_600_000;
const REVISION_CHECK_MS = 5 * 60_000;

export interface CompactionPlanner {
  /** How often the server calls `tick`. */
  readonly tickMs: number;
  /** The revision to compact to now, if any. */
  tick(nowMs: number, currentRevision: number): number | undefined;
  /** A compaction at `revision` succeeded (or found the store already compacted past it). */
  compacted(revision: number): void;
}

export function compactionPlanner(mode: AutoCompaction): CompactionPlanner | undefined {
  if (mode.mode === "periodic") {
    return mode.retentionMs > 0 ? new PeriodicPlanner(mode.retentionMs) : undefined;
  }
  return mode.retentionRevisions > 0 ? new RevisionPlanner(mode.retentionRevisions) : undefined;
}

class PeriodicPlanner implements CompactionPlanner {
  readonly tickMs: number;
  private readonly periodMs: number;
  private readonly samples: { atMs: number; revision: number }[] = [];
  private lastCompacted = 0;
  private nextCompactionMs: number | undefined;

  constructor(private readonly retentionMs: number) {
    this.periodMs = retentionMs < HOUR_MS ? retentionMs : HOUR_MS;
    this.tickMs = Math.max(1, Math.floor(this.periodMs / 10));
  }

  tick(nowMs: number, currentRevision: number): number | undefined {
    this.samples.push({ atMs: nowMs, revision: currentRevision });
    this.nextCompactionMs ??= nowMs + this.retentionMs;
    if (nowMs < this.nextCompactionMs) return undefined;
    this.nextCompactionMs = nowMs + this.periodMs;
    const old = this.samples.filter((s) => s.atMs <= nowMs - this.retentionMs);
    const target = old[old.length - 1];
    // Samples older than the one used are of no further use.
    this.samples.splice(0, Math.max(0, old.length - 1));
    if (target === undefined || target.revision <= this.lastCompacted) return undefined;
    return target.revision;
  }

  compacted(revision: number): void {
    this.lastCompacted = Math.max(this.lastCompacted, revision);
  }
}

class RevisionPlanner implements CompactionPlanner {
  readonly tickMs = REVISION_CHECK_MS;
  private lastCompacted = 0;

  constructor(private readonly retention: number) {}

  tick(_nowMs: number, currentRevision: number): number | undefined {
    const target = currentRevision - this.retention;
    return target > this.lastCompacted && target > 0 ? target : undefined;
  }

  compacted(revision: number): void {
    this.lastCompacted = Math.max(this.lastCompacted, revision);
  }
}
