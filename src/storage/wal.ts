// The write-ahead log: raft entries, hard states and snapshot markers in checksummed records
// (wal-record.ts), in numbered segment files that rotate by size, written in groups with one fsync
// per group. Recovery replays every segment, truncates a torn tail of the last one, and reports any
// other invalid record as corruption: committed entries are never skipped silently.
import type { Disk, FileHandle } from "../env/disk.js";
import { joinPath } from "../env/disk.js";
import { unreachable } from "../lib/assert.js";
import { noFailpoints, type FailpointError, type Failpoints } from "../lib/failpoints.js";
import type { Entry, HardState } from "../raft/types.js";
import { ensureDir, fail, OK, readWholeFile, unlinkAll, writeNewFile } from "./disk-ops.js";
import {
  corruption,
  type StorageCallback,
  type StorageFailure,
  type StorageResult,
} from "./errors.js";
import { encodeRecords, scanSegment, type WalRecord } from "./wal-record.js";

export const DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024;

export interface WalOptions {
  /** A segment that reaches this size after a write is sealed and a new one started. */
  readonly segmentBytes?: number;
  readonly failpoints?: Failpoints;
}

export interface SnapshotMarker {
  readonly index: number;
  readonly term: number;
}

/** What a WAL says after replay. */
export interface WalRecovered {
  /** The last hard state written (all zeros if none). */
  readonly hardState: HardState;
  /** The replayed log, contiguous; it may start before the newest snapshot (catch-up entries). */
  readonly entries: Entry[];
  /** Every snapshot marker still in the WAL, oldest first. */
  readonly snapshots: SnapshotMarker[];
  /** Set when the last segment ended in a torn write that recovery truncated. */
  readonly truncatedTail?: { readonly file: string; readonly offsetBytes: number };
}

/**
 * One Ready's worth of records. Written in this order: the snapshot marker, the entries, the hard
 * state, so a replayed marker always precedes the entries that follow the snapshot.
 */
export interface WalBatch {
  readonly entries: readonly Entry[];
  readonly hardState?: HardState;
  /** `installed`: a snapshot that replaced the log (Ready.snapshot); else a local snapshot. */
  readonly snapshot?: SnapshotMarker & { readonly installed: boolean };
  /** fsync before completing; false only when nothing in the batch must survive a crash. */
  readonly mustSync: boolean;
}

interface Segment {
  readonly seq: number;
  /** The index the segment's first new entry was expected to have (names the file). */
  readonly firstIndex: number;
  readonly path: string;
}

type WalOp =
  | { readonly kind: "save"; readonly batch: WalBatch; readonly done: StorageCallback<void> }
  | { readonly kind: "release"; readonly index: number; readonly done: StorageCallback<void> }
  | {
      readonly kind: "defrag";
      readonly liveEntries: () => readonly Entry[];
      readonly done: StorageCallback<void>;
    }
  | { readonly kind: "close"; readonly done: StorageCallback<void> };

const SEGMENT_NAME = /^([0-9a-f]{16})-([0-9a-f]{16})\.wal$/;
const ZERO_HARD_STATE: HardState = { term: 0, vote: 0, commit: 0 };

function segmentName(seq: number, firstIndex: number): string {
  return `${seq.toString(16).padStart(16, "0")}-${firstIndex.toString(16).padStart(16, "0")}.wal`;
}

/** The state a WAL tracks to restate at each new segment and to name it. */
interface Tracked {
  hardState: HardState;
  marker: SnapshotMarker | undefined;
  lastIndex: number;
}

/**
 * A WAL open for appending. Contract: operations (save, releaseTo, defragment, close) run one at a
 * time in call order; consecutive saves queued behind a running operation are written together
 * with a single fsync (group commit). A save's `done` runs once its records are durable (or, when
 * `mustSync` is false, written). After any disk error the WAL is failed: that operation and every
 * later one complete with the failure, and the member must stop.
 */
export class Wal {
  private readonly queue: WalOp[] = [];
  private busy = false;
  private failure: StorageFailure | undefined;

  /** Internal: a WAL comes from `Wal.open`, which replays and repairs the files first. */
  constructor(
    private readonly disk: Disk,
    readonly dir: string,
    private readonly options: Required<WalOptions>,
    private segments: Segment[],
    private tail: FileHandle,
    private tailBytes: number,
    private lastCrc: number,
    private readonly tracked: Tracked,
  ) {}

