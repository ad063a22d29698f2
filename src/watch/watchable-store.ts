// The watchable store: etcd's watch semantics over the mvcc KvStore, pure and synchronous.
//
// A watcher is either synced (it has seen everything up to the current revision and gets each new
// revision's events from the store's commit hook) or unsynced (it is behind, and sync() replays the
// store's revision log for it). Each stream has a bounded queue of event responses; when it is full
// a synced watcher simply becomes unsynced and later catches up from the log, so events are never
// dropped, duplicated or reordered, and memory stays bounded. There are no timers here: the server
// calls sync() (etcd runs it every 100 ms) and tickProgress() (--watch-progress-notify-interval)
// from its injected clock, and take() to drain a stream.
//
// Guarantees (etcd's): a watcher receives the events of its range from its start revision on, in
// revision order, each revision's events in one response (split into `fragment` pieces only when
// the watcher asked for fragments and the response exceeds maxResponseBytes); a start revision
// below the compact revision cancels the watcher with compact_revision set.

import { bytesToLatin1, emptyBytes, isFromKeyEnd } from "../lib/bytes.js";
import { assert, unreachable } from "../lib/assert.js";
import { Errors } from "../api/errors.js";
import type { Event } from "../api/kv.js";
import {
  header,
  type WatchCreateRequest,
  type WatchRequest,
  type WatchResponse,
} from "../api/rpc.js";
import type { CommittedTxn, KvStore } from "../mvcc/kv-store.js";

/** etcd's reasons for refusing a watch (mvcc package messages, sent as cancel_reason). */
export const WATCH_RANGE_EMPTY = "mvcc: watcher range is empty";
export const WATCH_DUPLICATE_ID = "mvcc: duplicate watch ID provided on the WatchStream";

export interface WatchOptions {
  /** Event responses a stream may hold before its watchers fall back to the log. Default 128. */
  readonly maxQueuedResponses?: number;
  /** Responses larger than this are split for watchers that allow fragments. Default 1.5 MiB. */
  readonly maxResponseBytes?: number;
  /** Events read from the log per watcher per read during sync. Default 1000. */
  readonly maxEventsPerRead?: number;
}

interface Watcher {
  readonly id: number;
  readonly key: Uint8Array;
  readonly rangeEnd: Uint8Array;
  readonly noPut: boolean;
  readonly noDelete: boolean;
  readonly prevKv: boolean;
  readonly progressNotify: boolean;
  readonly fragment: boolean;
  /** The first revision not yet delivered. */
  nextRevision: number;
  synced: boolean;
  /** Events were sent since the last progress tick. */
  sentSinceTick: boolean;
}

/** Approximate encoded size of an event, for fragmenting. */
function eventBytes(e: Event): number {
  const prev = e.prev_kv === undefined ? 0 : e.prev_kv.key.length + e.prev_kv.value.length + 32;
  return e.kv.key.length + e.kv.value.length + prev + 48;
}

/** Splits events into pieces of at most maxBytes each (one event per piece at least). */
function splitEvents(events: Event[], maxBytes: number): Event[][] {
  const pieces: Event[][] = [];
  let piece: Event[] = [];
  let size = 0;
  for (const e of events) {
    const n = eventBytes(e);
    if (piece.length > 0 && size + n > maxBytes) {
      pieces.push(piece);
      piece = [];
      size = 0;
    }
    piece.push(e);
    size += n;
  }
  pieces.push(piece);
  return pieces;
}

function watchResponse(revision: number, fields: Partial<WatchResponse>): WatchResponse {
  return {
    header: header(revision),
    watch_id: 0,
    created: false,
    canceled: false,
    compact_revision: 0,
    cancel_reason: "",
    fragment: false,
    events: [],
    ...fields,
  };
}

/** Watchers over one KvStore. Contract: one instance per store; it registers a commit listener. */
export class WatchableStore {
  private readonly streams: WatchStream[] = [];
  readonly maxQueuedResponses: number;
  readonly maxResponseBytes: number;
  readonly maxEventsPerRead: number;

  constructor(
    readonly kv: KvStore,
    options: WatchOptions = {},
  ) {
    this.maxQueuedResponses = options.maxQueuedResponses ?? 128;
    this.maxResponseBytes = options.maxResponseBytes ?? 1_572_864;
    this.maxEventsPerRead = options.maxEventsPerRead ?? 1000;
    assert(this.maxQueuedResponses >= 1, "watch: maxQueuedResponses must be at least 1");
    kv.onCommit((txn) => {
      for (const s of this.streams) s.notify(txn);
    });
  }

  /** Opens a stream (one client Watch call). */
  openStream(): WatchStream {
    const stream = new WatchStream(this, (s) => {
      const i = this.streams.indexOf(s);
      if (i >= 0) this.streams.splice(i, 1);
    });
    this.streams.push(stream);
    return stream;
  }

