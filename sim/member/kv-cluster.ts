// N etcd members on one simulated world. Peers and clients share one SimNetwork, so client traffic
// suffers the same faults as Raft traffic. Each member has its own SimHost (clock, timers,
// up/paused/down) and a MemoryStorage that survives a crash: a restarted member is a new Member on
// the old storage, which re-applies the committed log.
import { assert, unreachable } from "../../src/lib/assert.js";
import { bytesToLatin1 } from "../../src/lib/bytes.js";
import type { Result } from "../../src/lib/result.js";
import type { EtcdError } from "../../src/api/errors.js";
import type {
  CompactionRequest,
  CompactionResponse,
  DeleteRangeRequest,
  DeleteRangeResponse,
  HashKVRequest,
  HashKVResponse,
  LeaseGrantRequest,
  LeaseGrantResponse,
  LeaseKeepAliveRequest,
  LeaseKeepAliveResponse,
  LeaseLeasesRequest,
  LeaseLeasesResponse,
  LeaseRevokeRequest,
  LeaseRevokeResponse,
  LeaseTimeToLiveRequest,
  LeaseTimeToLiveResponse,
  PutRequest,
  PutResponse,
  RangeRequest,
  RangeResponse,
  TxnRequest,
  TxnResponse,
  WatchRequest,
  WatchResponse,
} from "../../src/api/rpc.js";
import { MemoryStorage } from "../../src/raft/index.js";
import type { NodeId } from "../../src/raft/types.js";
import type { MemberConfig } from "../../src/server/config.js";
import { Member, type MemberWatch, type RaftObserver } from "../../src/server/member.js";
import type { MemberMessage } from "../../src/server/messages.js";
import type { Event } from "../../src/api/kv.js";
import { RaftSafetyChecker } from "../check/raft-safety.js";
import { Violations } from "../check/violation.js";
import { SimNetwork, type LinkFaults } from "../net.js";
import { SimHost } from "../sim-host.js";
import { digestBytes, digestWords, hashString } from "../trace-hash.js";
import type { World } from "../world.js";

/** A client request, one per etcd RPC the simulated clients use. */
export type ClientRequest =
  | { readonly kind: "range"; readonly request: RangeRequest }
  | { readonly kind: "put"; readonly request: PutRequest }
  | { readonly kind: "delete-range"; readonly request: DeleteRangeRequest }
  | { readonly kind: "txn"; readonly request: TxnRequest }
  | { readonly kind: "compaction"; readonly request: CompactionRequest }
  | { readonly kind: "lease-grant"; readonly request: LeaseGrantRequest }
  | { readonly kind: "lease-revoke"; readonly request: LeaseRevokeRequest }
  | { readonly kind: "lease-keepalive"; readonly request: LeaseKeepAliveRequest }
  | { readonly kind: "lease-timetolive"; readonly request: LeaseTimeToLiveRequest }
  | { readonly kind: "lease-leases"; readonly request: LeaseLeasesRequest }
  | { readonly kind: "hash-kv"; readonly request: HashKVRequest };

export type ClientResponse =
  | { readonly kind: "range"; readonly response: RangeResponse }
  | { readonly kind: "put"; readonly response: PutResponse }
  | { readonly kind: "delete-range"; readonly response: DeleteRangeResponse }
  | { readonly kind: "txn"; readonly response: TxnResponse }
  | { readonly kind: "compaction"; readonly response: CompactionResponse }
  | { readonly kind: "lease-grant"; readonly response: LeaseGrantResponse }
  | { readonly kind: "lease-revoke"; readonly response: LeaseRevokeResponse }
  | { readonly kind: "lease-keepalive"; readonly response: LeaseKeepAliveResponse }
  | { readonly kind: "lease-timetolive"; readonly response: LeaseTimeToLiveResponse }
  | { readonly kind: "lease-leases"; readonly response: LeaseLeasesResponse }
  | { readonly kind: "hash-kv"; readonly response: HashKVResponse };

/** A watch stream request from a client; "close" ends the stream (the connection closes). */
export type WatchStreamRequest = WatchRequest | { readonly request_union: "close" };