  /**
   * Opens the WAL in `dir` (created, with its first segment, if missing; the parent must exist),
   * replays it and repairs a torn tail. Completes with corruption if any other record is invalid.
   */
  static open(
    disk: Disk,
    dir: string,
    options: WalOptions,
    done: StorageCallback<{ wal: Wal; recovered: WalRecovered }>,
  ): void {
    const full: Required<WalOptions> = {
      segmentBytes: options.segmentBytes ?? DEFAULT_SEGMENT_BYTES,
      failpoints: options.failpoints ?? noFailpoints(),
    };
    ensureDir(disk, dir, (made) => {
      if (!made.ok) return done(made);
      disk.list(dir, (listed) => {
        if (!listed.ok) return done(fail(`list ${dir}`, listed));
        const stale = listed.value.filter((n) => n.endsWith(".tmp")).map((n) => joinPath(dir, n));
        unlinkAll(disk, dir, stale, (cleaned) => {
          if (!cleaned.ok) return done(cleaned);
          recoverSegments(disk, dir, full, listed.value, done);
        });
      });
    });
  }

  /**
   * Appends a batch (see WalBatch); `done` once durable. A batch with nothing to write and no sync
   * asked may complete before save returns, when nothing is queued ahead of it.
   */
  save(batch: WalBatch, done: StorageCallback<void>): void {
    this.enqueue({ kind: "save", batch, done });
  }

  /** Deletes whole segments holding only entries below `index` (never the segment being written). */
  releaseTo(index: number, done: StorageCallback<void>): void {
    this.enqueue({ kind: "release", index, done });
  }

  /**
   * Rewrites the WAL as one segment holding the latest hard state and snapshot marker and
   * `liveEntries()` (the live log from its first index, read when the rewrite starts, so saves queued
   * before it are included), then deletes the old segments. Crash-safe at
   * every step: the new segment is written to a temp name, fsynced, renamed, and replay of old and
   * new segments together gives the same log.
   */
  defragment(liveEntries: () => readonly Entry[], done: StorageCallback<void>): void {
    this.enqueue({ kind: "defrag", liveEntries, done });
  }

  close(done: StorageCallback<void>): void {
    this.enqueue({ kind: "close", done });
  }

  /** Segment file names, oldest first (for tests, status and the defragment report). */
  segmentFiles(): string[] {
    return this.segments.map((s) => s.path);
  }

  private enqueue(op: WalOp): void {
    this.queue.push(op);
    this.kick();
  }

  private kick(): void {
    if (this.busy || this.queue.length === 0) return;
    if (this.failure !== undefined) {
      const cause = this.failure;
      for (const op of this.queue.splice(0))
        op.done({ ok: false, error: { kind: "closed", cause } });
      return;
    }
    this.busy = true;
    const op = this.queue[0] as WalOp;
    const finish = (r: StorageResult<void>): void => {
      this.busy = false;
      if (!r.ok && this.failure === undefined) this.failure = r.error;
      this.kick();
    };
    switch (op.kind) {
      case "save":
        return this.writeGroup(this.takeSaves(), finish);
      case "release":
        this.queue.shift();
        return this.release(op.index, (r) => {
          op.done(r);
          finish(r);
        });
      case "defrag":
        this.queue.shift();
        return this.rewrite(op.liveEntries(), (r) => {
          op.done(r);
          finish(r);
        });
      case "close":
        this.queue.shift();
        return this.disk.close(this.tail, () => {
          this.failure = { kind: "closed" };
          op.done(OK);
          finish(OK);
        });
      default:
        return unreachable(op, "wal op");
    }
  }

  private takeSaves(): Array<WalOp & { kind: "save" }> {
    const saves: Array<WalOp & { kind: "save" }> = [];
    while (this.queue[0]?.kind === "save")
      saves.push(this.queue.shift() as WalOp & { kind: "save" });
    return saves;
  }