  /** Catches up unsynced watchers of every stream as far as their queues allow. */
  sync(): void {
    for (const s of this.streams) s.sync();
  }

  /** Watchers open on every stream, and how many of them are behind (unsynced). */
  watcherCounts(): { total: number; unsynced: number } {
    let total = 0;
    let unsynced = 0;
    for (const s of this.streams) {
      const c = s.watcherCounts();
      total += c.total;
      unsynced += c.unsynced;
    }
    return { total, unsynced };
  }

  /** The progress_notify tick: synced watchers that asked for it and saw no events get one. */
  tickProgress(): void {
    for (const s of this.streams) s.tickProgress();
  }
}

/**
 * One client stream: its watchers and the queue of responses waiting to be sent, in send order.
 * Contract: responses leave only through take(); control responses (created, canceled) are always
 * queued, event and progress responses only while fewer than maxQueuedResponses are waiting.
 */
export class WatchStream {
  private readonly watchers = new Map<number, Watcher>();
  private readonly queue: { response: WatchResponse; counted: boolean }[] = [];
  private countedInQueue = 0;
  private nextAutoId = 0;
  private progressPending = false;
  private closed = false;

  constructor(
    private readonly store: WatchableStore,
    private readonly onClose: (s: WatchStream) => void,
  ) {}

  /** Handles one WatchRequest; its responses are queued. */
  request(req: WatchRequest): void {
    assert(!this.closed, "watch: request on a closed stream");
    switch (req.request_union) {
      case "create_request":
        return this.create(req.create_request);
      case "cancel_request":
        return this.cancel(req.cancel_request.watch_id);
      case "progress_request":
        this.progressPending = true;
        return this.answerProgress();
      default:
        return unreachable(req, "watch request");
    }
  }

  /** Removes up to `max` queued responses in order, then refills from the log. */
  take(max = Number.POSITIVE_INFINITY): WatchResponse[] {
    const taken = this.queue.splice(0, Math.min(max, this.queue.length));
    for (const t of taken) if (t.counted) this.countedInQueue--;
    this.sync();
    return taken.map((t) => t.response);
  }

  /** Number of responses waiting. */
  get queued(): number {
    return this.queue.length;
  }

  /** IDs of the live watchers, in creation order. */
  watchIds(): number[] {
    return [...this.watchers.keys()];
  }

  close(): void {
    this.closed = true;
    this.watchers.clear();
    this.onClose(this);
  }

  /** @internal Delivers a committed txn to synced watchers, or demotes them when full. */
  notify(txn: CommittedTxn): void {
    for (const w of this.watchers.values()) {
      // A watcher created with a start revision above the current one waits for it: the
      // revisions committed before its start are not its events.
      if (!w.synced || txn.revision < w.nextRevision) continue;
      const events = this.select(w, txn.events);
      if (events.length > 0 && !this.hasRoom()) {
        w.synced = false; // catch up from the log later; nextRevision stays at this revision
        continue;
      }
      if (events.length > 0) this.sendEvents(w, events, txn.revision);
      w.nextRevision = txn.revision + 1;
    }
  }

  /** @internal */
  watcherCounts(): { total: number; unsynced: number } {
    let unsynced = 0;
    for (const w of this.watchers.values()) if (!w.synced) unsynced++;
    return { total: this.watchers.size, unsynced };
  }

  /** @internal */
  sync(): void {
    for (const w of [...this.watchers.values()]) {
      if (!w.synced) this.syncWatcher(w);
    }
    this.answerProgress();
  }

  /** @internal */
  tickProgress(): void {
    for (const w of this.watchers.values()) {
      if (w.synced && w.progressNotify && !w.sentSinceTick && this.hasRoom()) {
        this.enqueue(watchResponse(this.store.kv.currentRevision, { watch_id: w.id }), true);
      }
      w.sentSinceTick = false;
    }
  }

  private create(req: WatchCreateRequest): void {
    const kv = this.store.kv;
    const current = kv.currentRevision;
    const start = req.start_revision ?? 0;
    if (start < 0) return this.refuse(Errors.Compacted.message);
    const key = req.key.length === 0 ? Uint8Array.of(0) : req.key;
    const rangeEnd = req.range_end ?? emptyBytes;
    if (
      rangeEnd.length > 0 &&
      !isFromKeyEnd(rangeEnd) &&
      bytesToLatin1(key) >= bytesToLatin1(rangeEnd)
    ) {
      return this.refuse(WATCH_RANGE_EMPTY);
    }
    const id = this.chooseId(req.watch_id ?? 0);
    if (id === undefined) return this.refuse(WATCH_DUPLICATE_ID);
    const filters = req.filters ?? [];
    const w: Watcher = {
      id,
      key,
      rangeEnd,
      noPut: filters.includes("NOPUT"),
      noDelete: filters.includes("NODELETE"),
      prevKv: req.prev_kv === true,
      progressNotify: req.progress_notify === true,
      fragment: req.fragment === true,
      nextRevision: start === 0 ? current + 1 : start,
      synced: start === 0 || start > current,
      sentSinceTick: false,
    };
    this.watchers.set(id, w);
    this.enqueue(watchResponse(current, { watch_id: id, created: true }), false);
    if (!w.synced) this.syncWatcher(w);
  }

