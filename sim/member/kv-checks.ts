// Checks of a KV cluster run, each reporting Violations under the scenario check's name:
//   convergence   after healing, every member of the final configuration (learners included,
//                 removed members left out) has the same HashKV at the same revision, the same
//                 compact revision and the same leases;
//   watch         every watcher saw, in each gap-free segment of its history, exactly the committed
//                 events of its range from the segment's start up to what it had seen, in order,
//                 once; its last segment reaches the final revision;
//   linearizable  the client history against the etcd model (src/porcupine); "unknown" fails;
//   lease-expiry  (tests with short leases) no lease outlives its TTL once keepalives stopped.
import { unreachable } from "../../src/lib/assert.js";
import type { Event } from "../../src/api/kv.js";
import { bytesToLatin1, inRange, latin1ToBytes, prefixEnd } from "../../src/lib/bytes.js";
import {
  check,
  etcdModel,
  resolveUnknownWrites,
  type CheckReport,
} from "../../src/porcupine/index.js";
import type { EtcdInput, EtcdOutput } from "../../src/porcupine/models/etcd-types.js";
import type { Violations } from "../check/violation.js";
import {
  checkWatchGuarantees,
  recordWatchResponse,
  type WatchRecord,
} from "../check/watch-guarantees.js";
import { wallNowMs } from "../wall-time.js";
import type { InternalRequest } from "../../src/server/internal-request.js";
import type { CommittedLog, KvCluster, SimKvMember } from "./kv-cluster.js";
import { sameKv } from "../check/watch/record.js";
import { describeEvent, type SimWatcher } from "./kv-client.js";
import { modelInput, type EtcdOperation } from "./kv-workload.js";

/** The slots of the final configuration: members not removed (up or down). */
function finalMembers(cluster: KvCluster): SimKvMember[] {
  return cluster.slots.filter((s) => s.phase === "member");
}

/** One line per member: its store hash at its revision, compact revision and leases. */
export function memberStoreViews(cluster: KvCluster): string[] {
  return finalMembers(cluster).map((s) => {
    const m = s.member;
    if (m === undefined) return `${s.name} down`;
    if (s.corrupt !== undefined) return `${s.name} corrupt`;
    const h = m.kv.hashAt(0);
    const hash = h.ok
      ? `hash ${h.value.hash} at ${h.value.hash_revision} compacted ${h.value.compact_revision}`
      : h.error.name;
    return `${hash} leases=${m.lessor.leases().join(",")}`;
  });
}

/**
 * Every member that serves holds the same store. A member with the CORRUPT alarm serves nothing
 * and is left out: its data is known bad, and it refuses every request.
 */
export function checkConvergence(cluster: KvCluster, violations: Violations, atMs: number): void {
  const members = finalMembers(cluster);
  const views = memberStoreViews(cluster);
  const serving = views.filter((_, i) => members[i]?.corrupt === undefined);
  if (new Set(serving).size <= 1) return;
  const message = `members differ: ${views.map((v, i) => `${members[i]?.name} ${v}`).join(" | ")}`;
  violations.add({ check: "convergence", atMs, member: undefined, message });
}

/**
 * Short leases (tests): once clients stopped keeping them alive and their TTL has passed, no
 * member of the final configuration holds a lease or a key attached to one.
 */
export function checkLeasesExpired(cluster: KvCluster, violations: Violations, atMs: number): void {
  for (const s of finalMembers(cluster)) {
    const m = s.member;
    if (m === undefined) continue;
    const left = m.lessor.leases();
    const attached = m.lessor.attachments().map((a) => bytesToLatin1(a.key));
    if (left.length > 0 || attached.length > 0) {
      const message = `leases past their TTL still exist: ${left.join(",")} (keys ${attached.join(",")})`;
      violations.add({ check: "lease-expiry", atMs, member: s.name, message });
    }
  }
}