  /**
   * Group commit: one append and (if any save must sync) one fsync for all queued saves. Saves with
   * nothing to write and no sync asked (a Ready of messages only) complete without touching the
   * disk, in their place in the queue, as etcd's WAL skips an empty save.
   */
  private writeGroup(saves: Array<WalOp & { kind: "save" }>, finish: StorageCallback<void>): void {
    const records = saves.flatMap((s) => this.recordsOf(s.batch));
    const mustSync = saves.some((s) => s.batch.mustSync);
    if (records.length === 0 && !mustSync) {
      for (const s of saves) s.done(OK);
      return finish(OK);
    }
    const { bytes, crc } = encodeRecords(records, this.lastCrc);
    this.lastCrc = crc;
    const failAll = (r: { ok: false; error: StorageFailure }): void => {
      for (const s of saves) s.done(r);
      finish(r);
    };
    const fp = this.options.failpoints;
    const injected = (e: FailpointError): void =>
      failAll({ ok: false, error: { kind: "injected", error: e } });
    const completed = (): void => {
      for (const s of saves) s.done(OK);
      this.maybeRotate(finish);
    };
    this.disk.append(this.tail, bytes, (appended) => {
      if (!appended.ok) return failAll(fail("wal append", appended));
      this.tailBytes += bytes.length;
      if (!mustSync) return completed();
      fp.pass(
        "walBeforeFsync",
        () =>
          this.disk.fdatasync(this.tail, (synced) => {
            if (!synced.ok) return failAll(fail("wal fsync", synced));
            fp.pass("walAfterFsync", completed, injected);
          }),
        injected,
      );
    });
  }

  private recordsOf(batch: WalBatch): WalRecord[] {
    const records: WalRecord[] = [];
    const t = this.tracked;
    if (batch.snapshot !== undefined) {
      const s = batch.snapshot;
      records.push({ type: "snapshot", index: s.index, term: s.term, installed: s.installed });
      t.marker = { index: s.index, term: s.term };
      if (s.installed) t.lastIndex = s.index;
    }
    for (const entry of batch.entries) records.push({ type: "entry", entry });
    const last = batch.entries.at(-1);
    if (last !== undefined) t.lastIndex = last.index;
    if (batch.hardState !== undefined) {
      records.push({ type: "hardState", hardState: batch.hardState });
      t.hardState = batch.hardState;
    }
    return records;
  }

  /** Records that open a segment: its header, then the state a reader needs without older ones. */
  private segmentStart(seq: number): WalRecord[] {
    const out: WalRecord[] = [{ type: "segment", seq, prevCrc: this.lastCrc }];
    out.push({ type: "hardState", hardState: this.tracked.hardState });
    const m = this.tracked.marker;
    if (m !== undefined)
      out.push({ type: "snapshot", index: m.index, term: m.term, installed: false });
    return out;
  }

  private maybeRotate(finish: StorageCallback<void>): void {
    if (this.tailBytes < this.options.segmentBytes) return finish(OK);
    const fp = this.options.failpoints;
    const injected = (e: FailpointError): void =>
      finish({ ok: false, error: { kind: "injected", error: e } });
    fp.pass(
      "walBeforeRotate",
      () =>
        this.rotate((r) => {
          if (!r.ok) return finish(r);
          fp.pass("walAfterRotate", () => finish(OK), injected);
        }),
      injected,
    );
  }

  /**
   * Seals the tail and starts the next segment. The new name is made durable (fsyncDir) before any
   * record is written to it: an fsynced record under a volatile name could vanish in a crash.
   */
  private rotate(done: StorageCallback<void>): void {
    const sealed = this.segments.at(-1) as Segment;
    const next: Segment = {
      seq: sealed.seq + 1,
      firstIndex: this.tracked.lastIndex + 1,
      path: joinPath(this.dir, segmentName(sealed.seq + 1, this.tracked.lastIndex + 1)),
    };
    this.disk.fsync(this.tail, (synced) => {
      if (!synced.ok) return done(fail("wal fsync sealed segment", synced));
      this.disk.close(this.tail, () => this.startSegment(next, this.segmentStart(next.seq), done));
    });
  }

