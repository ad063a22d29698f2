// Linearizable reads: etcd's linearizable read loop. Reads that arrive while a ReadIndex request is
// in flight wait for the next one, so one heartbeat round serves a whole batch. When the read state
// for a batch arrives, its reads run as soon as the member has applied up to the read index.

import { bytesToLatin1 } from "../lib/bytes.js";
import { Errors, type EtcdError } from "../api/errors.js";
import type { Random } from "../env/random.js";
import type { TimerId, Timers } from "../env/timers.js";
import type { ReadState } from "../raft/types.js";

/** One waiting read: `run` serves it from the applied state, `fail` answers an error. */
interface PendingRead {
  readonly run: () => void;
  readonly fail: (error: EtcdError) => void;
  timer: TimerId;
  settled: boolean;
}

interface Inflight {
  readonly ctx: Uint8Array;
  readonly key: string;
  readonly reads: PendingRead[];
  retry: TimerId;
}

export interface ReadIndexHooks {
  readonly timers: Timers;
  readonly random: Random;
  /** Asks Raft for a read index with this context (RawNode.readIndex). */
  readonly requestReadIndex: (ctx: Uint8Array) => void;
  /** The member's applied index. */
  readonly appliedIndex: () => number;
  /** Queues a callback to run after the member's Ready loop. */
  readonly defer: (callback: () => void) => void;
  readonly timeoutMs: number;
  readonly retryMs: number;
}

/**
 * The read queue of one member. Contract: every read passed to `read` is answered exactly once
 * (run, or failed with Timeout, LeaderChanged or Stopped), through `defer`; a run happens only after
 * the member applied at least the index Raft confirmed for it.
 */
export class ReadIndexQueue {
  private pending: PendingRead[] = [];
  private inflight: Inflight | undefined;
  /** Batches with a confirmed index, waiting for apply, in index order. */
  private waiting: { index: number; reads: PendingRead[] }[] = [];
  private nextCtx = 0;
  /** Random per queue, so an answer to a context from before a restart matches nothing now. */
  private readonly epoch: number;

  constructor(private readonly hooks: ReadIndexHooks) {
    this.epoch = hooks.random.int(0, 0xffff_ffff);
  }

  read(run: () => void, fail: (error: EtcdError) => void): void {
    const read: PendingRead = { run, fail, settled: false, timer: 0 };
    read.timer = this.hooks.timers.schedule(this.hooks.timeoutMs, () =>
      this.settle(read, () => fail(Errors.Timeout)),
    );
    this.pending.push(read);
    if (this.inflight === undefined) this.start();
  }

  /** A read state from Ready; ones for other contexts (a retried, already answered batch) are ignored. */
  onReadState(rs: ReadState): void {
    const inflight = this.inflight;
    if (inflight === undefined || bytesToLatin1(rs.requestCtx) !== inflight.key) return;
    this.hooks.timers.cancel(inflight.retry);
    this.inflight = undefined;
    const last = this.waiting[this.waiting.length - 1];
    if (last !== undefined && last.index > rs.index) last.reads.push(...inflight.reads);
    else this.waiting.push({ index: rs.index, reads: inflight.reads });
    if (this.pending.length > 0) this.start();
    this.onApplied();
  }

  /** Runs the reads whose index is now applied. */
  onApplied(): void {
    const applied = this.hooks.appliedIndex();
    while (this.waiting.length > 0 && (this.waiting[0] as { index: number }).index <= applied) {
      const batch = this.waiting.shift() as { reads: PendingRead[] };
      for (const read of batch.reads) this.settle(read, read.run);
    }
  }

  /** The leader changed: the batch in flight may never be answered, so it fails (etcd does so). */
  onLeaderChanged(): void {
    const inflight = this.inflight;
    if (inflight === undefined) return;
    this.hooks.timers.cancel(inflight.retry);
    this.inflight = undefined;
    for (const read of inflight.reads) this.settle(read, () => read.fail(Errors.LeaderChanged));
    if (this.pending.length > 0) this.start();
  }

  /** Fails every read (the member stops). */
  failAll(error: EtcdError): void {
    if (this.inflight !== undefined) this.hooks.timers.cancel(this.inflight.retry);
    const all = [
      ...(this.inflight?.reads ?? []),
      ...this.waiting.flatMap((b) => b.reads),
      ...this.pending,
    ];
    this.inflight = undefined;
    this.waiting = [];
    this.pending = [];
    for (const read of all) this.settle(read, () => read.fail(error));
  }

  private start(): void {
    const reads = this.pending.filter((r) => !r.settled);
    this.pending = [];
    if (reads.length === 0) return;
    const ctx = new Uint8Array(8);
    const view = new DataView(ctx.buffer);
    view.setUint32(0, this.epoch);
    view.setUint32(4, this.nextCtx);
    this.nextCtx = (this.nextCtx + 1) % 0x1_0000_0000;
    const inflight: Inflight = { ctx, key: bytesToLatin1(ctx), reads, retry: 0 };
    this.inflight = inflight;
    this.ask(inflight);
  }

  private ask(inflight: Inflight): void {
    this.hooks.requestReadIndex(inflight.ctx);
    inflight.retry = this.hooks.timers.schedule(this.hooks.retryMs, () => {
      if (this.inflight === inflight) this.ask(inflight);
    });
  }

  private settle(read: PendingRead, answer: () => void): void {
    if (read.settled) return;
    read.settled = true;
    this.hooks.timers.cancel(read.timer);
    this.hooks.defer(answer);
  }
}
