// etcd's watch guarantees, checked per recorded watch against the replay of committed entries.
//
// Input: one WatchRecord per watch (see watch/record.ts: the create request and every response the
// client received for it, in order) and the CommittedHistory of the run (watch/committed.ts: every
// revision that changed a key, with its events). Output: Violations named after the guarantee:
//
//   watch-ordered       event revisions never decrease along the watch
//   watch-unique        no (revision, key) arrives twice
//   watch-atomic        a revision's events arrive whole and in one response (or a fragment run)
//   watch-reliable      no gap, no phantom between the first event and the last observed revision
//   watch-resumable     a watch from revision S starts with the first selected change at or after S
//   watch-bookmarkable  nothing at or below a progress notification arrives after it
//   watch-prevkv        prev_kv is the committed version at revision - 1 (and only when asked)
//   watch-iscreate      create_revision/version say "created" exactly for a key's first put
//   watch-filter        events stay in the range and pass the NOPUT/NODELETE filters
//
// A canceled watch (for example because its start was compacted) is judged up to its cancel.
import type { Violation } from "./violation.js";
import { CommittedIndex, type CommittedHistory } from "./watch/committed.js";
import {
  checkAtomic,
  checkBookmarkable,
  checkFilter,
  checkIsCreate,
  checkOrdered,
  checkPrevKv,
  checkReliable,
  checkResumable,
  checkUnique,
  type Finding,
} from "./watch/checks.js";
import { buildView, type WatchRecord, type WatchView } from "./watch/record.js";

export {
  CommitLog,
  committedFromKvStore,
  groupByRevision,
  type CommittedHistory,
  type CommittedRevision,
} from "./watch/committed.js";
export {
  isProgressNotify,
  recordWatchResponse,
  type RecordedWatchResponse,
  type WatchRecord,
} from "./watch/record.js";

/** The Violation.check names this module reports, in the order it runs the checks. */
export const WATCH_CHECKS = [
  "watch-ordered",
  "watch-unique",
  "watch-atomic",
  "watch-reliable",
  "watch-resumable",
  "watch-bookmarkable",
  "watch-prevkv",
  "watch-iscreate",
  "watch-filter",
] as const;

export type WatchCheckName = (typeof WATCH_CHECKS)[number];

const CHECKS: Readonly<Record<WatchCheckName, (v: WatchView) => Finding[]>> = {
  "watch-ordered": checkOrdered,
  "watch-unique": checkUnique,
  "watch-atomic": checkAtomic,
  "watch-reliable": checkReliable,
  "watch-resumable": checkResumable,
  "watch-bookmarkable": checkBookmarkable,
  "watch-prevkv": checkPrevKv,
  "watch-iscreate": checkIsCreate,
  "watch-filter": checkFilter,
};

export interface WatchCheckOptions {
  /** Findings reported per watch and check; the rest are counted in one summary (default 5). */
  readonly maxPerCheck?: number;
}

/**
 * Every broken guarantee of every watch, in record order then WATCH_CHECKS order. An empty list
 * means all nine hold. Neither input is modified.
 */
export function checkWatchGuarantees(
  records: readonly WatchRecord[],
  committed: CommittedHistory,
  options: WatchCheckOptions = {},
): Violation[] {
  const index = new CommittedIndex(committed);
  const limit = options.maxPerCheck ?? 5;
  return records.flatMap((record) => {
    const view = buildView(record, index);
    return WATCH_CHECKS.flatMap((check) => named(view, check, CHECKS[check](view), limit));
  });
}

function named(
  view: WatchView,
  check: WatchCheckName,
  findings: readonly Finding[],
  limit: number,
): Violation[] {
  const member = view.record.member;
  const shown = findings.slice(0, limit).map((f) => ({ check, member, ...f }));
  const hidden = findings.length - shown.length;
  if (hidden <= 0) return shown;
  const last = findings[findings.length - 1] as Finding;
  const message = `${view.label}: ${hidden} more ${check} violation(s), the last: ${last.message}`;
  return [...shown, { check, atMs: last.atMs, member, message }];
}