  private startSegment(segment: Segment, header: WalRecord[], done: StorageCallback<void>): void {
    const { bytes, crc } = encodeRecords(header, this.lastCrc);
    this.disk.open(segment.path, "create", (opened) => {
      if (!opened.ok) return done(fail(`create ${segment.path}`, opened));
      const file = opened.value;
      this.disk.append(file, bytes, (written) => {
        if (!written.ok) return done(fail(`write ${segment.path}`, written));
        this.disk.fsync(file, (synced) => {
          if (!synced.ok) return done(fail(`fsync ${segment.path}`, synced));
          this.disk.fsyncDir(this.dir, (dirSynced) => {
            if (!dirSynced.ok) return done(fail(`fsync dir ${this.dir}`, dirSynced));
            this.segments.push(segment);
            this.tail = file;
            this.tailBytes = bytes.length;
            this.lastCrc = crc;
            done(OK);
          });
        });
      });
    });
  }

  private release(index: number, done: StorageCallback<void>): void {
    let count = 0;
    while (
      count < this.segments.length - 1 &&
      (this.segments[count + 1] as Segment).firstIndex <= index
    ) {
      count++;
    }
    const removed = this.segments.slice(0, count).map((s) => s.path);
    this.segments = this.segments.slice(count);
    unlinkAll(this.disk, this.dir, removed, done);
  }

  private rewrite(entries: readonly Entry[], done: StorageCallback<void>): void {
    const fp = this.options.failpoints;
    const injected = (e: FailpointError): void =>
      done({ ok: false, error: { kind: "injected", error: e } });
    const old = this.segments.slice();
    const seq = (old.at(-1) as Segment).seq + 1;
    const firstIndex = entries[0]?.index ?? this.tracked.lastIndex + 1;
    const segment: Segment = {
      seq,
      firstIndex,
      path: joinPath(this.dir, segmentName(seq, firstIndex)),
    };
    const tmp = `${segment.path}.tmp`;
    const header = this.segmentStart(seq);
    const records = [...header, ...entries.map((entry): WalRecord => ({ type: "entry", entry }))];
    const { bytes, crc } = encodeRecords(records, this.lastCrc);
    writeNewFile(this.disk, tmp, bytes, (written) => {
      if (!written.ok) return done(written);
      fp.pass(
        "defragBeforeRename",
        () =>
          this.disk.rename(tmp, segment.path, (renamed) => {
            if (!renamed.ok) return done(fail(`rename ${tmp}`, renamed));
            this.disk.fsyncDir(this.dir, (synced) => {
              if (!synced.ok) return done(fail(`fsync dir ${this.dir}`, synced));
              fp.pass(
                "defragAfterRename",
                () => this.switchTail(segment, bytes.length, crc, old, done),
                injected,
              );
            });
          }),
        injected,
      );
    });
  }

  private switchTail(
    segment: Segment,
    sizeBytes: number,
    crc: number,
    old: Segment[],
    done: StorageCallback<void>,
  ): void {
    this.disk.close(this.tail, () => {
      this.disk.open(segment.path, "write", (opened) => {
        if (!opened.ok) return done(fail(`open ${segment.path}`, opened));
        this.tail = opened.value;
        this.tailBytes = sizeBytes;
        this.lastCrc = crc;
        this.segments = [segment];
        // Oldest first, so a crash in the middle leaves a contiguous run of segments.
        unlinkAll(
          this.disk,
          this.dir,
          old.map((s) => s.path),
          done,
        );
      });
    });
  }
}

/** Replay state across segments. */
interface Replay {
  first: number | undefined;
  entries: Entry[];
  hardState: HardState;
  snapshots: SnapshotMarker[];
  lastCrc: number;
}

function parseSegments(dir: string, names: readonly string[]): Segment[] | StorageFailure {
  const segments: Segment[] = [];
  for (const name of names) {
    const m = SEGMENT_NAME.exec(name);
    if (m === null) continue;
    segments.push({
      seq: parseInt(m[1] as string, 16),
      firstIndex: parseInt(m[2] as string, 16),
      path: joinPath(dir, name),
    });
  }
  segments.sort((a, b) => a.seq - b.seq);
  for (let i = 1; i < segments.length; i++) {
    const s = segments[i] as Segment;
    if (s.seq !== (segments[i - 1] as Segment).seq + 1)
      return corruption(
        s.path,
        0,
        `segment ${s.seq} follows ${(segments[i - 1] as Segment).seq}: a segment is missing`,
      );
  }
  return segments;
}