/** Everything on the simulated wire. */
export type NetMessage =
  | { readonly type: "peer"; readonly message: MemberMessage }
  | { readonly type: "client-request"; readonly requestId: number; readonly request: ClientRequest }
  | {
      readonly type: "client-response";
      readonly requestId: number;
      readonly result: Result<ClientResponse, EtcdError>;
    }
  | {
      readonly type: "watch-request";
      readonly streamId: number;
      /** Position of this request on its stream, from 0 (see SimKvMember.streams). */
      readonly seq: number;
      readonly request: WatchStreamRequest;
    }
  | {
      readonly type: "watch-response";
      readonly streamId: number;
      /** Position of this message on its stream, from 0: the client detects loss and duplicates. */
      readonly seq: number;
      readonly responses: readonly WatchResponse[];
    };

export interface KvClusterOptions {
  readonly members: number;
  readonly heartbeatMs: number;
  readonly electionMs: number;
  readonly link: LinkFaults;
  readonly memberConfig?: Partial<MemberConfig>;
}

export function memberName(id: NodeId): string {
  return `m${id}`;
}

function memberIdOf(name: string): NodeId | undefined {
  const id = /^m(\d+)$/.exec(name)?.[1];
  return id === undefined ? undefined : Number(id);
}

function messageDigest(m: NetMessage): number {
  switch (m.type) {
    case "peer": {
      const p = m.message;
      if (p.type !== "raft") return digestWords(hashString(p.type), p.forwardId);
      const r = p.message;
      const data = r.entries.reduce((h, e) => digestWords(h, digestBytes(e.data)), 0);
      return digestWords(hashString(r.type), r.from, r.to, r.term, r.index, r.commit, data);
    }
    case "client-request":
      return digestWords(hashString(m.request.kind), m.requestId);
    case "client-response":
      return digestWords(m.requestId, m.result.ok ? m.result.value.response.header.revision : 0);
    case "watch-request":
      return digestWords(hashString(m.request.request_union), m.streamId, m.seq);
    case "watch-response":
      return digestWords(m.streamId, m.seq, m.responses.length);
    default:
      return unreachable(m, "net message");
  }
}

function messageKind(m: NetMessage): string {
  if (m.type === "peer") return m.message.type === "raft" ? m.message.message.type : m.message.type;
  return m.type;
}

interface ServedStream {
  readonly watch: MemberWatch | undefined;
  /** The next response's position. */
  responseSeq: number;
  /** The next request's position. */
  requestSeq: number;
}

/** One member slot: its host and storage live across crashes; `member` exists while not down. */
export class SimKvMember {
  member: Member | undefined;
  /** How many times a Member was started on this slot. */
  incarnation = 0;
  readonly storage: MemoryStorage;
  /**
   * Watch streams served here, by "client/streamId"; lost with a crash. A stream behaves like the
   * connection it stands for: requests are taken in order, once; a missing request breaks it (it
   * goes silent and the client reconnects).
   */
  readonly streams = new Map<string, ServedStream>();
  /**
   * The highest request id taken from each client. A client has one request in flight, so an id at
   * or below it is a network duplicate or a late copy; like a connection, the member takes each
   * request once.
   */
  readonly lastRequestId = new Map<string, number>();

  constructor(
    readonly id: NodeId,
    readonly name: string,
    readonly host: SimHost,
    peers: readonly NodeId[],
  ) {
    const confState = {
      voters: [...peers],
      learners: [],
      votersOutgoing: [],
      learnersNext: [],
      autoLeave: false,
    };
    this.storage = new MemoryStorage({ confState });
  }

  get up(): boolean {
    return this.host.state !== "down" && this.member !== undefined;
  }
}

/**
 * Every committed revision's events, in revision order, as the members applied them: the truth the
 * watch checks compare against (the stores themselves forget compacted revisions). Each revision is
 * taken from the first member that applies it; members that apply it again (a restarted member
 * replays its log) add nothing.
 */
