// Simulated clients of the KV cluster: endpoints on the same SimNetwork as the members.
//
// SimClient sends one request at a time to a member and waits on virtual time: a reply that does not
// come within the timeout leaves the outcome unknown (the request may still be applied).
//
// SimWatcher keeps a watch on a key range from revision 1 over a lossy network the way an etcd
// client does over a connection that can break: responses carry a per-stream sequence number, and a
// gap, a cancel, or silence after a progress request counts as a broken stream; the watcher then
// closes it and watches again, on another member, from the revision after the last one it saw.
import type { EtcdError } from "../../src/api/errors.js";
import type { Event, KeyValue } from "../../src/api/kv.js";
import type { WatchCreateRequest, WatchResponse } from "../../src/api/rpc.js";
import { bytesToLatin1 } from "../../src/lib/bytes.js";
import type { Prng } from "../../src/lib/prng.js";
import type { SimNetwork } from "../net.js";
import { digestWords } from "../trace-hash.js";
import type { SimEvent, World } from "../world.js";
import type {
  ClientRequest,
  ClientResponse,
  NetMessage,
  WatchStreamRequest,
} from "./kv-cluster.js";

export type Outcome =
  | { readonly type: "ok"; readonly response: ClientResponse }
  | { readonly type: "error"; readonly error: EtcdError }
  | { readonly type: "timeout" };

interface Pending {
  readonly done: (outcome: Outcome) => void;
  readonly timer: SimEvent;
}

export class SimClient {
  private nextRequestId = 0;
  private readonly pending = new Map<number, Pending>();

  constructor(
    private readonly world: World,
    private readonly network: SimNetwork<NetMessage>,
    readonly name: string,
    private readonly timeoutMs: number,
  ) {
    network.attach(name, (_from, m) => {
      if (m.type !== "client-response") return;
      const p = this.pending.get(m.requestId);
      if (p === undefined) return; // a duplicate, or an answer after the timeout
      this.pending.delete(m.requestId);
      this.world.cancel(p.timer);
      p.done(
        m.result.ok
          ? { type: "ok", response: m.result.value }
          : { type: "error", error: m.result.error },
      );
    });
  }

  /** Sends `request` to `member`; `done` runs once, with the answer or a timeout. */
  call(member: string, request: ClientRequest, done: (outcome: Outcome) => void): void {
    const requestId = this.nextRequestId++;
    const timer = this.world.schedule(
      this.timeoutMs,
      this.name,
      "client-timeout",
      requestId,
      () => {
        if (this.pending.delete(requestId)) done({ type: "timeout" });
      },
    );
    this.pending.set(requestId, { done, timer });
    this.network.send(this.name, member, { type: "client-request", requestId, request });
  }
}

export interface SimWatcherOptions {
  readonly key: Uint8Array;
  readonly rangeEnd: Uint8Array;
  /** How often the watcher asks for progress (and checks the stream is alive). */
  readonly progressEveryMs: number;
  /** Silence for this long after asking for progress breaks the stream. */
  readonly staleAfterMs: number;
  readonly prevKv: boolean;
  /** Ask for periodic progress notifications too. */
  readonly progressNotify: boolean;
  /** List first and watch from the list's revision + 1 (a Kubernetes reflector); else from 1. */
  readonly listFirst: boolean;
  /** Waiting for a list answer (or between list attempts). */
  readonly listRetryMs: number;
}

/**
 * A stretch of one watcher's history without a gap: from `startRevision` on, `events` are every
 * event of the range up to `seenRevision`. A new segment starts after each re-list.
 */
export interface WatchSegment {
  readonly startRevision: number;
  readonly events: Event[];
  seenRevision: number;
}

/** One watch response as a watcher received it, for reports (watch.json). */
export interface ReceivedWatchResponse {
  readonly atMs: number;
  readonly member: string;
  readonly streamId: number;
  readonly response: WatchResponse;
}

/**
 * A watcher that behaves like a Kubernetes reflector: it watches from where it is; a broken stream
 * (a gap, a cancel, silence after a progress request) is resumed on another member from the
 * revision after the last one it saw; a watch canceled because its start was compacted is followed
 * by a fresh list, and the watch resumes from the list's revision (a new WatchSegment).
 */
export class SimWatcher {
  readonly segments: WatchSegment[] = [];
  readonly received: ReceivedWatchResponse[] = [];
  /** The create request of each stream, by stream id (one watch per stream). */
  readonly creates = new Map<number, WatchCreateRequest>();
  reconnects = 0;
  relists = 0;
  private streamId = 0;
  private member = "";
  private expectedSeq = 0;
  private requestSeq = 0;
  private lastHeardMs = 0;
  private listing = false;
  private stopped = false;