function recoverSegments(
  disk: Disk,
  dir: string,
  options: Required<WalOptions>,
  names: readonly string[],
  done: StorageCallback<{ wal: Wal; recovered: WalRecovered }>,
): void {
  const parsed = parseSegments(dir, names);
  if (!Array.isArray(parsed)) return done({ ok: false, error: parsed });
  const segments =
    parsed.length > 0
      ? parsed
      : [{ seq: 1, firstIndex: 1, path: joinPath(dir, segmentName(1, 1)) }];
  const replay: Replay = {
    first: undefined,
    entries: [],
    hardState: ZERO_HARD_STATE,
    snapshots: [],
    lastCrc: 0,
  };
  if (parsed.length === 0)
    return openTail(disk, dir, options, segments, replay, { kind: "fresh" }, done);
  const readNext = (i: number): void => {
    const segment = segments[i] as Segment;
    readWholeFile(disk, segment.path, (read) => {
      if (!read.ok) return done(read);
      const isLast = i === segments.length - 1;
      const scanned = scanSegment(segment.path, read.value, isLast);
      if ("kind" in scanned) return done({ ok: false, error: scanned });
      const headerless = scanned.records.length === 0;
      if (headerless && !isLast) {
        return done({ ok: false, error: corruption(segment.path, 0, "sealed segment is empty") });
      }
      if (!headerless) {
        const failure = replaySegment(segment, scanned.records, replay, i > 0);
        if (failure !== undefined) return done({ ok: false, error: failure });
        replay.lastCrc = scanned.lastCrc;
      }
      if (!isLast) return readNext(i + 1);
      const repair: TailRepair = headerless
        ? { kind: "rewrite-header" }
        : scanned.tornTail
          ? { kind: "truncate", offsetBytes: scanned.validEndBytes }
          : { kind: "none", sizeBytes: read.value.length };
      openTail(disk, dir, options, segments, replay, repair, done);
    });
  };
  readNext(0);
}

function replaySegment(
  segment: Segment,
  records: ReadonlyArray<{ record: WalRecord; offset: number }>,
  replay: Replay,
  chained: boolean,
): StorageFailure | undefined {
  for (const { record, offset } of records) {
    const failure = replayRecord(segment, record, offset, replay, chained);
    if (failure !== undefined) return failure;
  }
  return undefined;
}

function replayRecord(
  segment: Segment,
  record: WalRecord,
  offset: number,
  replay: Replay,
  chained: boolean,
): StorageFailure | undefined {
  switch (record.type) {
    case "segment":
      if (record.seq !== segment.seq)
        return corruption(segment.path, offset, `segment header says ${record.seq}`);
      if (chained && record.prevCrc !== replay.lastCrc)
        return corruption(segment.path, offset, "crc chain broken between segments");
      return undefined;
    case "entry":
      return replayEntry(segment, record.entry, offset, replay);
    case "hardState":
      replay.hardState = record.hardState;
      return undefined;
    case "snapshot":
      replay.snapshots.push({ index: record.index, term: record.term });
      if (record.installed) {
        replay.first = record.index + 1;
        replay.entries = [];
      }
      return undefined;
    default:
      return unreachable(record, "wal record");
  }
}

/** An entry replaces the log from its index on (a conflicting suffix), or restarts it below. */
function replayEntry(
  segment: Segment,
  entry: Entry,
  offset: number,
  replay: Replay,
): StorageFailure | undefined {
  if (replay.first === undefined || entry.index < replay.first) {
    replay.first = entry.index;
    replay.entries = [entry];
    return undefined;
  }
  const next = replay.first + replay.entries.length;
  if (entry.index > next)
    return corruption(
      segment.path,
      offset,
      `entry ${entry.index} after ${next - 1}: a gap in the log`,
    );
  replay.entries.length = entry.index - replay.first;
  const prev = replay.entries.at(-1);
  if (prev !== undefined && prev.term > entry.term)
    return corruption(
      segment.path,
      offset,
      `entry ${entry.index} has term ${entry.term} after term ${prev.term}`,
    );
  replay.entries.push(entry);
  return undefined;
}

type TailRepair =
  | { readonly kind: "fresh" }
  | { readonly kind: "none"; readonly sizeBytes: number }
  | { readonly kind: "truncate"; readonly offsetBytes: number }
  | { readonly kind: "rewrite-header" };

