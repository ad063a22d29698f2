// The recorded input of the watch checks, and the per-watch view the checks read.
//
// A WatchRecord is one watch as one client saw it: the create request and every response that
// concerned it (its own watch_id, and stream-wide progress answers with watch_id -1), in the order
// the client received them. A resumed watch (closed and opened again from a later revision) is a
// new record: each record is judged on its own.
import type { Event, KeyValue } from "../../../src/api/kv.js";
import type { WatchCreateRequest, WatchResponse } from "../../../src/api/rpc.js";
import { bytesToLatin1, equalBytes } from "../../../src/lib/bytes.js";
import { CommittedIndex, selects, watchedRange } from "./committed.js";

/** One response as received, flattened from WatchResponse (header.revision becomes `revision`). */
export interface RecordedWatchResponse {
  /** When the client received it (virtual ms); used for Violation.atMs. */
  readonly atMs: number;
  /** header.revision: the store's revision when the response was produced. */
  readonly revision: number;
  /** -1 for a progress answer that covers every watch of the stream. */
  readonly watch_id: number;
  readonly created: boolean;
  readonly canceled: boolean;
  readonly compact_revision: number;
  /** More pieces of the same revision's events follow in the next response. */
  readonly fragment: boolean;
  readonly events: readonly Event[];
}

export interface WatchRecord {
  /** The client that watched (named in messages). */
  readonly watcher: string;
  /** The member that served the watch, when known (Violation.member). */
  readonly member?: string;
  readonly request: WatchCreateRequest;
  /** In order of receipt. Responses after the first canceled one are not judged. */
  readonly responses: readonly RecordedWatchResponse[];
}

/** Flattens a WatchResponse received at `atMs` into the recorded form. */
export function recordWatchResponse(atMs: number, r: WatchResponse): RecordedWatchResponse {
  return {
    atMs,
    revision: r.header.revision,
    watch_id: r.watch_id,
    created: r.created,
    canceled: r.canceled,
    compact_revision: r.compact_revision,
    fragment: r.fragment,
    events: r.events,
  };
}

/**
 * A progress notification: a header and nothing else. It promises that every event of the watch up
 * to `revision` has been delivered.
 */
export function isProgressNotify(r: RecordedWatchResponse): boolean {
  return (
    r.events.length === 0 && !r.created && !r.canceled && r.compact_revision === 0 && !r.fragment
  );
}

/** An event as received: where it came from, for ordering and messages. */
export interface ReceivedEvent {
  readonly event: Event;
  readonly revision: number;
  readonly responseIndex: number;
  readonly atMs: number;
  /** Whether the watch's range and filters select it (an unselected one breaks "filter"). */
  readonly selected: boolean;
}

export interface ProgressMark {
  readonly revision: number;
  readonly responseIndex: number;
  readonly atMs: number;
}

/** Everything the checks need about one watch, computed once. */
export interface WatchView {
  readonly record: WatchRecord;
  /** "<watcher>#<watch_id> on <range>", for messages. */
  readonly label: string;
  /** The judged responses: up to and including the first canceled one. */
  readonly responses: readonly RecordedWatchResponse[];
  readonly received: readonly ReceivedEvent[];
  readonly progress: readonly ProgressMark[];
  /**
   * The first revision the watch must deliver: start_revision, or for start_revision 0 the created
   * response's revision + 1. Undefined when neither is known.
   */
  readonly startRevision: number | undefined;
  /** The highest revision the watch claimed to have covered: its last event or progress mark. */
  readonly observedRevision: number;
  /** The committed events the watch selects, in commit order. */
  readonly expected: readonly Event[];
  readonly committed: CommittedIndex;
  /** Time of the last judged response (or 0), for findings about the watch as a whole. */
  readonly endMs: number;
}

export function buildView(record: WatchRecord, committed: CommittedIndex): WatchView {
  const responses = judgedResponses(record.responses);
  const received = responses.flatMap((r, responseIndex) =>
    r.events.map((event) => ({
      event,
      revision: event.kv.mod_revision,
      responseIndex,
      atMs: r.atMs,
      selected: selects(record.request, event),
    })),
  );
  const progress = responses.flatMap((r, responseIndex) =>
    isProgressNotify(r) ? [{ revision: r.revision, responseIndex, atMs: r.atMs }] : [],
  );
  // (A loop, not Math.max(...): a long watch receives more events than a call takes arguments.)
  let observedRevision = 0;
  for (const e of received) observedRevision = Math.max(observedRevision, e.revision);
  for (const p of progress) observedRevision = Math.max(observedRevision, p.revision);
  return {
    record,
    label: labelOf(record),
    responses,
    received,
    progress,
    startRevision: startRevisionOf(record.request, responses),
    observedRevision,
    expected: committed.selected(record.request),
    committed,
    endMs: responses[responses.length - 1]?.atMs ?? 0,
  };
}

function judgedResponses(
  responses: readonly RecordedWatchResponse[],
): readonly RecordedWatchResponse[] {
  const cancel = responses.findIndex((r) => r.canceled);
  return cancel < 0 ? responses : responses.slice(0, cancel + 1);
}

function startRevisionOf(
  request: WatchCreateRequest,
  responses: readonly RecordedWatchResponse[],
): number | undefined {
  const start = request.start_revision ?? 0;
  if (start > 0) return start;
  // start_revision 0 means "after the revision current at creation", which the created header names.
  const created = responses.find((r) => r.created);
  return created === undefined ? undefined : created.revision + 1;
}

function labelOf(record: WatchRecord): string {
  const id = record.responses.find((r) => r.watch_id >= 0)?.watch_id;
  return `${record.watcher}#${id ?? "?"} on ${describeRange(record.request)}`;
}

function describeRange(request: WatchCreateRequest): string {
  const { key, rangeEnd } = watchedRange(request);
  const start = JSON.stringify(bytesToLatin1(key));
  if (rangeEnd.length === 0) return start;
  if (rangeEnd.length === 1 && rangeEnd[0] === 0) return `[${start}, end)`;
  return `[${start}, ${JSON.stringify(bytesToLatin1(rangeEnd))})`;
}

/** "PUT \"k\"@7" — an event as messages name it. */
/** Whether two key-values are the same version: key, value, revisions, version and lease. */
export function sameKv(a: KeyValue, b: KeyValue): boolean {
  return (
    equalBytes(a.key, b.key) &&
    equalBytes(a.value, b.value) &&
    a.create_revision === b.create_revision &&
    a.mod_revision === b.mod_revision &&
    a.version === b.version &&
    a.lease === b.lease
  );
}

export function describeEvent(e: Event): string {
  return `${e.type} ${JSON.stringify(bytesToLatin1(e.kv.key))}@${e.kv.mod_revision}`;
}