/** The watch exactness check over each watcher's segments (see the file comment). */
export function checkWatchers(
  committed: CommittedLog,
  watchers: readonly SimWatcher[],
  keyPrefix: string,
  violations: Violations,
  atMs: number,
): void {
  const prefix = latin1ToBytes(keyPrefix);
  const prefixRangeEnd = prefixEnd(prefix);
  const inPrefix = (key: Uint8Array) => inRange(key, prefix, prefixRangeEnd);
  const finalRevision = committed.lastRevision;
  for (const w of watchers) {
    w.segments.forEach((segment, i) => {
      const last = i === w.segments.length - 1;
      const upTo = last ? finalRevision : segment.seenRevision;
      const expected = committed
        .events(segment.startRevision, upTo)
        .filter((e) => inPrefix(e.kv.key));
      const seen = segment.events;
      const where = `segment ${i} (from revision ${segment.startRevision})`;
      const firstDiff = seen.findIndex((e, j) => {
        const x = expected[j];
        return x === undefined || e.type !== x.type || !sameKv(e.kv, x.kv);
      });
      if (firstDiff >= 0) {
        const x = expected[firstDiff];
        const message = `${where}, event ${firstDiff}: saw "${describeEvent(seen[firstDiff] as Event)}", committed "${x === undefined ? "nothing" : describeEvent(x)}"`;
        violations.add({ check: "watch", atMs, member: w.name, message });
      } else if (seen.length !== expected.length) {
        const message = `${where}: saw ${seen.length} of ${expected.length} committed events (caught up to revision ${segment.seenRevision} of ${upTo})`;
        violations.add({ check: "watch", atMs, member: w.name, message });
      }
    });
  }
}

/** Every put value of a request (values are unique, so each names one write). */
function putValues(input: EtcdInput): string[] {
  switch (input.type) {
    case "put":
      return [input.value];
    case "txn":
      return [...input.success, ...input.failure].flatMap((op) =>
        op.type === "put" ? [op.value] : [],
      );
    case "range":
    case "delete-range":
    case "lease-grant":
    case "lease-revoke":
    case "compaction":
    case "auth":
      return [];
    default:
      return unreachable(input, "etcd input");
  }
}

/**
 * What a write without a unique value does, as a key shared by every request with the same
 * effect (the same delete, revoke, grant, compaction or value-less txn), or undefined.
 */
function effectKey(input: EtcdInput): string | undefined {
  switch (input.type) {
    case "delete-range":
      return `delete ${input.key} ${input.range_end ?? ""}`;
    case "lease-grant":
      return `grant ${input.id}`;
    case "lease-revoke":
      return `revoke ${input.id}`;
    case "compaction":
      return `compact ${input.revision}`;
    case "txn":
      // Without the user: the committed entry's txn is compared with what a client sent.
      return `txn ${JSON.stringify({ ...input, as: undefined })}`;
    case "range":
    case "put":
    case "auth":
      return undefined;
    default:
      return unreachable(input, "etcd input");
  }
}