  constructor(
    private readonly world: World,
    private readonly network: SimNetwork<NetMessage>,
    readonly name: string,
    private readonly lister: SimClient,
    private readonly members: readonly string[],
    private readonly random: Prng,
    private readonly o: SimWatcherOptions,
  ) {
    network.attach(name, (from, m) => {
      if (m.type === "watch-response") this.onResponse(from, m.streamId, m.seq, m.responses);
    });
  }

  /** Every event accepted, in order of arrival, over all segments. */
  get events(): Event[] {
    return this.segments.flatMap((s) => s.events);
  }

  /** Every revision up to this one has been delivered (events or a progress answer). */
  get seenRevision(): number {
    return this.segments[this.segments.length - 1]?.seenRevision ?? 0;
  }

  start(): void {
    if (this.o.listFirst) this.relist();
    else {
      this.segments.push({ startRevision: 1, events: [], seenRevision: 0 });
      this.open();
    }
    this.tick();
  }

  /** Stops asking for progress (the run is ending); the stream stays open. */
  stop(): void {
    this.stopped = true;
  }

  private open(): void {
    this.member = this.random.pick(this.members);
    this.expectedSeq = 0;
    this.requestSeq = 0;
    this.lastHeardMs = this.world.nowMs;
    const create: WatchCreateRequest = {
      key: this.o.key,
      range_end: this.o.rangeEnd,
      start_revision: this.seenRevision + 1,
      prev_kv: this.o.prevKv,
      progress_notify: this.o.progressNotify,
    };
    this.creates.set(this.streamId, create);
    this.send({ request_union: "create_request", create_request: create });
  }

  /** Ends the current stream; later responses on it are ignored. */
  private closeStream(): void {
    this.send({ request_union: "close" });
    this.streamId++;
  }

  private reconnect(): void {
    this.closeStream();
    this.reconnects++;
    this.open();
  }

  /** Lists the range (linearizably) and watches again from the list's revision + 1. */
  private relist(): void {
    this.listing = true;
    this.relists++;
    const request: ClientRequest = {
      kind: "range",
      request: { key: this.o.key, range_end: this.o.rangeEnd, keys_only: true },
    };
    this.lister.call(this.random.pick(this.members), request, (outcome) => {
      if (outcome.type !== "ok") {
        this.world.schedule(this.o.listRetryMs, this.name, "relist", 0, () => this.relist());
        return;
      }
      const revision = outcome.response.response.header.revision;
      this.segments.push({ startRevision: revision + 1, events: [], seenRevision: revision });
      this.listing = false;
      this.open();
    });
  }

  private send(request: WatchStreamRequest): void {
    const seq = this.requestSeq++;
    this.network.send(this.name, this.member, {
      type: "watch-request",
      streamId: this.streamId,
      seq,
      request,
    });
  }

  private tick(): void {
    const digest = digestWords(this.streamId, this.expectedSeq);
    this.world.schedule(this.o.progressEveryMs, this.name, "watch-progress", digest, () => {
      if (this.listing) {
        // Nothing to ask while a list is under way.
      } else if (this.world.nowMs - this.lastHeardMs > this.o.staleAfterMs) this.reconnect();
      else this.send({ request_union: "progress_request", progress_request: {} });
      if (!this.stopped) this.tick();
    });
  }

  private onResponse(
    from: string,
    streamId: number,
    seq: number,
    responses: readonly WatchResponse[],
  ): void {
    if (this.listing || streamId !== this.streamId || from !== this.member) return;
    if (seq < this.expectedSeq) return;
    if (seq > this.expectedSeq) return this.reconnect(); // a lost message: the stream is broken
    this.expectedSeq++;
    this.lastHeardMs = this.world.nowMs;
    for (const r of responses) {
      this.received.push({ atMs: this.world.nowMs, member: from, streamId, response: r });
      if (r.canceled && r.compact_revision > 0) {
        this.closeStream();
        return this.relist();
      }
      if (r.canceled) return this.reconnect();
      this.accept(r);
    }
  }

  private accept(r: WatchResponse): void {
    const segment = this.segments[this.segments.length - 1] as WatchSegment;
    if (r.events.length > 0) {
      segment.events.push(...r.events);
      const last = r.events[r.events.length - 1] as Event;
      segment.seenRevision = Math.max(segment.seenRevision, last.kv.mod_revision);
    } else if (r.watch_id === -1 || (!r.created && !r.canceled)) {
      // A progress answer (requested: watch_id -1; periodic: the watcher's id): every event up to
      // the header revision has been sent on this stream.
      segment.seenRevision = Math.max(segment.seenRevision, r.header.revision);
    }
  }
}

/** A one-line description of an event, for messages about event sequences. */
export function describeEvent(e: { type: string; kv: KeyValue }): string {
  const kv = e.kv;
  const text = bytesToLatin1;
  return `${e.type} ${text(kv.key)}@${kv.mod_revision} c${kv.create_revision} v${kv.version} l${kv.lease} =${text(kv.value)}`;
}