  private refuse(reason: string): void {
    const fields = { watch_id: -1, created: true, canceled: true, cancel_reason: reason };
    this.enqueue(watchResponse(this.store.kv.currentRevision, fields), false);
  }

  /** 0 picks the lowest free ID from a counter (etcd's AutoWatchID); a taken ID is refused. */
  private chooseId(requested: number): number | undefined {
    if (requested !== 0) return this.watchers.has(requested) ? undefined : requested;
    while (this.watchers.has(this.nextAutoId)) this.nextAutoId++;
    return this.nextAutoId++;
  }

  private cancel(id: number): void {
    if (!this.watchers.delete(id)) return; // etcd answers nothing for an unknown ID
    this.enqueue(
      watchResponse(this.store.kv.currentRevision, { watch_id: id, canceled: true }),
      false,
    );
  }

  private answerProgress(): void {
    if (!this.progressPending || !this.hasRoom()) return;
    for (const w of this.watchers.values()) if (!w.synced) return;
    this.progressPending = false;
    this.enqueue(watchResponse(this.store.kv.currentRevision, { watch_id: -1 }), true);
  }

  /** Replays the log for one watcher until it is synced or the queue is full. */
  private syncWatcher(w: Watcher): void {
    const kv = this.store.kv;
    if (w.nextRevision < kv.compactRevision) {
      this.watchers.delete(w.id);
      const fields = { watch_id: w.id, canceled: true, compact_revision: kv.compactRevision };
      this.enqueue(watchResponse(kv.currentRevision, fields), false);
      return;
    }
    while (w.nextRevision <= kv.currentRevision) {
      const read = kv.events(w.key, w.rangeEnd, w.nextRevision, kv.currentRevision, {
        maxEvents: this.store.maxEventsPerRead,
        withPrevKv: w.prevKv,
      });
      assert(read.ok, "watch: log read below the compact revision");
      if (!this.deliverRevisions(w, read.value.events)) return;
      w.nextRevision = read.value.nextRevision;
    }
    w.synced = true;
  }

  /** Sends events grouped by revision; false (with nextRevision set) when the queue fills. */
  private deliverRevisions(w: Watcher, events: Event[]): boolean {
    let i = 0;
    while (i < events.length) {
      const revision = (events[i] as Event).kv.mod_revision;
      let j = i;
      while (j < events.length && (events[j] as Event).kv.mod_revision === revision) j++;
      const selected = this.select(w, events.slice(i, j));
      if (selected.length > 0) {
        if (!this.hasRoom()) {
          w.nextRevision = revision;
          return false;
        }
        this.sendEvents(w, selected, this.store.kv.currentRevision);
      }
      i = j;
    }
    return true;
  }

  /** The watcher's events among `events` (the range already matches for log reads). */
  private select(w: Watcher, events: readonly Event[]): Event[] {
    const out: Event[] = [];
    const low = bytesToLatin1(w.key);
    const high =
      w.rangeEnd.length === 0 || isFromKeyEnd(w.rangeEnd) ? undefined : bytesToLatin1(w.rangeEnd);
    for (const e of events) {
      if (e.type === "PUT" ? w.noPut : w.noDelete) continue;
      const k = bytesToLatin1(e.kv.key);
      const inRange =
        w.rangeEnd.length === 0 ? k === low : k >= low && (high === undefined || k < high);
      if (!inRange) continue;
      out.push(w.prevKv || e.prev_kv === undefined ? e : { type: e.type, kv: e.kv });
    }
    return out;
  }

  private sendEvents(w: Watcher, events: Event[], revision: number): void {
    w.sentSinceTick = true;
    const pieces = w.fragment ? splitEvents(events, this.store.maxResponseBytes) : [events];
    pieces.forEach((piece, n) => {
      const fragment = n < pieces.length - 1;
      this.enqueue(watchResponse(revision, { watch_id: w.id, events: piece, fragment }), n === 0);
    });
  }

  private hasRoom(): boolean {
    return this.countedInQueue < this.store.maxQueuedResponses;
  }

  private enqueue(response: WatchResponse, counted: boolean): void {
    this.queue.push({ response, counted });
    if (counted) this.countedInQueue++;
  }
}