/** The effect keys of every committed request (each request id once), from a member's log. */
function committedEffects(cluster: KvCluster): Map<string, number> {
  const entries = cluster.committedEntries();
  const counts = new Map<string, number>();
  const seen = new Set<number>();
  for (const e of entries) {
    if (e.type !== "EntryNormal" || e.data.length === 0) continue;
    const decoded = cluster.decodeEntry(e.data);
    if (!decoded.ok || seen.has(decoded.value.id)) continue;
    seen.add(decoded.value.id);
    const input = internalInput(decoded.value);
    const key = input === undefined ? undefined : effectKey(input);
    if (key !== undefined) counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

/** The model input of a committed request, for the requests clients send. */
function internalInput(req: InternalRequest): EtcdInput | undefined {
  switch (req.kind) {
    case "put":
      return modelInput({ kind: "put", request: req.put });
    case "delete-range":
      return modelInput({ kind: "delete-range", request: req.deleteRange });
    case "txn":
      return modelInput({ kind: "txn", request: req.txn });
    case "compaction":
      return modelInput({ kind: "compaction", request: req.compaction });
    case "lease-grant":
      return modelInput({ kind: "lease-grant", request: req.leaseGrant });
    case "lease-revoke":
      return modelInput({ kind: "lease-revoke", request: req.leaseRevoke });
    case "lease-checkpoint":
    case "alarm":
    case "auth":
      return undefined;
    default:
      return unreachable(req, "internal request");
  }
}

/**
 * Settles unknown writes with the committed log, as etcd's robustness suite does with the WAL:
 *   - a write with a unique put value: "persisted" at the revision that holds the value if one
 *     does; otherwise it changed nothing (a txn then took a branch without writes) and leaves;
 *   - any other write (delete, revoke, grant, compaction, value-less txn): when no committed
 *     request has its effect it leaves; when as many were committed as the history has such
 *     requests, all of them were applied ("persisted", revision unknown); else it stays unknown.
 * Leaving is sound: a write that was never applied, or applied without changing anything, is
 * indistinguishable from no write.
 */
export function patchUnknownWrites(
  history: readonly EtcdOperation[],
  cluster: KvCluster,
): EtcdOperation[] {
  if (history.every((op) => op.return !== undefined)) return [...history];
  // Built on first need: most histories have few unknown writes, and some of no kind.
  let revisionOf: Map<string, number> | undefined;
  const revisionOfValue = (value: string): number | undefined => {
    if (revisionOf === undefined) {
      revisionOf = new Map();
      for (const r of cluster.committed.revisions) {
        for (const e of r.events) {
          if (e.type === "PUT") revisionOf.set(bytesToLatin1(e.kv.value), r.revision);
        }
      }
    }
    return revisionOf.get(value);
  };
  let effects: { committed: Map<string, number>; inHistory: Map<string, number> } | undefined;
  const effectCounts = () => {
    if (effects === undefined) {
      const inHistory = new Map<string, number>();
      for (const op of history) {
        const key = putValues(op.input).length > 0 ? undefined : effectKey(op.input);
        if (key !== undefined) inHistory.set(key, (inHistory.get(key) ?? 0) + 1);
      }
      effects = { committed: committedEffects(cluster), inHistory };
    }
    return effects;
  };
  const out: EtcdOperation[] = [];
  for (const op of history) {
    if (op.return !== undefined) {
      out.push(op);
      continue;
    }
    const values = putValues(op.input);
    if (values.length > 0) {
      const revision = values.map(revisionOfValue).find((r) => r !== undefined);
      if (revision !== undefined) out.push({ ...op, output: { type: "persisted", revision } });
      continue;
    }
    const key = effectKey(op.input);
    if (key === undefined) continue;
    const { committed, inHistory } = effectCounts();
    const n = committed.get(key) ?? 0;
    if (n === 0) continue;
    if (n === inHistory.get(key)) out.push({ ...op, output: { type: "persisted" } });
    else out.push(op);
  }
  return out;
}

/** One WatchRecord per stream each watcher opened, for the watch guarantees. */
export function watchRecords(watchers: readonly SimWatcher[]): WatchRecord[] {
  return watchers.flatMap((w) => {
    const byStream = new Map<number, (typeof w.received)[number][]>();
    for (const r of w.received) {
      let list = byStream.get(r.streamId);
      if (list === undefined) byStream.set(r.streamId, (list = []));
      list.push(r);
    }
    return [...w.creates].map(([streamId, request]): WatchRecord => {
      const received = byStream.get(streamId) ?? [];
      return {
        watcher: `${w.name}/${streamId}`,
        ...(received[0] === undefined ? {} : { member: received[0].member }),
        request,
        responses: received.map((r) => recordWatchResponse(r.atMs, r.response)),
      };
    });
  });
}

/** etcd's nine watch guarantees over every watch of the run, against the committed log. */
export function checkWatchGuaranteesOfRun(
  cluster: KvCluster,
  watchers: readonly SimWatcher[],
  violations: Violations,
): void {
  const compactRevision = Math.max(
    -1,
    ...cluster.slots.map((s) => s.member?.kv.compactRevision ?? -1),
  );
  const committed = { revisions: cluster.committed.revisions, compactRevision };
  for (const v of checkWatchGuarantees(watchRecords(watchers), committed)) violations.add(v);
}

export interface LinearizableOutcome {
  readonly result: "ok" | "illegal" | "unknown";
  readonly ms: number;
  readonly detail: string;
}

/** Checks `history` (patched, see patchUnknownWrites) with the etcd model within `timeoutMs`. */
export function checkLinearizable(
  history: readonly EtcdOperation[],
  timeoutMs: number,
): LinearizableOutcome {
  const start = wallNowMs();
  const report: CheckReport<EtcdInput, EtcdOutput> = check(
    etcdModel,
    resolveUnknownWrites(history),
    { timeoutMs, now: wallNowMs },
  );
  const ms = Math.round(wallNowMs() - start);
  const ops = `${history.length} operations, ${history.filter((o) => o.return === undefined).length} unknown, ${ms}ms`;
  switch (report.result) {
    case "ok":
      return { result: "ok", ms, detail: `linearizable (${ops})` };
    case "illegal": {
      const part = report.partitions.find((p) => p.result === "illegal");
      const stuck = part?.stuck === undefined ? undefined : part.operations[part.stuck];
      const at = stuck === undefined ? "" : `; first stuck: ${JSON.stringify(stuck)}`;
      return { result: "illegal", ms, detail: `not linearizable (${ops})${at}` };
    }
    case "unknown": {
      const reason = report.partitions.find((p) => p.result === "unknown")?.unknownReason;
      return { result: "unknown", ms, detail: `unknown: ${reason ?? "undecided"} (${ops})` };
    }
    default:
      return report.result satisfies never;
  }
}

/** Adds a violation unless the outcome is ok; "unknown" is never a pass. */
export function linearizableViolation(
  outcome: LinearizableOutcome,
  violations: Violations,
  atMs: number,
): void {
  if (outcome.result === "ok") return;
  violations.add({ check: "linearizable", atMs, member: undefined, message: outcome.detail });
}
