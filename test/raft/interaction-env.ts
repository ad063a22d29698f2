// A small cluster of RawNodes driven by text commands, for golden interaction scripts and unit
// tests. The test is the scheduler: messages wait in one queue until a command delivers or drops
// them, and a node's Ready is processed only when a command says so.
import { assert } from "../../src/lib/assert.js";
import type { Random } from "../../src/env/random.js";
import {
  MemoryStorage,
  RawNode,
  decodeConfChange,
  describeConfChange,
  describeConfState,
  describeEntry,
  describeMessage,
  describeReady,
  describeSnapshot,
  type ConfState,
  type Entry,
  type Message,
  type NodeId,
  type RaftConfig,
  type Ready,
} from "../../src/raft/index.js";

/**
 * Election timeouts on demand: int(lo, hi) returns lo + jitter (clamped to hi), so with jitter 0
 * every node times out after exactly electionTick ticks.
 */
export class ScriptedRandom implements Random {
  jitter = 0;
  /** When set, draws come from here instead (randomized tests). */
  delegate: Random | undefined = undefined;
  float(): number {
    return this.delegate?.float() ?? 0;
  }
  int(lo: number, hi: number): number {
    if (this.delegate !== undefined) return this.delegate.int(lo, hi);
    return Math.min(hi, lo + this.jitter);
  }
  chance(p: number): boolean {
    return p >= 1;
  }
  pick<T>(items: readonly T[]): T {
    return items[0] as T;
  }
  shuffle<T>(items: readonly T[]): T[] {
    return items.slice();
  }
}

export type NodeOptions = Omit<RaftConfig, "id" | "storage" | "random" | "applied">;

/** One member: its RawNode, its "disk" and its tiny state machine (the applied values). */
export interface NodeEnv {
  readonly id: NodeId;
  node: RawNode;
  readonly storage: MemoryStorage;
  readonly random: ScriptedRandom;
  readonly options: NodeOptions;
  /** Applied entry payloads as text (the no-op entries of new leaders are skipped). */
  values: string[];
  appliedIndex: number;
  /** The configuration of the last applied change (or snapshot), kept for the next snapshot. */
  confState: ConfState;
}

/** The initial membership of nodes added together: by default they are the voters. */
export interface InitialConfig {
  voters?: NodeId[];
  learners?: NodeId[];
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function bytes(s: string): Uint8Array {
  return encoder.encode(s);
}

export interface MessageFilter {
  from?: NodeId;
  to?: NodeId;
  type?: string;
}

function matches(m: Message, f: MessageFilter): boolean {
  return (
    (f.from === undefined || m.from === f.from) &&
    (f.to === undefined || m.to === f.to) &&
    (f.type === undefined || m.type === f.type)
  );
}

function indent(text: string): string {
  return text
    .split("\n")
    .map((l) => `  ${l}`)
    .join("\n");
}

export class InteractionEnv {
  readonly nodes = new Map<NodeId, NodeEnv>();
  /** Messages sent and not yet delivered or dropped, in send order. */
  messages: Message[] = [];
  /** Groups that cannot reach each other; empty when the network is whole. */
  partition: NodeId[][] = [];
  /** When true, deliver() reports every MsgSnap's fate to its sender, as a transport must. */
  reportSnapshots = false;
  /** Called for every committed entry a node applies (safety checks hook in here). */
  onApply: ((id: NodeId, e: Entry) => void) | undefined = undefined;

  /**
   * Adds `count` nodes. Without `initial` they form the group's voters; with it they all start
   * from that configuration, which may leave them out (a member about to be added by a change).
   */
  addNodes(count: number, options: NodeOptions, initial?: InitialConfig): void {
    const first = this.nodes.size + 1;
    const ids = Array.from({ length: count }, (_, i) => first + i);
    const confState: ConfState = {
      voters: initial?.voters ?? ids,
      learners: initial?.learners ?? [],
      votersOutgoing: [],
      learnersNext: [],
      autoLeave: false,
    };
    for (const id of ids) {
      const storage = new MemoryStorage({ confState, hardState: { term: 0, vote: 0, commit: 0 } });
      const random = new ScriptedRandom();
      const node = new RawNode({ ...options, id, storage, random });
      const n = { id, node, storage, random, options, values: [], appliedIndex: 0, confState };
      this.nodes.set(id, n);
    }
  }

  get(id: NodeId): NodeEnv {
    const n = this.nodes.get(id);
    assert(n !== undefined, () => `no node ${id}`);
    return n;
  }

  ids(): NodeId[] {
    return [...this.nodes.keys()].sort((a, b) => a - b);
  }

