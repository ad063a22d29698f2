// The replicated member list (etcd's membership.RaftCluster): every member's id, name, peer and
// client URLs and learner flag, and the ids removed for good. It changes only by applying a
// committed conf change entry, whose context carries a MemberChange, so every member holds the
// same list at the same applied index; it goes into the member's snapshots.
//
// Encodings are JSON text: a conf change context and the snapshot part are small and rare, and a
// readable form helps when a log is dumped.

import { assert, unreachable } from "../lib/assert.js";
import { fromUtf8, utf8 } from "../lib/bytes.js";
import { err, ok, type Result } from "../lib/result.js";
import { Errors, type EtcdError } from "../api/errors.js";
import type { ClusterMember } from "../api/cluster.js";
import type { Random } from "../env/random.js";
import type { ConfChange, ConfChangeType, NodeId } from "../raft/types.js";

/** One member as the list holds it; ids are Raft node ids. */
export interface MemberInfo {
  readonly id: NodeId;
  readonly name: string;
  readonly peerURLs: readonly string[];
  readonly clientURLs: readonly string[];
  readonly isLearner: boolean;
}

/**
 * What a conf change entry does to the list. `publish` is a started member announcing its name
 * and client URLs (etcd publishes them through Raft too); raft sees it as an UpdateNode.
 */
export type MemberAction = "add" | "remove" | "update" | "promote" | "publish";

/** The context of a conf change entry: who proposed it (to answer them) and what it changes. */
export interface MemberChange {
  /** The proposer's request id; 0 when nobody waits. */
  readonly requestId: number;
  readonly action: MemberAction;
  readonly member: MemberInfo;
}

/** etcd's maxLearners: at most one learner at a time. */
export const MAX_LEARNERS = 1;

/** etcd's readyPercent: a learner is promotable once its match is 90% of the leader's. */
export const LEARNER_READY_PERCENT = 0.9;

/** Raft node ids are below 512 (the request id layout reserves 9 bits for them). */
const MAX_MEMBER_ID = 511;

/** The attributes of a member of the initial cluster, named as the simulator names its hosts. */
export function initialMember(id: NodeId): MemberInfo {
  return {
    id,
    name: `m${id}`,
    peerURLs: [`http://m${id}:2380`],
    clientURLs: [`http://m${id}:2379`],
    isLearner: false,
  };
}

/** The raft conf change that carries `change`. */
export function confChangeOf(change: MemberChange): ConfChange {
  return {
    kind: "ConfChange",
    type: confChangeTypeOf(change),
    nodeId: change.member.id,
    context: encodeMemberChange(change),
  };
}

function confChangeTypeOf(change: MemberChange): ConfChangeType {
  switch (change.action) {
    case "add":
      return change.member.isLearner ? "ConfChangeAddLearnerNode" : "ConfChangeAddNode";
    case "promote":
      return "ConfChangeAddNode";
    case "remove":
      return "ConfChangeRemoveNode";
    case "update":
    case "publish":
      return "ConfChangeUpdateNode";
    default:
      return unreachable(change.action, "member action");
  }
}

/**
 * Whether peer URLs are well formed as etcd's types.NewURLs wants them: at least one, each with an
 * http(s) scheme and host:port and no path, or a unix(s) socket address.
 */
export function validPeerURLs(urls: readonly string[]): boolean {
  const one = (u: string) =>
    /^https?:\/\/(\[[0-9a-fA-F:.]+\]|[^\s/:[\]]+):\d{1,5}$/.test(u) || /^unixs?:\/\/\S+$/.test(u);
  return urls.length > 0 && urls.every(one);
}

export function toClusterMember(m: MemberInfo): ClusterMember {
  return {
    ID: BigInt(m.id),
    name: m.name,
    peerURLs: [...m.peerURLs],
    clientURLs: [...m.clientURLs],
    isLearner: m.isLearner,
  };
}

export class Membership {
  private readonly members = new Map<NodeId, MemberInfo>();
  private readonly removed = new Set<NodeId>();

  constructor(members: readonly MemberInfo[], removed: readonly NodeId[] = []) {
    for (const m of members) this.members.set(m.id, m);
    for (const id of removed) this.removed.add(id);
  }

  static initial(peers: readonly NodeId[]): Membership {
    return new Membership(peers.map(initialMember));
  }

  /** Every member, by id. */
  list(): MemberInfo[] {
    return [...this.members.values()].sort((a, b) => a.id - b.id);
  }

  get(id: NodeId): MemberInfo | undefined {
    return this.members.get(id);
  }

  isRemoved(id: NodeId): boolean {
    return this.removed.has(id);
  }

  /** An id no member has and none had (etcd never reuses a removed member's id). */
  chooseId(random: Random): NodeId | undefined {
    const free: NodeId[] = [];
    for (let id = 1; id <= MAX_MEMBER_ID; id++) {
      if (!this.members.has(id) && !this.removed.has(id)) free.push(id);
    }
    return free.length === 0 ? undefined : free[random.int(0, free.length - 1)];
  }

