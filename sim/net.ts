// The simulated network: per-link latency and jitter, loss, duplication, reordering, clogging
// (hold, then release in order) and partitions (isolate, groups, one-way cuts, bridges), on the
// world's virtual clock. Every random decision draws from the "network" stream, in send order.
import { assert } from "../src/lib/assert.js";
import type { Prng } from "../src/lib/prng.js";
import type { EndpointId, Network } from "../src/env/network.js";
import type { World } from "./world.js";

export interface LinkFaults {
  readonly latencyMs: number;
  readonly jitterMs: number;
  /** Probability that a message is lost. */
  readonly loss: number;
  /** Probability that a message is delivered twice. */
  readonly duplicate: number;
  /** Probability that a message skips the link's FIFO order and takes up to reorderDelayMs more. */
  readonly reorder: number;
  readonly reorderDelayMs: number;
}

export const CALM_LINK: LinkFaults = {
  latencyMs: 1,
  jitterMs: 1,
  loss: 0,
  duplicate: 0,
  reorder: 0,
  reorderDelayMs: 0,
};

export interface NetworkStats {
  sent: number;
  delivered: number;
  lost: number;
  cut: number;
  duplicated: number;
  reordered: number;
}

interface Link {
  readonly from: EndpointId;
  readonly to: EndpointId;
  faults: LinkFaults;
  /** The latest delivery time scheduled on this link: FIFO unless a message is reordered. */
  lastDeliveryMs: number;
  clogged: boolean;
  held: Array<() => void>;
}

export interface SimNetworkOptions<M> {
  readonly defaults: LinkFaults;
  /** A digest of a message for the trace hash. */
  readonly digest: (message: M) => number;
  /** A short kind for the trace, e.g. the message type. */
  readonly kind: (message: M) => string;
}

/** A cut of the direction from -> to. */
export type OneWayCut = readonly [from: EndpointId, to: EndpointId];

type Handler<M> = (from: EndpointId, message: M) => void;

export class SimNetwork<M> implements Network<M> {
  private readonly handlers = new Map<EndpointId, Handler<M>>();
  /** Links by sender, then receiver (looked up on every send), and in order of creation. */
  private readonly links = new Map<EndpointId, Map<EndpointId, Link>>();
  private readonly linksInOrder: Link[] = [];
  /** Cut links, counted: overlapping partitions each add a cut and each removes only its own. */
  private readonly blocked = new Map<EndpointId, Map<EndpointId, number>>();
  private defaults: LinkFaults;
  private readonly random: Prng;
  readonly stats: NetworkStats = {
    sent: 0,
    delivered: 0,
    lost: 0,
    cut: 0,
    duplicated: 0,
    reordered: 0,
  };

  constructor(
    private readonly world: World,
    private readonly options: SimNetworkOptions<M>,
  ) {
    this.defaults = options.defaults;
    this.random = world.stream("network");
  }

  attach(id: EndpointId, handler: Handler<M>): void {
    this.handlers.set(id, handler);
  }

  detach(id: EndpointId): void {
    this.handlers.delete(id);
  }

  send(from: EndpointId, to: EndpointId, message: M): void {
    this.stats.sent++;
    if (this.isCut(from, to)) {
      this.stats.cut++;
      return;
    }
    const link = this.link(from, to);
    const faults = link.faults;
    if (faults.loss > 0 && this.random.chance(faults.loss)) {
      this.stats.lost++;
      return;
    }
    const copies = faults.duplicate > 0 && this.random.chance(faults.duplicate) ? 2 : 1;
    if (copies === 2) this.stats.duplicated++;
    for (let i = 0; i < copies; i++) {
      if (link.clogged) link.held.push(() => this.schedule(from, to, link, message));
      else this.schedule(from, to, link, message);
    }
  }

  // ---- faults ----

  /** Sets the faults of every link (existing and future) to `faults`. */
  setAllLinks(faults: LinkFaults): void {
    this.defaults = faults;
    for (const link of this.linksInOrder) link.faults = faults;
  }

  setLink(from: EndpointId, to: EndpointId, faults: LinkFaults): void {
    this.link(from, to).faults = faults;
  }

  get linkDefaults(): LinkFaults {
    return this.defaults;
  }

  /** Cuts `from -> to` only (an asymmetric partition). */
  cutOneWay(from: EndpointId, to: EndpointId): void {
    let row = this.blocked.get(from);
    if (row === undefined) this.blocked.set(from, (row = new Map()));
    row.set(to, (row.get(to) ?? 0) + 1);
  }

