// ReadIndex bookkeeping on the leader (ReadOnlySafe): each request waits for a heartbeat round
// that carries its context to be acknowledged by a quorum, which proves that this node was still
// the leader when the read index was taken.
import { assert } from "../lib/assert.js";
import type { Message, NodeId } from "./types.js";

/** A pending read: the commit index when it arrived, the request, and who acknowledged it. */
export interface ReadIndexStatus {
  readonly index: number;
  readonly req: Message;
  readonly acks: Map<NodeId, boolean>;
}

/** A request context as a map key (bytes mapped one-to-one onto UTF-16 code units). */
export function contextKey(ctx: Uint8Array): string {
  let s = "";
  for (let i = 0; i < ctx.length; i++) s += String.fromCharCode(ctx[i] as number);
  return s;
}

/**
 * The queue of ReadIndex requests waiting for a quorum of heartbeat acknowledgements.
 * Contract: contexts are unique among pending requests (a duplicate is ignored, as in etcd);
 * requests are answered in arrival order — an acknowledgement of a later request also confirms
 * every earlier one, because the heartbeat round started after they arrived.
 */
export class ReadOnly {
  private readonly pending = new Map<string, ReadIndexStatus>();
  private queue: string[] = [];

  /** Registers a request read at `index` (the leader's commit index now). */
  addRequest(index: number, req: Message): void {
    const key = contextKey(req.context);
    if (this.pending.has(key)) return;
    this.pending.set(key, { index, req, acks: new Map() });
    this.queue.push(key);
  }

  /** Records `id`'s acknowledgement of the round with `ctx`; returns that round's acks. */
  recvAck(id: NodeId, ctx: Uint8Array): ReadonlyMap<NodeId, boolean> | undefined {
    const rs = this.pending.get(contextKey(ctx));
    if (rs === undefined) return undefined;
    rs.acks.set(id, true);
    return rs.acks;
  }

  /** Removes and returns every request up to and including the one with `ctx`, oldest first. */
  advance(ctx: Uint8Array): ReadIndexStatus[] {
    const key = contextKey(ctx);
    const at = this.queue.indexOf(key);
    if (at < 0) return [];
    const done = this.queue.slice(0, at + 1);
    this.queue = this.queue.slice(at + 1);
    return done.map((k) => {
      const rs = this.pending.get(k);
      assert(rs !== undefined, "read-only queue and map disagree");
      this.pending.delete(k);
      return rs;
    });
  }

  /** The context of the newest pending request (carried by heartbeats), if any. */
  lastPendingRequestCtx(): Uint8Array | undefined {
    const key = this.queue[this.queue.length - 1];
    return key === undefined ? undefined : this.pending.get(key)?.req.context;
  }
}
