// The nine watch guarantees of etcd's API, each as a function from one watch's view to findings.
//
// The checks split the work so that one fault is reported under the guarantee it breaks and not
// under several: "reliable" compares the *set* of selected events with the committed ones (order is
// "ordered"'s job, repeats are "unique"'s, the start is "resumable"'s, create_revision and version
// are "iscreate"'s, prev_kv is "prevkv"'s, unselected events are "filter"'s). A missing event inside
// a multi-key revision is both a gap (reliable) and a torn revision (atomic), and is reported twice.
import type { Event, KeyValue } from "../../../src/api/kv.js";
import { bytesToLatin1, equalBytes, inRange } from "../../../src/lib/bytes.js";
import { filteredOut, watchedRange } from "./committed.js";
import {
  describeEvent,
  isProgressNotify,
  sameKv,
  type ReceivedEvent,
  type WatchView,
} from "./record.js";

/** One broken promise, before it is named and placed (see watch-guarantees.ts). */
export interface Finding {
  readonly atMs: number;
  readonly message: string;
}

/** Revisions never go down between consecutive events (equal revisions across responses: atomic). */
export function checkOrdered(v: WatchView): Finding[] {
  const out: Finding[] = [];
  let previous: ReceivedEvent | undefined;
  for (const r of v.received) {
    if (previous !== undefined && r.revision < previous.revision) {
      out.push({
        atMs: r.atMs,
        message: `${v.label}: ${describeEvent(r.event)} arrived after revision ${previous.revision} (response ${r.responseIndex})`,
      });
    }
    previous = r;
  }
  return out;
}

/** No (revision, key) pair arrives twice. */
export function checkUnique(v: WatchView): Finding[] {
  const out: Finding[] = [];
  const seen = new Map<string, number>();
  for (const r of v.received) {
    const id = eventId(r.event);
    const first = seen.get(id);
    if (first !== undefined) {
      out.push({
        atMs: r.atMs,
        message: `${v.label}: ${describeEvent(r.event)} arrived twice (responses ${first} and ${r.responseIndex})`,
      });
    } else {
      seen.set(id, r.responseIndex);
    }
  }
  return out;
}

/**
 * A revision's events come in one response (or in a run of fragments), and all of them: a
 * revision is never split across unfragmented responses nor delivered in part.
 */
export function checkAtomic(v: WatchView): Finding[] {
  return [...splitRevisions(v), ...partialRevisions(v)];
}

function splitRevisions(v: WatchView): Finding[] {
  const out: Finding[] = [];
  let previousIndex = -1;
  v.responses.forEach((r, i) => {
    if (r.events.length === 0) return;
    const previous = v.responses[previousIndex];
    const first = r.events[0] as Event;
    const last = previous?.events[previous.events.length - 1];
    if (
      previous !== undefined &&
      !previous.fragment &&
      last?.kv.mod_revision === first.kv.mod_revision
    ) {
      out.push({
        atMs: r.atMs,
        message: `${v.label}: revision ${first.kv.mod_revision} split across responses ${previousIndex} and ${i} (${describeEvent(last)}, then ${describeEvent(first)}) without fragment`,
      });
    }
    previousIndex = i;
  });
  return out;
}

function partialRevisions(v: WatchView): Finding[] {
  const committed = keysByRevision(v.expected);
  const got = new Map<number, { keys: Set<string>; atMs: number }>();
  for (const r of v.received) {
    if (!r.selected) continue;
    const entry = got.get(r.revision) ?? { keys: new Set<string>(), atMs: r.atMs };
    entry.keys.add(bytesToLatin1(r.event.kv.key));
    got.set(r.revision, entry);
  }
  const out: Finding[] = [];
  for (const [revision, { keys, atMs }] of got) {
    const missing = [...(committed.get(revision) ?? [])].filter((k) => !keys.has(k));
    if (missing.length === 0) continue;
    out.push({
      atMs,
      message: `${v.label}: revision ${revision} arrived in part: missing ${quoteAll(missing)}, got ${quoteAll([...keys])}`,
    });
  }
  return out;
}

/**
 * The selected events received equal the committed ones in [first received, last observed]: no gap
 * and no phantom. With no event received the window starts at the watch's start revision, so a
 * progress notification past an undelivered change counts as a gap. (Before the first received
 * event is resumable's ground.)
 */