  /** Undoes one `cutOneWay(from, to)`; the link is open again when every cut on it is undone. */
  uncutOneWay(from: EndpointId, to: EndpointId): void {
    const row = this.blocked.get(from);
    const count = row?.get(to) ?? 0;
    if (row === undefined || count === 0) return;
    if (count === 1) row.delete(to);
    else row.set(to, count - 1);
  }

  /** Cuts both directions between a and b; returns the one-way cuts made (for `restore`). */
  cut(a: EndpointId, b: EndpointId): OneWayCut[] {
    this.cutOneWay(a, b);
    this.cutOneWay(b, a);
    return [
      [a, b],
      [b, a],
    ];
  }

  /** Cuts `id` from every endpoint in `others`, both ways. */
  isolate(id: EndpointId, others: readonly EndpointId[]): OneWayCut[] {
    return others.filter((other) => other !== id).flatMap((other) => this.cut(id, other));
  }

  /** Splits endpoints into groups that cannot reach each other. */
  split(groups: readonly (readonly EndpointId[])[]): OneWayCut[] {
    const cuts: OneWayCut[] = [];
    for (let i = 0; i < groups.length; i++) {
      for (let j = i + 1; j < groups.length; j++) {
        for (const a of groups[i] ?? [])
          for (const b of groups[j] ?? []) cuts.push(...this.cut(a, b));
      }
    }
    return cuts;
  }

  /** Two groups that reach each other only through `bridge`, which is in neither. */
  bridge(
    left: readonly EndpointId[],
    right: readonly EndpointId[],
    bridge: EndpointId,
  ): OneWayCut[] {
    assert(!left.includes(bridge) && !right.includes(bridge), "the bridge belongs to neither side");
    return this.split([left, right]);
  }

  /** Undoes the cuts a partition made; other partitions stay. */
  restore(cuts: readonly OneWayCut[]): void {
    for (const [from, to] of cuts) this.uncutOneWay(from, to);
  }

  /** Removes every partition (link faults and clogs stay). */
  heal(): void {
    this.blocked.clear();
  }

  isCut(from: EndpointId, to: EndpointId): boolean {
    return (this.blocked.get(from)?.get(to) ?? 0) > 0;
  }

  /** Holds messages on `from -> to` until `unclog`, which releases them in order. */
  clog(from: EndpointId, to: EndpointId): void {
    this.link(from, to).clogged = true;
  }

  unclog(from: EndpointId, to: EndpointId): void {
    const link = this.link(from, to);
    link.clogged = false;
    const held = link.held;
    link.held = [];
    for (const release of held) release();
  }

  unclogAll(): void {
    for (const link of [...this.linksInOrder]) this.unclog(link.from, link.to);
  }

  // ---- internals ----

  private schedule(from: EndpointId, to: EndpointId, link: Link, message: M): void {
    const faults = link.faults;
    let delay = faults.latencyMs + (faults.jitterMs > 0 ? this.random.int(0, faults.jitterMs) : 0);
    const reordered = faults.reorder > 0 && this.random.chance(faults.reorder);
    const now = this.world.nowMs;
    if (reordered) {
      this.stats.reordered++;
      delay += this.random.int(0, Math.max(0, faults.reorderDelayMs));
    } else {
      delay = Math.max(delay, link.lastDeliveryMs - now);
      link.lastDeliveryMs = now + delay;
    }
    const kind = this.options.kind(message);
    this.world.schedule(delay, to, kind, this.options.digest(message), () =>
      this.deliver(from, to, message),
    );
  }

  private deliver(from: EndpointId, to: EndpointId, message: M): void {
    if (this.isCut(from, to)) {
      this.stats.cut++;
      return;
    }
    const handler = this.handlers.get(to);
    if (handler === undefined) return;
    this.stats.delivered++;
    handler(from, message);
  }

  private link(from: EndpointId, to: EndpointId): Link {
    let row = this.links.get(from);
    if (row === undefined) this.links.set(from, (row = new Map()));
    let link = row.get(to);
    if (link === undefined) {
      link = { from, to, faults: this.defaults, lastDeliveryMs: 0, clogged: false, held: [] };
      row.set(to, link);
      this.linksInOrder.push(link);
    }
    return link;
  }
}