  /**
   * Runs one Ready of `id` as the application must: persist, check that every message's promise
   * is now durable, queue the messages, apply, advance. Returns the rendering, or undefined.
   */
  processReady(id: NodeId): string | undefined {
    // An early-sent Ready must be written before any later one.
    if (this.heldReadies.has(id)) this.persistHeldReady(id);
    const n = this.get(id);
    if (!n.node.hasReady()) return undefined;
    const rd = n.node.ready();
    this.persist(n, rd);
    checkPersistBeforeSend(n, rd);
    this.messages.push(...rd.messages);
    const applied = this.apply(n, rd);
    n.node.advance(rd);
    return [describeReady(rd), ...applied].join("\n");
  }

  /** Readies taken by `sendReadyEarly` whose persistence has not happened yet. */
  readonly heldReadies = new Map<NodeId, Ready>();

  /**
   * The leader's parallel-write optimization: take the Ready and send its messages now, before
   * anything is persisted. `persistHeldReady` finishes it; a restart in between loses it.
   */
  sendReadyEarly(id: NodeId): string | undefined {
    const n = this.get(id);
    assert(!this.heldReadies.has(id), () => `node ${id} already holds a Ready`);
    if (!n.node.hasReady()) return undefined;
    const rd = n.node.ready();
    assert(n.node.status().softState.raftState === "StateLeader", "only a leader may send early");
    this.messages.push(...rd.messages);
    this.heldReadies.set(id, rd);
    return describeReady(rd);
  }

  persistHeldReady(id: NodeId): void {
    const n = this.get(id);
    const rd = this.heldReadies.get(id);
    assert(rd !== undefined, () => `node ${id} holds no Ready`);
    this.heldReadies.delete(id);
    this.persist(n, rd);
    this.apply(n, rd);
    n.node.advance(rd);
  }

  private persist(n: NodeEnv, rd: Ready): void {
    if (rd.snapshot !== undefined) n.storage.applySnapshot(rd.snapshot);
    n.storage.append(rd.entries);
    if (rd.hardState !== undefined) n.storage.setHardState(rd.hardState);
  }

  /** Applies the Ready's snapshot and entries; returns one line per configuration change. */
  private apply(n: NodeEnv, rd: Ready): string[] {
    const lines: string[] = [];
    if (rd.snapshot !== undefined) {
      const text = decoder.decode(rd.snapshot.data);
      n.values = text === "" ? [] : text.split(",");
      n.appliedIndex = rd.snapshot.metadata.index;
      n.confState = rd.snapshot.metadata.confState;
    }
    for (const e of rd.committedEntries) {
      assert(
        e.index === n.appliedIndex + 1,
        () => `node ${n.id} applies ${e.index} after ${n.appliedIndex}`,
      );
      if (e.type !== "EntryNormal") lines.push(this.applyConfChange(n, e));
      else if (e.data.length > 0) n.values.push(decoder.decode(e.data));
      n.appliedIndex = e.index;
      this.onApply?.(n.id, e);
    }
    return lines;
  }

  /** As etcd's application does: every committed change goes to applyConfChange, in log order. */
  private applyConfChange(n: NodeEnv, e: Entry): string {
    const cc = decodeConfChange(e.type, e.data);
    assert(cc !== undefined, () => `node ${n.id}: undecodable ${describeEntry(e)}`);
    const r = n.node.applyConfChange(cc);
    if (!r.ok) return `${n.id} refused conf change ${describeConfChange(cc)}: ${r.error}`;
    n.confState = r.value;
    return `${n.id} switched to configuration ${describeConfState(r.value)}`;
  }

  /** Removes the queued messages that match and returns them in send order. */
  take(filter: MessageFilter): Message[] {
    const taken: Message[] = [];
    const kept: Message[] = [];
    for (const m of this.messages) (matches(m, filter) ? taken : kept).push(m);
    this.messages = kept;
    return taken;
  }

  reachable(from: NodeId, to: NodeId): boolean {
    if (this.partition.length === 0) return true;
    return this.partition.some((g) => g.includes(from) && g.includes(to));
  }

  /** Delivers (or drops) the matching messages; one line per message. */
  deliver(filter: MessageFilter, drop: boolean): string[] {
    const lines: string[] = [];
    for (const m of this.take(filter)) {
      if (drop) {
        lines.push(`dropped: ${describeMessage(m)}`);
      } else if (!this.reachable(m.from, m.to)) {
        lines.push(`dropped (partition): ${describeMessage(m)}`);
      } else {
        lines.push(describeMessage(m));
        this.get(m.to).node.step(m);
        if (m.type === "MsgSnap" && this.reportSnapshots)
          this.get(m.from).node.reportSnapshot(m.to, true);
        continue;
      }
      if (m.type === "MsgSnap" && this.reportSnapshots)
        this.get(m.from).node.reportSnapshot(m.to, false);
    }
    return lines;
  }