export function checkReliable(v: WatchView): Finding[] {
  const selected = v.received.filter((r) => r.selected);
  const low =
    selected.length > 0
      ? selected.reduce((m, r) => Math.min(m, r.revision), Number.POSITIVE_INFINITY)
      : v.startRevision;
  if (low === undefined) return [];
  const high = v.observedRevision;
  const expected = new Map<string, Event>();
  for (const e of v.expected) {
    if (e.kv.mod_revision >= low && e.kv.mod_revision <= high) expected.set(eventId(e), e);
  }
  const got = new Map<string, ReceivedEvent>();
  for (const r of selected) if (!got.has(eventId(r.event))) got.set(eventId(r.event), r);
  const out: Finding[] = [];
  for (const [id, e] of expected) {
    if (got.has(id)) continue;
    out.push({
      atMs: v.endMs,
      message: `${v.label}: missing committed ${describeEvent(e)} (watch covered revisions ${low} to ${high})`,
    });
  }
  for (const [id, r] of got) out.push(...phantom(v, expected.get(id), r));
  return out;
}

function phantom(v: WatchView, committed: Event | undefined, r: ReceivedEvent): Finding[] {
  const text = describeEvent(r.event);
  if (committed === undefined) {
    return [{ atMs: r.atMs, message: `${v.label}: ${text} was never committed` }];
  }
  if (samePayload(committed, r.event)) return [];
  return [
    {
      atMs: r.atMs,
      message: `${v.label}: ${text} differs from the committed change: got ${describeKv(r.event.kv)}, committed ${describeKv(committed.kv)}`,
    },
  ];
}

/**
 * A watch from revision S starts with the first committed change it selects at or after S: it
 * neither begins before S nor skips changes between S and its first event.
 */
export function checkResumable(v: WatchView): Finding[] {
  const start = v.startRevision;
  const first = v.received.find((r) => r.selected);
  if (start === undefined || first === undefined) return [];
  if (first.revision < start) {
    return [
      {
        atMs: first.atMs,
        message: `${v.label}: watch from revision ${start} began with ${describeEvent(first.event)}, before its start`,
      },
    ];
  }
  const skipped = v.expected.filter(
    (e) => e.kv.mod_revision >= start && e.kv.mod_revision < first.revision,
  );
  const earliest = skipped[0];
  if (earliest === undefined) return [];
  return [
    {
      atMs: first.atMs,
      message: `${v.label}: watch from revision ${start} began at revision ${first.revision}, skipping ${skipped.length} committed change(s) from ${describeEvent(earliest)}`,
    },
  ];
}

/**
 * After a progress notification at P no event at or below P arrives; notifications never go back,
 * nor below an event already delivered.
 */
export function checkBookmarkable(v: WatchView): Finding[] {
  const out: Finding[] = [];
  let progress: { revision: number; responseIndex: number } | undefined;
  let highestEvent = 0;
  v.responses.forEach((r, i) => {
    for (const e of r.events) {
      const revision = e.kv.mod_revision;
      if (progress !== undefined && revision <= progress.revision) {
        out.push({
          atMs: r.atMs,
          message: `${v.label}: ${describeEvent(e)} arrived after a progress notification at revision ${progress.revision} (response ${progress.responseIndex})`,
        });
      }
      highestEvent = Math.max(highestEvent, revision);
    }
    if (!isProgressNotify(r)) return;
    if (progress !== undefined && r.revision < progress.revision) {
      out.push({
        atMs: r.atMs,
        message: `${v.label}: progress notification went back from revision ${progress.revision} to ${r.revision}`,
      });
    } else if (r.revision < highestEvent) {
      out.push({
        atMs: r.atMs,
        message: `${v.label}: progress notification at revision ${r.revision} is behind the event at revision ${highestEvent} already delivered`,
      });
    }
    if (progress === undefined || r.revision > progress.revision) {
      progress = { revision: r.revision, responseIndex: i };
    }
  });
  return out;
}

/**
 * prev_kv is the key's version at revision - 1 in the committed history: absent when the key did
 * not exist, present when it did (unless that version may have been compacted away), and never
 * sent to a watch that did not ask for it.
 */
export function checkPrevKv(v: WatchView): Finding[] {
  const wanted = v.record.request.prev_kv === true;
  return v.received.flatMap((r) => {
    if (!r.selected) return [];
    const problem = wanted ? wrongPrevKv(v, r) : r.event.prev_kv && "carries prev_kv unasked";
    return problem
      ? [{ atMs: r.atMs, message: `${v.label}: ${describeEvent(r.event)} ${problem}` }]
      : [];
  });
}