/** Opens the last segment for appending, after repairing it (see TailRepair). */
function openTail(
  disk: Disk,
  dir: string,
  options: Required<WalOptions>,
  segments: Segment[],
  replay: Replay,
  repair: TailRepair,
  done: StorageCallback<{ wal: Wal; recovered: WalRecovered }>,
): void {
  const tail = segments.at(-1) as Segment;
  const lastIndex = replay.first === undefined ? 0 : replay.first + replay.entries.length - 1;
  const tracked: Tracked = {
    hardState: replay.hardState,
    marker: replay.snapshots.at(-1),
    lastIndex,
  };
  const recovered: WalRecovered = {
    hardState: replay.hardState,
    entries: replay.entries,
    snapshots: replay.snapshots,
    ...(repair.kind === "truncate"
      ? { truncatedTail: { file: tail.path, offsetBytes: repair.offsetBytes } }
      : {}),
  };
  const finish = (file: FileHandle, sizeBytes: number, crc: number): void => {
    const wal = Reflect.construct(Wal, [
      disk,
      dir,
      options,
      segments,
      file,
      sizeBytes,
      crc,
      tracked,
    ]) as Wal;
    done({ ok: true, value: { wal, recovered } });
  };
  switch (repair.kind) {
    case "none":
      return disk.open(tail.path, "write", (opened) => {
        if (!opened.ok) return done(fail(`open ${tail.path}`, opened));
        finish(opened.value, repair.sizeBytes, replay.lastCrc);
      });
    case "truncate":
      return truncateTail(disk, tail.path, repair.offsetBytes, (r) => {
        if (!r.ok) return done(r);
        finish(r.value, repair.offsetBytes, replay.lastCrc);
      });
    case "fresh":
    case "rewrite-header":
      return writeHeader(disk, dir, tail, tracked, replay.lastCrc, repair.kind === "fresh", (r) => {
        if (!r.ok) return done(r);
        finish(r.value.file, r.value.sizeBytes, r.value.crc);
      });
    default:
      return unreachable(repair, "tail repair");
  }
}

function truncateTail(
  disk: Disk,
  path: string,
  lengthBytes: number,
  done: StorageCallback<FileHandle>,
): void {
  disk.open(path, "write", (opened) => {
    if (!opened.ok) return done(fail(`open ${path}`, opened));
    disk.truncate(opened.value, lengthBytes, (cut) => {
      if (!cut.ok) return done(fail(`truncate ${path}`, cut));
      disk.fsync(opened.value, (synced) => {
        if (!synced.ok) return done(fail(`fsync ${path}`, synced));
        done({ ok: true, value: opened.value });
      });
    });
  });
}

/** (Re)writes a segment's opening records: a new WAL's first segment, or a tail torn before them. */
function writeHeader(
  disk: Disk,
  dir: string,
  segment: Segment,
  tracked: Tracked,
  prevCrc: number,
  create: boolean,
  done: StorageCallback<{ file: FileHandle; sizeBytes: number; crc: number }>,
): void {
  const records: WalRecord[] = [
    { type: "segment", seq: segment.seq, prevCrc },
    { type: "hardState", hardState: tracked.hardState },
  ];
  const m = tracked.marker;
  if (m !== undefined)
    records.push({ type: "snapshot", index: m.index, term: m.term, installed: false });
  const { bytes, crc } = encodeRecords(records, prevCrc);
  const write = (file: FileHandle): void => {
    disk.append(file, bytes, (written) => {
      if (!written.ok) return done(fail(`write ${segment.path}`, written));
      disk.fsync(file, (synced) => {
        if (!synced.ok) return done(fail(`fsync ${segment.path}`, synced));
        disk.fsyncDir(dir, (dirSynced) => {
          if (!dirSynced.ok) return done(fail(`fsync dir ${dir}`, dirSynced));
          done({ ok: true, value: { file, sizeBytes: bytes.length, crc } });
        });
      });
    });
  };
  if (create) {
    return disk.open(segment.path, "create", (opened) => {
      if (!opened.ok) return done(fail(`create ${segment.path}`, opened));
      write(opened.value);
    });
  }
  truncateTail(disk, segment.path, 0, (r) => {
    if (!r.ok) return done(r);
    write(r.value);
  });
}