export class CommittedLog {
  readonly revisions: { readonly revision: number; readonly events: readonly Event[] }[] = [];

  get lastRevision(): number {
    return this.revisions[this.revisions.length - 1]?.revision ?? 1;
  }

  record(revision: number, events: readonly Event[]): void {
    if (revision <= this.lastRevision) return;
    this.revisions.push({ revision, events });
  }

  /** The events with revision in [from, to], in order. */
  events(from: number, to: number): Event[] {
    return this.revisions
      .filter((r) => r.revision >= from && r.revision <= to)
      .flatMap((r) => r.events);
  }
}

export class KvCluster {
  readonly network: SimNetwork<NetMessage>;
  readonly committed = new CommittedLog();
  readonly violations = new Violations();
  readonly checker: RaftSafetyChecker;
  readonly slots: readonly SimKvMember[];
  private readonly ids: NodeId[];

  constructor(
    readonly world: World,
    readonly options: KvClusterOptions,
  ) {
    this.network = new SimNetwork<NetMessage>(world, {
      defaults: options.link,
      digest: messageDigest,
      kind: messageKind,
    });
    this.checker = new RaftSafetyChecker(this.violations, () => world.nowMs);
    this.ids = Array.from({ length: options.members }, (_, i) => i + 1);
    this.slots = this.ids.map((id) => {
      const slot = new SimKvMember(
        id,
        memberName(id),
        new SimHost(world, memberName(id)),
        this.ids,
      );
      this.network.attach(slot.name, (from, m) => slot.host.run(() => this.deliver(slot, from, m)));
      return slot;
    });
    for (const slot of this.slots) this.start(slot);
  }

  get names(): string[] {
    return this.slots.map((s) => s.name);
  }

  slot(name: string): SimKvMember {
    const s = this.slots.find((x) => x.name === name);
    assert(s !== undefined, () => `no member ${name}`);
    return s;
  }

  /** The live Member of `name`; asserts it is not down. */
  member(name: string): Member {
    const m = this.slot(name).member;
    assert(m !== undefined, () => `${name} is down`);
    return m;
  }

  /** The up member that leads in the highest term among up members, if any. */
  leader(): SimKvMember | undefined {
    let best: SimKvMember | undefined;
    let bestTerm = -1;
    let maxTerm = -1;
    for (const s of this.slots) {
      if (!s.up || s.host.state !== "up") continue;
      const st = (s.member as Member).status();
      maxTerm = Math.max(maxTerm, st.raftTerm);
      if (st.role === "StateLeader" && st.raftTerm > bestTerm) {
        best = s;
        bestTerm = st.raftTerm;
      }
    }
    return best !== undefined && bestTerm === maxTerm ? best : undefined;
  }

  crash(name: string): void {
    const slot = this.slot(name);
    slot.host.crash();
    slot.member = undefined;
    slot.streams.clear();
  }

  restart(name: string): void {
    const slot = this.slot(name);
    slot.host.restart();
    this.checker.onRestart(slot.name, 0);
    this.start(slot);
  }

  private start(slot: SimKvMember): void {
    // A restarted process draws fresh randomness (request-id and read-context epochs depend on it).
    const stream =
      slot.incarnation === 0 ? `member-${slot.id}` : `member-${slot.id}/${slot.incarnation}`;
    slot.incarnation++;
    slot.member = new Member({
      id: slot.id,
      peers: this.ids,
      env: { clock: slot.host, timers: slot.host, random: this.world.stream(stream) },
      send: (to, message) =>
        this.network.send(slot.name, memberName(to), { type: "peer", message }),
      config: {
        heartbeatMs: this.options.heartbeatMs,
        electionMs: this.options.electionMs,
        ...this.options.memberConfig,
      },
      storage: slot.storage,
      observer: this.observer(slot),
    });
    slot.member.kv.onCommit((txn) => this.committed.record(txn.revision, txn.events));
  }