function wrongPrevKv(v: WatchView, r: ReceivedEvent): string | undefined {
  const before = r.revision - 1;
  const expected = v.committed.valueAt(r.event.kv.key, before);
  const got = r.event.prev_kv;
  if (expected === undefined) {
    return got && `has prev_kv ${describeKv(got)}, but the key did not exist at revision ${before}`;
  }
  if (got === undefined) {
    if (before < v.committed.history.compactRevision) return undefined;
    return `lacks prev_kv; at revision ${before} the key was ${describeKv(expected)}`;
  }
  if (sameKv(got, expected)) return undefined;
  return `has prev_kv ${describeKv(got)}, but at revision ${before} the key was ${describeKv(expected)}`;
}

/**
 * A PUT is a create (create_revision == mod_revision, version 1) exactly when the key did not exist
 * at revision - 1; and its create_revision and version are the committed ones.
 */
export function checkIsCreate(v: WatchView): Finding[] {
  return v.received.flatMap((r) => {
    if (!r.selected || r.event.type !== "PUT") return [];
    const problem = wrongCreate(v, r);
    return problem
      ? [{ atMs: r.atMs, message: `${v.label}: ${describeEvent(r.event)} ${problem}` }]
      : [];
  });
}

function wrongCreate(v: WatchView, r: ReceivedEvent): string | undefined {
  const kv = r.event.kv;
  const isCreate = v.committed.valueAt(kv.key, r.revision - 1) === undefined;
  const looksCreate = kv.create_revision === kv.mod_revision;
  const shape = `create_revision ${kv.create_revision}, version ${kv.version}`;
  if (looksCreate !== isCreate || (kv.version === 1) !== isCreate) {
    const truth = isCreate ? "creates the key" : "updates an existing key";
    return `${truth}, but has ${shape}`;
  }
  const committed = v.committed.changeAt(kv.key, r.revision);
  if (committed?.type !== "PUT") return undefined;
  const c = committed.kv;
  if (c.create_revision === kv.create_revision && c.version === kv.version) return undefined;
  return `has ${shape}; committed create_revision ${c.create_revision}, version ${c.version}`;
}

/** Every event is in the watched range and of a type the filters let through. */
export function checkFilter(v: WatchView): Finding[] {
  const { key, rangeEnd } = watchedRange(v.record.request);
  return v.received.flatMap((r) => {
    const problem = !inRange(r.event.kv.key, key, rangeEnd)
      ? "is outside the watched range"
      : filteredOut(v.record.request, r.event)
        ? `passed the ${r.event.type === "PUT" ? "NOPUT" : "NODELETE"} filter`
        : undefined;
    return problem
      ? [{ atMs: r.atMs, message: `${v.label}: ${describeEvent(r.event)} ${problem}` }]
      : [];
  });
}

/** (revision, key): what identifies one change. */
function eventId(e: Event): string {
  return `${e.kv.mod_revision}:${bytesToLatin1(e.kv.key)}`;
}

function keysByRevision(events: readonly Event[]): Map<number, Set<string>> {
  const out = new Map<number, Set<string>>();
  for (const e of events) {
    const keys = out.get(e.kv.mod_revision) ?? new Set<string>();
    keys.add(bytesToLatin1(e.kv.key));
    out.set(e.kv.mod_revision, keys);
  }
  return out;
}

/** What a change did: its type, key, revision, value and lease (metadata is iscreate's). */
function samePayload(a: Event, b: Event): boolean {
  return (
    a.type === b.type &&
    a.kv.mod_revision === b.kv.mod_revision &&
    equalBytes(a.kv.key, b.kv.key) &&
    equalBytes(a.kv.value, b.kv.value) &&
    a.kv.lease === b.kv.lease
  );
}

function describeKv(kv: KeyValue): string {
  const lease = kv.lease !== 0n ? `, lease ${kv.lease}` : "";
  return `${JSON.stringify(bytesToLatin1(kv.key))}=${JSON.stringify(bytesToLatin1(kv.value))} (create ${kv.create_revision}, mod ${kv.mod_revision}, version ${kv.version}${lease})`;
}

function quoteAll(keys: readonly string[]): string {
  return keys.map((k) => JSON.stringify(k)).join(", ");
}
