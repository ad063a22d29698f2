// One Raft member in the simulator: a RawNode, its persisted log (MemoryStorage stands for the disk
// until the storage work brings WAL and snapshots), its host (clock, timers, up/paused/down) and the
// Ready loop: persist, then send, then apply, then advance.
import { assert } from "../../src/lib/assert.js";
import type { Prng } from "../../src/lib/prng.js";
import { MemoryStorage, RawNode } from "../../src/raft/index.js";
import type {
  ConfState,
  Entry,
  Message,
  NodeId,
  Ready,
  ReadState,
  StateType,
} from "../../src/raft/types.js";
import type { RaftSafetyChecker } from "../check/raft-safety.js";
import type { SimNetwork } from "../net.js";
import type { SimHost } from "../sim-host.js";

export interface RaftMemberOptions {
  readonly id: NodeId;
  readonly host: SimHost;
  readonly network: SimNetwork<Message>;
  readonly random: Prng;
  readonly voters: readonly NodeId[];
  readonly heartbeatMs: number;
  readonly electionMs: number;
  readonly preVote: boolean;
  readonly checkQuorum: boolean;
  readonly checker: RaftSafetyChecker;
  /** Called for each applied entry that carries data (not the leader's empty entry). */
  readonly onApply: (member: RaftMember, entry: Entry) => void;
  /** Called when a ReadIndex request made at this member is answered. */
  readonly onReadState: (member: RaftMember, state: ReadState) => void;
}

export function memberName(id: NodeId): string {
  return `m${id}`;
}

export class RaftMember {
  readonly name: string;
  private readonly storage: MemoryStorage;
  private node: RawNode;
  private roleNow: StateType = "StateFollower";
  private leadNow: NodeId = 0;
  private appliedIndex = 0;

  constructor(private readonly o: RaftMemberOptions) {
    this.name = memberName(o.id);
    const confState: ConfState = {
      voters: [...o.voters],
      learners: [],
      votersOutgoing: [],
      learnersNext: [],
      autoLeave: false,
    };
    this.storage = new MemoryStorage({ confState, hardState: { term: 0, vote: 0, commit: 0 } });
    this.node = this.newNode();
    o.network.attach(this.name, (_from, m) => o.host.run(() => this.receive(m)));
    this.scheduleTick();
  }

  get role(): StateType {
    return this.host.state === "down" ? "StateFollower" : this.roleNow;
  }

  get lead(): NodeId {
    return this.leadNow;
  }

  get term(): number {
    return this.storage.initialState().hardState.term;
  }

  /** The persisted commit index. */
  get commitIndex(): number {
    return this.storage.initialState().hardState.commit;
  }

  get host(): SimHost {
    return this.o.host;
  }

  get applied(): number {
    return this.appliedIndex;
  }

  /** Offers a proposal; "dropped" when this member cannot accept it (no leader, transfer, down). */
  propose(data: Uint8Array): "ok" | "dropped" {
    if (this.host.state !== "up") return "dropped";
    const result = this.node.propose(data);
    this.drain();
    return result;
  }

  /** Asks for a linearizable read point; the answer comes through onReadState, or never. */
  readIndex(ctx: Uint8Array): void {
    if (this.host.state !== "up") return;
    this.node.readIndex(ctx);
    this.drain();
  }

  crash(): void {
    this.host.crash();
    this.roleNow = "StateFollower";
    this.leadNow = 0;
  }

  /** Restarts from the persisted log; the in-memory state machine is rebuilt by re-applying. */
  restart(): void {
    this.host.restart();
    this.appliedIndex = 0;
    this.o.checker.onRestart(this.name, 0);
    this.node = this.newNode();
    this.scheduleTick();
  }

  private newNode(): RawNode {
    return new RawNode({
      id: this.o.id,
      electionTick: Math.round(this.o.electionMs / this.o.heartbeatMs),
      heartbeatTick: 1,
      storage: this.storage,
      applied: this.appliedIndex,
      preVote: this.o.preVote,
      checkQuorum: this.o.checkQuorum,
      random: this.o.random,
    });
  }

  private scheduleTick(): void {
    this.host.schedule(this.o.heartbeatMs, () => {
      this.node.tick();
      this.drain();
      this.scheduleTick();
    });
  }

  private receive(m: Message): void {
    this.node.step(m);
    this.drain();
  }

  private drain(): void {
    while (this.node.hasReady()) {
      const rd = this.node.ready();
      this.persist(rd);
      if (rd.softState !== undefined) this.onSoftState(rd.softState.raftState, rd.softState.lead);
      for (const m of rd.messages) {
        assert(m.to !== this.o.id, () => `${this.name} sent ${m.type} to itself`);
        this.o.network.send(this.name, memberName(m.to), m);
      }
      for (const e of rd.committedEntries) this.apply(e);
      for (const rs of rd.readStates) this.o.onReadState(this, rs);
      this.node.advance(rd);
    }
  }

  private persist(rd: Ready): void {
    if (rd.snapshot !== undefined) this.storage.applySnapshot(rd.snapshot);
    const first = rd.entries[0];
    if (first !== undefined) {
      this.o.checker.onAppend(this.name, rd.entries, this.termAt(first.index - 1) ?? 0);
      this.storage.append(rd.entries);
    }
    if (rd.hardState !== undefined) {
      this.storage.setHardState(rd.hardState);
      this.o.checker.onCommit(this.name, rd.hardState.commit, (i) => this.entryAt(i));
    }
  }

  private onSoftState(role: StateType, lead: NodeId): void {
    const wasLeader = this.roleNow === "StateLeader";
    this.roleNow = role;
    this.leadNow = lead;
    if (role === "StateLeader" && !wasLeader) {
      this.o.checker.onLeader(this.name, this.term, (i) => this.termAt(i));
    }
  }

  private apply(e: Entry): void {
    this.o.checker.onApply(this.name, e);
    this.appliedIndex = e.index;
    if (e.data.length > 0) this.o.onApply(this, e);
  }

  private termAt(index: number): number | undefined {
    const t = this.storage.term(index);
    return typeof t === "number" ? t : undefined;
  }

  private entryAt(index: number): Entry | undefined {
    const got = this.storage.entries(index, index + 1, Number.POSITIVE_INFINITY);
    return typeof got === "string" ? undefined : got[0];
  }
}