  /** Processes Readies and delivers messages among `ids` until nothing is left to do. */
  stabilize(ids: NodeId[]): string[] {
    const out: string[] = [];
    for (let round = 0; ; round++) {
      assert(round < 1000, "stabilize does not converge");
      let busy = false;
      for (const id of ids) {
        const rd = this.processReady(id);
        if (rd === undefined) continue;
        busy = true;
        out.push(`> ${id} handling Ready`, indent(rd));
      }
      for (const id of ids) {
        const lines = this.deliver({ to: id }, false);
        if (lines.length === 0) continue;
        busy = true;
        out.push(`> ${id} receiving messages`, ...lines.map((l) => `  ${l}`));
      }
      if (!busy) return out;
    }
  }

  /** A crash: the node restarts from what its storage holds; unpersisted state is lost. */
  restart(id: NodeId): void {
    const n = this.get(id);
    this.heldReadies.delete(id);
    const storage = n.storage;
    const snapshotText = decoder.decode(storage.snapshot().data);
    // The state machine is rebuilt from the last snapshot and then from the log by raft itself.
    n.values = snapshotText === "" ? [] : snapshotText.split(",");
    n.appliedIndex = storage.snapshot().metadata.index;
    n.confState = storage.snapshot().metadata.confState;
    n.node = new RawNode({
      ...n.options,
      id,
      storage,
      random: n.random,
      applied: n.appliedIndex,
    });
  }

  /** Snapshots the applied state at the applied index and compacts the log up to it. */
  compact(id: NodeId, index: number): void {
    const n = this.get(id);
    assert(
      index === n.appliedIndex,
      "compact at the applied index only (the values are the state)",
    );
    n.storage.createSnapshot(index, n.confState, bytes(n.values.join(",")));
    n.storage.compact(index);
  }

  status(id: NodeId): string[] {
    const st = this.get(id).node.status();
    const hs = st.hardState;
    const lines = [
      `${id}: Term:${hs.term} Vote:${hs.vote} Commit:${hs.commit} Lead:${st.softState.lead} ` +
        `State:${st.softState.raftState} Applied:${st.applied} LastIndex:${st.lastIndex}` +
        (st.leadTransferee !== 0 ? ` LeadTransferee:${st.leadTransferee}` : ""),
    ];
    for (const [peer, pr] of st.progress) {
      const learner = pr.isLearner ? " learner" : "";
      lines.push(`  ${peer}: ${pr.state} match=${pr.match} next=${pr.next}${learner}`);
    }
    return lines;
  }

  /** The durable log of a node (what survives a crash) and its applied values. */
  log(id: NodeId): string[] {
    const n = this.get(id);
    const s = n.storage;
    const lines: string[] = [];
    if (s.firstIndex() > 1) lines.push(`snapshot ${describeSnapshot(s.snapshot())}`);
    const ents = s.entries(s.firstIndex(), s.lastIndex() + 1, Infinity);
    if (Array.isArray(ents)) lines.push(...ents.map(describeEntry));
    lines.push(`applied: [${n.values.join(" ")}]`);
    return lines;
  }
}

/**
 * The persist-before-send rule, checked on every Ready: after the Ready's own entries, hard state
 * and snapshot are persisted, the storage must hold everything its messages promise — a granted
 * vote is recorded, and an accepted append is durably in the log.
 */
export function checkPersistBeforeSend(n: NodeEnv, rd: Ready): void {
  const { hardState } = n.storage.initialState();
  for (const m of rd.messages) {
    // A message of a term the node has since left promises nothing it could still break: the
    // durable higher term makes it refuse anything more of that term.
    if (m.term < hardState.term) continue;
    if (m.type === "MsgVote" || (m.type === "MsgVoteResp" && !m.reject)) {
      const votedFor = m.type === "MsgVote" ? n.id : m.to;
      assert(
        hardState.term === m.term && hardState.vote === votedFor,
        () => `${describeMessage(m)} sent before the vote was persisted`,
      );
    }
    if (m.type === "MsgAppResp" && !m.reject) {
      assert(
        n.storage.lastIndex() >= m.index && hardState.term >= m.term,
        () => `${describeMessage(m)} sent before its entries were persisted`,
      );
    }
  }
}