  private observer(slot: SimKvMember): RaftObserver {
    const c = this.checker;
    return {
      onAppend: (entries, prevTerm) => c.onAppend(slot.name, entries, prevTerm),
      onHardState: (hs, entryAt, snapshotIndex) =>
        c.onCommit(slot.name, hs.commit, entryAt, snapshotIndex),
      onLeader: (term, termAt) => c.onLeader(slot.name, term, termAt),
      onApply: (entry) => c.onApply(slot.name, entry),
    };
  }

  private deliver(slot: SimKvMember, from: string, m: NetMessage): void {
    const member = slot.member;
    if (member === undefined) return;
    switch (m.type) {
      case "peer": {
        const id = memberIdOf(from);
        if (id !== undefined) member.receive(id, m.message);
        return;
      }
      case "client-request": {
        if ((slot.lastRequestId.get(from) ?? -1) >= m.requestId) return;
        slot.lastRequestId.set(from, m.requestId);
        return serveClient(member, m.request, (result) =>
          this.network.send(slot.name, from, {
            type: "client-response",
            requestId: m.requestId,
            result,
          }),
        );
      }
      case "watch-request":
        return this.serveWatch(slot, member, from, m);
      case "client-response":
      case "watch-response":
        return; // addressed to clients only
      default:
        return unreachable(m, "net message");
    }
  }

  private serveWatch(
    slot: SimKvMember,
    member: Member,
    client: string,
    m: Extract<NetMessage, { type: "watch-request" }>,
  ): void {
    const key = `${client}/${m.streamId}`;
    let stream = slot.streams.get(key);
    if (stream === undefined) {
      if (m.seq !== 0) return; // the stream's first request was lost: it never opened
      stream = this.openStream(slot, member, client, m.streamId);
      slot.streams.set(key, stream);
    }
    if (m.seq < stream.requestSeq || stream.watch === undefined) return;
    if (m.seq > stream.requestSeq || m.request.request_union === "close") {
      // A lost request breaks the stream; a close ends it. Either way it goes silent.
      stream.watch.close();
      slot.streams.set(key, { ...stream, watch: undefined });
      return;
    }
    stream.requestSeq++;
    stream.watch.request(m.request);
  }

  private openStream(
    slot: SimKvMember,
    member: Member,
    client: string,
    streamId: number,
  ): ServedStream {
    const stream: ServedStream = { watch: undefined, responseSeq: 0, requestSeq: 0 };
    const watch = member.watch((responses) => {
      const seq = stream.responseSeq++;
      this.network.send(slot.name, client, { type: "watch-response", streamId, seq, responses });
    });
    return Object.assign(stream, { watch });
  }
}

/** Calls the member method for `request`; `reply` gets its result. */
export function serveClient(
  member: Member,
  request: ClientRequest,
  reply: (result: Result<ClientResponse, EtcdError>) => void,
): void {
  const as =
    <K extends ClientResponse["kind"], T>(kind: K) =>
    (result: Result<T, EtcdError>) => {
      if (!result.ok) return reply(result);
      reply({ ok: true, value: { kind, response: result.value } as unknown as ClientResponse });
    };
  switch (request.kind) {
    case "range":
      return member.range(request.request, as(request.kind));
    case "put":
      return member.put(request.request, as(request.kind));
    case "delete-range":
      return member.deleteRange(request.request, as(request.kind));
    case "txn":
      return member.txn(request.request, as(request.kind));
    case "compaction":
      return member.compact(request.request, as(request.kind));
    case "lease-grant":
      return member.leaseGrant(request.request, as(request.kind));
    case "lease-revoke":
      return member.leaseRevoke(request.request, as(request.kind));
    case "lease-keepalive":
      return member.leaseKeepAlive(request.request, as(request.kind));
    case "lease-timetolive":
      return member.leaseTimeToLive(request.request, as(request.kind));
    case "lease-leases":
      return member.leaseLeases(request.request, as(request.kind));
    case "hash-kv":
      return member.hashKV(request.request, as(request.kind));
    default:
      return unreachable(request, "client request");
  }
}

/** The latin1 text of a key, for messages and histories. */
export function keyText(key: Uint8Array): string {
  return bytesToLatin1(key);
}