  /**
   * Whether `change` may apply to the list as it is (etcd's ValidateConfigurationChange). Checked
   * before proposing and again when the entry applies, since other changes may commit between.
   */
  validate(change: MemberChange): Result<void, EtcdError> {
    const m = change.member;
    if (this.removed.has(m.id)) return err(Errors.MemberNotFound);
    const current = this.members.get(m.id);
    switch (change.action) {
      case "add":
        if (current !== undefined) return err(Errors.MemberExist);
        if (this.peerURLTaken(m.peerURLs, m.id)) return err(Errors.PeerURLExist);
        if (m.isLearner && this.learnerCount() + 1 > MAX_LEARNERS) {
          return err(Errors.TooManyLearners);
        }
        return ok(undefined);
      case "promote":
        if (current === undefined) return err(Errors.MemberNotFound);
        if (!current.isLearner) return err(Errors.MemberNotLearner);
        return ok(undefined);
      case "remove":
      case "publish":
        return current === undefined ? err(Errors.MemberNotFound) : ok(undefined);
      case "update":
        if (current === undefined) return err(Errors.MemberNotFound);
        if (this.peerURLTaken(m.peerURLs, m.id)) return err(Errors.PeerURLExist);
        return ok(undefined);
      default:
        return unreachable(change.action, "member action");
    }
  }

  /** Applies a validated change. */
  apply(change: MemberChange): void {
    const m = change.member;
    const current = this.members.get(m.id);
    switch (change.action) {
      case "add":
        this.members.set(m.id, m);
        return;
      case "promote":
        this.members.set(m.id, { ...(current as MemberInfo), isLearner: false });
        return;
      case "remove":
        this.members.delete(m.id);
        this.removed.add(m.id);
        return;
      case "update":
        this.members.set(m.id, { ...(current as MemberInfo), peerURLs: [...m.peerURLs] });
        return;
      case "publish":
        this.members.set(m.id, {
          ...(current as MemberInfo),
          name: m.name,
          clientURLs: [...m.clientURLs],
        });
        return;
      default:
        unreachable(change.action, "member action");
    }
  }

  // ---- etcd's --strict-reconfig-check: a member is started once it published its name ----------

  /** Adding a voter keeps a quorum of started voters (etcd's IsReadyToAddVotingMember). */
  readyToAddVoter(): boolean {
    const voters = this.voters();
    const members = voters.length + 1;
    const started = voters.filter(isStarted).length;
    // Adding a second member to a one-member cluster is how etcd restores a cluster from backup.
    if (started === 1 && members === 2) return true;
    return started >= quorum(members);
  }

  /** Removing voter `id` keeps a quorum of started voters (etcd's IsReadyToRemoveVotingMember). */
  readyToRemoveVoter(id: NodeId): boolean {
    const rest = this.voters().filter((m) => m.id !== id);
    return rest.filter(isStarted).length >= quorum(rest.length);
  }

  /** Promoting a learner (counted as started) keeps a quorum (etcd's IsReadyToPromoteMember). */
  readyToPromote(): boolean {
    const voters = this.voters();
    return voters.filter(isStarted).length + 1 >= quorum(voters.length + 1);
  }

  private voters(): MemberInfo[] {
    return this.list().filter((m) => !m.isLearner);
  }

  private learnerCount(): number {
    return this.list().filter((m) => m.isLearner).length;
  }

  private peerURLTaken(urls: readonly string[], except: NodeId): boolean {
    return this.list().some((m) => m.id !== except && m.peerURLs.some((u) => urls.includes(u)));
  }

  // ---- encodings ---------------------------------------------------------------------------------

  encode(): Uint8Array {
    return utf8(
      JSON.stringify({ members: this.list(), removed: [...this.removed].sort((a, b) => a - b) }),
    );
  }

  static decode(bytes: Uint8Array): Result<Membership, string> {
    const parsed = parseJson(bytes);
    if (!isRecord(parsed) || !Array.isArray(parsed.members) || !Array.isArray(parsed.removed)) {
      return err("membership: not a member list");
    }
    const members = parsed.members as unknown[];
    const removed = parsed.removed as unknown[];
    if (!members.every(isMemberInfo) || !removed.every(isNodeId)) {
      return err("membership: malformed member");
    }
    return ok(new Membership(members, removed));
  }
}

function isStarted(m: MemberInfo): boolean {
  return m.name !== "";
}

function quorum(members: number): number {
  return Math.floor(members / 2) + 1;
}

export function encodeMemberChange(change: MemberChange): Uint8Array {
  return utf8(JSON.stringify(change));
}

/** The change in a committed conf change's context; a context that is not one is a bug. */
export function decodeMemberChange(context: Uint8Array): MemberChange {
  const parsed = parseJson(context);
  assert(
    isRecord(parsed) &&
      typeof parsed.requestId === "number" &&
      typeof parsed.action === "string" &&
      isMemberInfo(parsed.member),
    () => `conf change context is not a member change: ${fromUtf8(context)}`,
  );
  return parsed as unknown as MemberChange;
}

function parseJson(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(fromUtf8(bytes)) as unknown;
  } catch {
    return undefined;
  }
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null;
}

function isNodeId(x: unknown): x is NodeId {
  return typeof x === "number" && Number.isInteger(x) && x > 0 && x <= MAX_MEMBER_ID;
}

function isStrings(x: unknown): x is string[] {
  return Array.isArray(x) && x.every((s) => typeof s === "string");
}

function isMemberInfo(x: unknown): x is MemberInfo {
  return (
    isRecord(x) &&
    isNodeId(x.id) &&
    typeof x.name === "string" &&
    isStrings(x.peerURLs) &&
    isStrings(x.clientURLs) &&
    typeof x.isLearner === "boolean"
  );
}
