// The Raft state machine: roles, elections, replication, ReadIndex and leadership transfer.
// It is pure and synchronous: input arrives through step() and tick(), output accumulates in
// `msgs` and `readStates` and in the log, and RawNode hands it to the application as a Ready.
import { assert, unreachable } from "../lib/assert.js";
import type { Result } from "../lib/result.js";
import {
  type ConfChangeError,
  asV2,
  changeConf,
  decodeConfChange,
  encodeConfChange,
  isJoint,
  leaveJointConfChange,
  wantsLeaveJoint,
} from "./confchange.js";
import { RaftLog, payloadSizeBytes } from "./log.js";
import type { Progress } from "./progress.js";
import { ReadOnly } from "./read-only.js";
import { jointVoteResult } from "./quorum.js";
import { ProgressTracker } from "./tracker.js";
import {
  NONE,
  type AnyConfChange,
  type ConfState,
  type Entry,
  type HardState,
  type Message,
  type MessageType,
  type NodeId,
  type RaftConfig,
  type ReadOnlyOption,
  type ReadState,
  type Snapshot,
  type SoftState,
  type StateType,
} from "./types.js";

/** What happened to a stepped message; "dropped" is etcd's ErrProposalDropped. */
export type StepResult = "ok" | "dropped";

type CampaignType = "CampaignPreElection" | "CampaignElection" | "CampaignTransfer";

export const NO_BYTES: Uint8Array = new Uint8Array(0);
const NO_ENTRIES: readonly Entry[] = [];
/** MsgVote context of a leadership-transfer campaign: it overrides the leader lease. */
export const CAMPAIGN_TRANSFER: Uint8Array = new TextEncoder().encode("CampaignTransfer");

export const DEFAULT_MAX_SIZE_PER_MSG_BYTES = 1024 * 1024;
export const DEFAULT_MAX_INFLIGHT_MSGS = 256;

/** The fields of an outgoing message; the rest take their zero values. */
type Outgoing = Partial<Message> & { readonly type: MessageType; readonly to: NodeId };

/** Messages that only a node gives itself (never accepted from the network). */
export function isLocalMessage(t: MessageType): boolean {
  return (
    t === "MsgHup" ||
    t === "MsgBeat" ||
    t === "MsgUnreachable" ||
    t === "MsgSnapStatus" ||
    t === "MsgCheckQuorum"
  );
}

/** Responses, which only make sense from a known member. */
export function isResponseMessage(t: MessageType): boolean {
  return (
    t === "MsgAppResp" ||
    t === "MsgVoteResp" ||
    t === "MsgHeartbeatResp" ||
    t === "MsgUnreachable" ||
    t === "MsgPreVoteResp"
  );
}

/** A message a node gives itself (term 0, from itself unless `from` says otherwise). */
export function localMessage(
  type: MessageType,
  to: NodeId,
  fields: Partial<Message> = {},
): Message {
  return {
    type,
    from: fields.from ?? to,
    to,
    term: 0,
    logTerm: 0,
    index: 0,
    entries: fields.entries ?? NO_ENTRIES,
    commit: 0,
    reject: fields.reject ?? false,
    rejectHint: 0,
    context: fields.context ?? NO_BYTES,
  };
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * One member's Raft state machine (etcd raft's `raft` struct).
 * Invariants asserted along the way: the term never decreases, a node votes at most once per
 * term, the commit index never decreases and never passes the last index, a leader commits only
 * entries of its own term by counting, and its own progress counts only persisted entries.
 */
export class Raft {
  readonly id: NodeId;
  term = 0;
  vote: NodeId = NONE;
  lead: NodeId = NONE;
  state: StateType = "StateFollower";
  readonly raftLog: RaftLog;
  trk: ProgressTracker;
  /** Outgoing messages, handed out (and cleared) by the next Ready. */
  msgs: Message[] = [];
  /** Answered ReadIndex requests of this node, handed out by the next Ready. */
  readStates: ReadState[] = [];
  leadTransferee: NodeId = NONE;
  /**
   * Leader: the index of the last configuration change it appended (or its last index when it took
   * office). A new change is refused until this index is applied: only one change is in flight.
   */
  pendingConfIndex = 0;

  private readOnly = new ReadOnly();
  /** ReadIndex requests that arrived before this leader committed an entry of its term. */
  private pendingReadIndexMessages: Message[] = [];
  private electionElapsed = 0;
  private heartbeatElapsed = 0;
  private randomizedElectionTimeout = 0;
  private uncommittedSizeBytes = 0;

  private readonly electionTimeout: number;
  private readonly heartbeatTimeout: number;
  private readonly checkQuorum: boolean;
  private readonly preVote: boolean;
  private readonly readOnlyOption: ReadOnlyOption;
  private readonly disableProposalForwarding: boolean;
  private readonly maxSizePerMsgBytes: number;
  private readonly maxUncommittedSizeBytes: number;

  constructor(private readonly config: RaftConfig) {
    validateConfig(config);
    this.id = config.id;
    this.electionTimeout = config.electionTick;
    this.heartbeatTimeout = config.heartbeatTick;
    this.checkQuorum = config.checkQuorum ?? false;
    this.preVote = config.preVote ?? false;
    this.readOnlyOption = config.readOnlyOption ?? "ReadOnlySafe";
    this.disableProposalForwarding = config.disableProposalForwarding ?? false;
    this.maxSizePerMsgBytes = config.maxSizePerMsg ?? DEFAULT_MAX_SIZE_PER_MSG_BYTES;
    this.maxUncommittedSizeBytes = config.maxUncommittedEntriesSize || Infinity;
    this.raftLog = new RaftLog(config.storage, this.maxSizePerMsgBytes);
    const { hardState, confState } = config.storage.initialState();
    this.trk = new ProgressTracker(
      confState,
      config.maxInflightMsgs ?? DEFAULT_MAX_INFLIGHT_MSGS,
      this.raftLog.lastIndex() + 1,
    );
    this.loadState(hardState);
    if ((config.applied ?? 0) > 0) this.raftLog.appliedTo(config.applied as number);
    this.becomeFollower(this.term, NONE);
  }

  private loadState(hs: HardState): void {
    const { committed } = this.raftLog;
    assert(
      hs.commit >= committed && hs.commit <= this.raftLog.lastIndex(),
      () => `hard state commit ${hs.commit} outside [${committed}, ${this.raftLog.lastIndex()}]`,
    );
    this.raftLog.committed = hs.commit;
    this.term = hs.term;
    this.vote = hs.vote;
  }

  hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.raftLog.committed };
  }

  softState(): SoftState {
    return { lead: this.lead, raftState: this.state };
  }

  // ---- input -----------------------------------------------------------------------------------

  /** Advances logical time by one tick. */
  tick(): void {
    if (this.state === "StateLeader") this.tickHeartbeat();
    else this.tickElection();
  }

  private tickElection(): void {
    this.electionElapsed++;
    if (this.promotable() && this.electionElapsed >= this.randomizedElectionTimeout) {
      this.electionElapsed = 0;
      this.step(localMessage("MsgHup", this.id));
    }
  }

  private tickHeartbeat(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.electionTimeout) {
      this.electionElapsed = 0;
      if (this.checkQuorum) this.step(localMessage("MsgCheckQuorum", this.id));
      // A transfer that has not completed within an election timeout is abandoned.
      if (this.state === "StateLeader" && this.leadTransferee !== NONE) this.leadTransferee = NONE;
    }
    if (this.state !== "StateLeader") return;
    if (this.heartbeatElapsed >= this.heartbeatTimeout) {
      this.heartbeatElapsed = 0;
      this.step(localMessage("MsgBeat", this.id));
    }
  }

  /** Handles one message: term bookkeeping common to all roles, then the role's own logic. */
  step(m: Message): StepResult {
    if (m.term > this.term) {
      if (this.ignoredByLease(m)) return "ok";
      if (m.type === "MsgPreVote" || (m.type === "MsgPreVoteResp" && !m.reject)) {
        // A pre-vote never changes our term; a granted pre-vote carries the term the candidate
        // will campaign at, which it adopts only once it wins the pre-election.
      } else if (m.type === "MsgApp" || m.type === "MsgHeartbeat" || m.type === "MsgSnap") {
        this.becomeFollower(m.term, m.from);
      } else {
        this.becomeFollower(m.term, NONE);
      }
    } else if (m.term !== 0 && m.term < this.term) {
      this.answerStaleTerm(m);
      return "ok";
    }
    switch (m.type) {
      case "MsgHup":
        this.hup(this.preVote ? "CampaignPreElection" : "CampaignElection");
        return "ok";
      case "MsgVote":
      case "MsgPreVote":
        this.handleVoteRequest(m);
        return "ok";
      default:
        return this.stepRole(m);
    }
  }

  /**
   * Leader lease (CheckQuorum): a node that heard from a leader within the election timeout
   * ignores vote requests, so a partitioned member that rejoins cannot depose a healthy leader.
   * A leadership-transfer campaign is exempt: the leader itself asked for it.
   */
  private ignoredByLease(m: Message): boolean {
    if (m.type !== "MsgVote" && m.type !== "MsgPreVote") return false;
    const inLease =
      this.checkQuorum && this.lead !== NONE && this.electionElapsed < this.electionTimeout;
    return inLease && !equalBytes(m.context, CAMPAIGN_TRANSFER);
  }

  private answerStaleTerm(m: Message): void {
    if ((this.checkQuorum || this.preVote) && (m.type === "MsgHeartbeat" || m.type === "MsgApp")) {
      // A stale leader (for instance one that was partitioned away) learns our term from this
      // answer and steps down; without it, a member whose term rose but that cannot win an
      // election (PreVote or CheckQuorum keep others from voting) would never rejoin.
      this.send({ type: "MsgAppResp", to: m.from });
    } else if (m.type === "MsgPreVote") {
      this.send({ type: "MsgPreVoteResp", to: m.from, term: this.term, reject: true });
    }
  }

  private stepRole(m: Message): StepResult {
    switch (this.state) {
      case "StateLeader":
        return this.stepLeader(m);
      case "StateCandidate":
      case "StatePreCandidate":
        return this.stepCandidate(m);
      case "StateFollower":
        return this.stepFollower(m);
      default:
        return unreachable(this.state, "state");
    }
  }

  // ---- elections -------------------------------------------------------------------------------

  private promotable(): boolean {
    const pr = this.trk.progress.get(this.id);
    return pr !== undefined && !pr.isLearner && this.raftLog.unstable.snapshot === undefined;
  }

  private hup(t: CampaignType): void {
    if (this.state === "StateLeader" || !this.promotable()) return;
    this.campaign(t);
  }

  private campaign(t: CampaignType): void {
    let voteType: MessageType;
    let term: number;
    if (t === "CampaignPreElection") {
      this.becomePreCandidate();
      voteType = "MsgPreVote";
      term = this.term + 1; // the term we would campaign at; ours does not change yet
    } else {
      this.becomeCandidate();
      voteType = "MsgVote";
      term = this.term;
    }
    if (this.poll(this.id, true) === "VoteWon") {
      // A single-voter group wins on its own vote.
      if (t === "CampaignPreElection") this.campaign("CampaignElection");
      else this.becomeLeader();
      return;
    }
    const context = t === "CampaignTransfer" ? CAMPAIGN_TRANSFER : NO_BYTES;
    const lastIndex = this.raftLog.lastIndex();
    const lastTerm = this.raftLog.lastTerm();
    for (const id of this.trk.ids) {
      if (id === this.id || !this.trk.isVoter(id)) continue;
      this.send({ type: voteType, to: id, term, index: lastIndex, logTerm: lastTerm, context });
    }
  }

  private poll(id: NodeId, granted: boolean): ReturnType<ProgressTracker["tallyVotes"]> {
    this.trk.recordVote(id, granted);
    return this.trk.tallyVotes();
  }

  private handleVoteRequest(m: Message): void {
    const respType = m.type === "MsgVote" ? "MsgVoteResp" : "MsgPreVoteResp";
    const canVote =
      this.vote === m.from ||
      (this.vote === NONE && this.lead === NONE) ||
      (m.type === "MsgPreVote" && m.term > this.term);
    if (canVote && this.raftLog.isUpToDate(m.index, m.logTerm)) {
      // The grant carries the candidate's term so that it is not ignored as stale.
      this.send({ type: respType, to: m.from, term: m.term });
      if (m.type === "MsgVote") {
        assert(this.vote === NONE || this.vote === m.from, "a second vote in one term");
        this.electionElapsed = 0;
        this.vote = m.from;
      }
    } else {
      this.send({ type: respType, to: m.from, term: this.term, reject: true });
    }
  }

  // ---- role transitions ------------------------------------------------------------------------

  becomeFollower(term: number, lead: NodeId): void {
    this.reset(term);
    this.lead = lead;
    this.state = "StateFollower";
  }

  private becomeCandidate(): void {
    assert(this.state !== "StateLeader", "invalid transition [leader -> candidate]");
    this.reset(this.term + 1);
    this.vote = this.id;
    this.state = "StateCandidate";
  }

  private becomePreCandidate(): void {
    assert(this.state !== "StateLeader", "invalid transition [leader -> pre-candidate]");
    // Neither the term nor the vote changes: a pre-election is invisible if it fails.
    this.trk.resetVotes();
    this.lead = NONE;
    this.state = "StatePreCandidate";
  }

  private becomeLeader(): void {
    assert(this.state !== "StateFollower", "invalid transition [follower -> leader]");
    this.reset(this.term);
    this.lead = this.id;
    this.state = "StateLeader";
    const self = this.trk.progress.get(this.id) as Progress;
    self.becomeReplicate();
    self.recentActive = true; // the leader is always active to itself (CheckQuorum)
    // The log may hold a change we have not applied yet: accept none until everything is applied.
    this.pendingConfIndex = this.raftLog.lastIndex();
    // An entry of the new term: committing it commits every earlier entry (Figure 8) and lets
    // ReadIndex start answering.
    const empty: Entry = {
      term: this.term,
      index: this.raftLog.lastIndex() + 1,
      type: "EntryNormal",
      data: NO_BYTES,
    };
    assert(this.appendEntries([empty]), "the empty entry of a new leader was refused");
  }

  private reset(term: number): void {
    if (this.term !== term) {
      assert(term > this.term, () => `term goes back from ${this.term} to ${term}`);
      this.term = term;
      this.vote = NONE;
    }
    this.lead = NONE;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.randomizedElectionTimeout =
      this.electionTimeout + this.config.random.int(0, this.electionTimeout - 1);
    this.leadTransferee = NONE;
    this.trk.resetVotes();
    this.trk.resetProgress(
      this.id,
      this.raftLog.lastIndex() + 1,
      this.raftLog.persistedLastIndex(),
    );
    this.uncommittedSizeBytes = 0;
    // Pending reads are dropped with the office they were taken in; clients retry.
    this.readOnly = new ReadOnly();
    this.pendingReadIndexMessages = [];
  }

  // ---- leader ----------------------------------------------------------------------------------

  private stepLeader(m: Message): StepResult {
    switch (m.type) {
      case "MsgBeat":
        this.bcastHeartbeat();
        return "ok";
      case "MsgCheckQuorum":
        this.checkQuorumActive();
        return "ok";
      case "MsgProp":
        return this.appendProposal(m);
      case "MsgReadIndex":
        this.handleReadIndex(m);
        return "ok";
      case "MsgAppResp":
      case "MsgHeartbeatResp":
      case "MsgSnapStatus":
      case "MsgUnreachable":
      case "MsgTransferLeader": {
        const pr = this.trk.progress.get(m.from);
        if (pr !== undefined) this.stepLeaderFromPeer(m, pr);
        return "ok";
      }
      case "MsgHup":
      case "MsgApp":
      case "MsgVote":
      case "MsgVoteResp":
      case "MsgPreVote":
      case "MsgPreVoteResp":
      case "MsgSnap":
      case "MsgHeartbeat":
      case "MsgTimeoutNow":
      case "MsgReadIndexResp":
        // Late votes, or messages of the same term that only a follower acts on.
        return "ok";
      default:
        return unreachable(m.type, "message type");
    }
  }

  private stepLeaderFromPeer(m: Message, pr: Progress): void {
    switch (m.type) {
      case "MsgAppResp":
        this.handleAppendResponse(m, pr);
        return;
      case "MsgHeartbeatResp":
        this.handleHeartbeatResponse(m, pr);
        return;
      case "MsgSnapStatus":
        this.handleSnapshotStatus(m, pr);
        return;
      case "MsgUnreachable":
        // Optimistic pipelining is pointless to an unreachable peer: fall back to probing.
        if (pr.state === "StateReplicate") pr.becomeProbe();
        return;
      case "MsgTransferLeader":
        this.handleTransferLeader(m.from, pr);
        return;
      default:
        assert(false, () => `stepLeaderFromPeer: ${m.type}`);
    }
  }

  private checkQuorumActive(): void {
    if (!this.trk.quorumActive()) this.becomeFollower(this.term, NONE);
    // Start a new round: every peer must be heard from again within the next election timeout.
    for (const id of this.trk.ids) {
      if (id !== this.id) (this.trk.progress.get(id) as Progress).recentActive = false;
    }
  }

  private appendProposal(m: Message): StepResult {
    assert(m.entries.length > 0, "MsgProp without entries");
    if (!this.trk.progress.has(this.id)) return "dropped";
    // Entries proposed during a transfer could be lost when the transferee takes over.
    if (this.leadTransferee !== NONE) return "dropped";
    const confChanges = m.entries.filter((e) => e.type !== "EntryNormal");
    if (confChanges.length > 1) return "dropped";
    const cc = confChanges[0];
    if (cc !== undefined && !this.confChangeAllowed(cc)) return "dropped";
    const first = this.raftLog.lastIndex() + 1;
    const ents = m.entries.map((e, i): Entry => ({
      term: this.term,
      index: first + i,
      type: e.type,
      data: e.data,
    }));
    if (!this.appendEntries(ents)) return "dropped";
    if (cc !== undefined) this.pendingConfIndex = first + m.entries.indexOf(cc);
    this.bcastAppend();
    return "ok";
  }

  /**
   * One change at a time, and only one that fits the configuration it will be applied to: while
   * joint, only the request to leave; otherwise anything but that request.
   */
  private confChangeAllowed(e: Entry): boolean {
    const cc = decodeConfChange(e.type, e.data);
    if (cc === undefined) return false;
    if (this.pendingConfIndex > this.raftLog.applied) return false;
    return isJoint(this.trk.config) === wantsLeaveJoint(asV2(cc));
  }

  /**
   * Appends to our own log. Our own progress is NOT advanced here: the leader's entry counts
   * toward a quorum only once the application reports it persisted (onPersistedEntries).
   */
  private appendEntries(ents: readonly Entry[]): boolean {
    let size = 0;
    for (const e of ents) size += payloadSizeBytes(e);
    if (
      this.uncommittedSizeBytes > 0 &&
      size > 0 &&
      this.uncommittedSizeBytes + size > this.maxUncommittedSizeBytes
    ) {
      return false;
    }
    this.uncommittedSizeBytes += size;
    this.raftLog.append(ents);
    return true;
  }

  private handleAppendResponse(m: Message, pr: Progress): void {
    pr.recentActive = true;
    if (m.reject) {
      // Fast backtracking: skip every index whose term cannot match the follower's hint.
      const nextProbe =
        m.logTerm > 0
          ? this.raftLog.findConflictByTerm(m.rejectHint, m.logTerm).index
          : m.rejectHint;
      if (pr.maybeDecrTo(m.index, nextProbe)) {
        if (pr.state === "StateReplicate") pr.becomeProbe();
        this.sendAppend(m.from);
      }
      return;
    }
    // An acknowledgement equal to match still answers a probe and moves the peer to replicate.
    if (!pr.maybeUpdate(m.index) && !(pr.match === m.index && pr.state === "StateProbe")) return;
    switch (pr.state) {
      case "StateProbe":
        pr.becomeReplicate();
        break;
      case "StateSnapshot":
        if (pr.match + 1 >= this.raftLog.firstIndex()) {
          // The peer can be caught up from the log again.
          pr.becomeProbe();
          pr.becomeReplicate();
        }
        break;
      case "StateReplicate":
        pr.inflights.freeLE(m.index);
        break;
    }
    if (this.maybeCommit()) {
      this.releasePendingReadIndexMessages();
      this.bcastAppend();
    } else if (pr.canBumpCommit(this.raftLog.committed)) {
      // The peer may not know the commit index yet (it was paused when the commit advanced).
      this.sendAppend(m.from);
    }
    // The window may have opened for several messages at once.
    while (this.maybeSendAppend(m.from, false));
    if (m.from === this.leadTransferee && pr.match === this.raftLog.lastIndex()) {
      this.send({ type: "MsgTimeoutNow", to: m.from });
    }
  }

  private handleHeartbeatResponse(m: Message, pr: Progress): void {
    pr.recentActive = true;
    pr.msgAppFlowPaused = false;
    // The peer is alive: free one slot so a full window cannot stall replication forever.
    if (pr.state === "StateReplicate" && pr.inflights.full()) pr.inflights.freeFirstOne();
    if (pr.match < this.raftLog.lastIndex() || pr.state === "StateProbe") this.sendAppend(m.from);
    if (this.readOnlyOption !== "ReadOnlySafe" || m.context.length === 0) return;
    const acks = this.readOnly.recvAck(m.from, m.context);
    if (acks === undefined || jointVoteResult(this.trk.voters, acks) !== "VoteWon") return;
    for (const rs of this.readOnly.advance(m.context)) this.respondToReadIndex(rs.req, rs.index);
  }

  private handleSnapshotStatus(m: Message, pr: Progress): void {
    if (pr.state !== "StateSnapshot") return;
    // On failure forget the snapshot so that probing starts from match again.
    if (m.reject) pr.pendingSnapshot = 0;
    pr.becomeProbe();
    // Wait for the peer's MsgAppResp (or a heartbeat round) before the next MsgApp.
    pr.msgAppFlowPaused = true;
  }

  private handleTransferLeader(transferee: NodeId, pr: Progress): void {
    if (pr.isLearner) return;
    if (this.leadTransferee !== NONE) {
      if (this.leadTransferee === transferee) return;
      this.leadTransferee = NONE;
    }
    if (transferee === this.id) return;
    this.electionElapsed = 0; // the transfer must finish within one election timeout
    this.leadTransferee = transferee;
    if (pr.match === this.raftLog.lastIndex()) this.send({ type: "MsgTimeoutNow", to: transferee });
    else this.sendAppend(transferee);
  }

  /** Commits what a quorum has durably acknowledged, if it is of the current term. */
  private maybeCommit(): boolean {
    return this.raftLog.maybeCommit(this.trk.committed(), this.term);
  }

  private committedEntryInCurrentTerm(): boolean {
    return this.raftLog.termOrZero(this.raftLog.committed) === this.term;
  }

  private bcastAppend(): void {
    for (const id of this.trk.ids) if (id !== this.id) this.sendAppend(id);
  }

  private sendAppend(to: NodeId): void {
    this.maybeSendAppend(to, true);
  }

  /**
   * Sends `to` the entries from its `next` index (or a snapshot when they are compacted). With
   * `sendIfEmpty` false nothing is sent when there are no entries. Returns whether a message went.
   */
  private maybeSendAppend(to: NodeId, sendIfEmpty: boolean): boolean {
    const pr = this.trk.progress.get(to) as Progress;
    if (pr.isPaused()) return false;
    const prevIndex = pr.next - 1;
    const prevTerm = this.raftLog.term(prevIndex);
    const ents =
      typeof prevTerm === "number"
        ? this.raftLog.entries(pr.next, this.maxSizePerMsgBytes)
        : "compacted";
    if (typeof prevTerm !== "number" || ents === "compacted") return this.sendSnapshot(to, pr);
    if (ents.length === 0 && !sendIfEmpty) return false;
    this.send({
      type: "MsgApp",
      to,
      index: prevIndex,
      logTerm: prevTerm,
      entries: ents,
      commit: this.raftLog.committed,
    });
    pr.sentEntries(ents.length, prevIndex + ents.length);
    pr.sentCommit = this.raftLog.committed;
    return true;
  }

  private sendSnapshot(to: NodeId, pr: Progress): boolean {
    // An inactive peer may be down; a snapshot is expensive, so wait until it answers.
    if (!pr.recentActive) return false;
    const snapshot = this.raftLog.snapshot();
    if (snapshot === "snapshot-temporarily-unavailable") return false;
    assert(typeof snapshot === "object", () => `storage.snapshot(): ${String(snapshot)}`);
    assert(snapshot.metadata.index > 0, "need a non-empty snapshot");
    this.send({ type: "MsgSnap", to, snapshot });
    pr.becomeSnapshot(snapshot.metadata.index);
    return true;
  }

  private bcastHeartbeat(): void {
    const ctx = this.readOnly.lastPendingRequestCtx() ?? NO_BYTES;
    for (const id of this.trk.ids) if (id !== this.id) this.sendHeartbeat(id, ctx);
  }

  private sendHeartbeat(to: NodeId, ctx: Uint8Array): void {
    const pr = this.trk.progress.get(to) as Progress;
    // Never tell a peer to commit past what it is known to hold: it may not have it yet.
    const commit = Math.min(pr.match, this.raftLog.committed);
    this.send({ type: "MsgHeartbeat", to, commit, context: ctx });
    pr.sentCommit = Math.max(pr.sentCommit, commit);
  }

  // ---- ReadIndex -------------------------------------------------------------------------------

  private handleReadIndex(m: Message): void {
    if (this.trk.isSingleton()) {
      this.respondToReadIndex(m, this.raftLog.committed);
      return;
    }
    // Until an entry of this term is committed, our commit index may lag behind entries that an
    // earlier leader committed: a read at it could miss acknowledged writes.
    if (!this.committedEntryInCurrentTerm()) {
      this.pendingReadIndexMessages.push(m);
      return;
    }
    this.startReadIndex(m);
  }

  private startReadIndex(m: Message): void {
    switch (this.readOnlyOption) {
      case "ReadOnlySafe":
        this.readOnly.addRequest(this.raftLog.committed, m);
        this.readOnly.recvAck(this.id, m.context);
        this.bcastHeartbeatWithCtx(m.context);
        return;
      case "ReadOnlyLeaseBased":
        this.respondToReadIndex(m, this.raftLog.committed);
        return;
      default:
        unreachable(this.readOnlyOption, "read-only option");
    }
  }

  private bcastHeartbeatWithCtx(ctx: Uint8Array): void {
    for (const id of this.trk.ids) if (id !== this.id) this.sendHeartbeat(id, ctx);
  }

  private releasePendingReadIndexMessages(): void {
    if (this.pendingReadIndexMessages.length === 0) return;
    assert(this.committedEntryInCurrentTerm(), "releasing reads before a commit in this term");
    const pending = this.pendingReadIndexMessages;
    this.pendingReadIndexMessages = [];
    for (const m of pending) this.startReadIndex(m);
  }

  private respondToReadIndex(req: Message, index: number): void {
    if (req.from === NONE || req.from === this.id) {
      this.readStates.push({ index, requestCtx: req.context });
    } else {
      this.send({ type: "MsgReadIndexResp", to: req.from, index, context: req.context });
    }
  }

  // ---- candidate and follower ------------------------------------------------------------------

  private stepCandidate(m: Message): StepResult {
    const myVoteResp = this.state === "StatePreCandidate" ? "MsgPreVoteResp" : "MsgVoteResp";
    switch (m.type) {
      case "MsgProp":
        return "dropped";
      case "MsgApp":
      case "MsgHeartbeat":
      case "MsgSnap":
        // A leader of our term exists: we lost this election.
        this.becomeFollower(m.term, m.from);
        this.handleLeaderMessage(m);
        return "ok";
      case "MsgVoteResp":
      case "MsgPreVoteResp":
        if (m.type === myVoteResp) this.handleVoteResponse(m);
        return "ok";
      case "MsgReadIndex":
      case "MsgTransferLeader":
        return "dropped";
      case "MsgHup":
      case "MsgBeat":
      case "MsgCheckQuorum":
      case "MsgAppResp":
      case "MsgHeartbeatResp":
      case "MsgVote":
      case "MsgPreVote":
      case "MsgUnreachable":
      case "MsgSnapStatus":
      case "MsgTimeoutNow":
      case "MsgReadIndexResp":
        return "ok";
      default:
        return unreachable(m.type, "message type");
    }
  }

  private handleVoteResponse(m: Message): void {
    switch (this.poll(m.from, !m.reject)) {
      case "VoteWon":
        if (this.state === "StatePreCandidate") {
          this.campaign("CampaignElection");
        } else {
          this.becomeLeader();
          this.bcastAppend();
        }
        return;
      case "VoteLost":
        // Back to follower at our term; a pre-candidate never raised it.
        this.becomeFollower(this.term, NONE);
        return;
      case "VotePending":
        return;
    }
  }

  private stepFollower(m: Message): StepResult {
    switch (m.type) {
      case "MsgProp":
        if (this.lead === NONE || this.disableProposalForwarding) return "dropped";
        this.forward(m, this.lead);
        return "ok";
      case "MsgApp":
      case "MsgHeartbeat":
      case "MsgSnap":
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleLeaderMessage(m);
        return "ok";
      case "MsgTransferLeader":
      case "MsgReadIndex":
        if (this.lead === NONE) return "dropped";
        this.forward(m, this.lead);
        return "ok";
      case "MsgTimeoutNow":
        // The leader asked us to take over: campaign now, without a pre-vote (we know the
        // leader is reachable, so the extra round trip buys nothing).
        this.hup("CampaignTransfer");
        return "ok";
      case "MsgReadIndexResp":
        this.readStates.push({ index: m.index, requestCtx: m.context });
        return "ok";
      case "MsgHup":
      case "MsgBeat":
      case "MsgCheckQuorum":
      case "MsgAppResp":
      case "MsgHeartbeatResp":
      case "MsgVote":
      case "MsgVoteResp":
      case "MsgPreVote":
      case "MsgPreVoteResp":
      case "MsgUnreachable":
      case "MsgSnapStatus":
        return "ok";
      default:
        return unreachable(m.type, "message type");
    }
  }

  private forward(m: Message, to: NodeId): void {
    // Proposals and reads travel without a term: the leader treats them like local requests.
    const keepTermless = m.type === "MsgProp" || m.type === "MsgReadIndex";
    this.msgs.push({ ...m, to, term: keepTermless ? 0 : this.term });
  }

  private handleLeaderMessage(m: Message): void {
    if (m.type === "MsgApp") this.handleAppendEntries(m);
    else if (m.type === "MsgHeartbeat") this.handleHeartbeat(m);
    else this.handleSnapshot(m);
  }

  private handleAppendEntries(m: Message): void {
    const { raftLog } = this;
    if (m.index < raftLog.committed) {
      this.send({ type: "MsgAppResp", to: m.from, index: raftLog.committed });
      return;
    }
    const lastNewIndex = raftLog.maybeAppend(m.index, m.logTerm, m.commit, m.entries);
    if (lastNewIndex !== undefined) {
      // Sent in the same Ready as the entries, hence only after they are persisted.
      this.send({ type: "MsgAppResp", to: m.from, index: lastNewIndex });
      return;
    }
    // Hint the largest index whose term is <= m.logTerm: the leader can skip everything after it.
    const hint = raftLog.findConflictByTerm(Math.min(m.index, raftLog.lastIndex()), m.logTerm);
    this.send({
      type: "MsgAppResp",
      to: m.from,
      index: m.index,
      reject: true,
      rejectHint: hint.index,
      logTerm: hint.term,
    });
  }

  private handleHeartbeat(m: Message): void {
    this.raftLog.commitTo(m.commit);
    this.send({ type: "MsgHeartbeatResp", to: m.from, context: m.context });
  }

  private handleSnapshot(m: Message): void {
    assert(m.snapshot !== undefined, "MsgSnap without a snapshot");
    const index = this.restore(m.snapshot) ? this.raftLog.lastIndex() : this.raftLog.committed;
    this.send({ type: "MsgAppResp", to: m.from, index });
  }

  /** Replaces our log by the snapshot unless we already have (or committed) what it holds. */
  private restore(s: Snapshot): boolean {
    const { index, term, confState } = s.metadata;
    if (index <= this.raftLog.committed) return false;
    assert(this.state === "StateFollower", "snapshot restored by a non-follower");
    const members = [...confState.voters, ...confState.learners, ...confState.votersOutgoing];
    if (!members.includes(this.id)) return false;
    if (this.raftLog.matchTerm(index, term)) {
      // Our log already has the snapshot's last entry: just commit up to it.
      this.raftLog.commitTo(index);
      return false;
    }
    this.raftLog.restore(s);
    this.trk = new ProgressTracker(
      confState,
      this.trk.maxInflightMsgs,
      this.raftLog.lastIndex() + 1,
    );
    return true;
  }

  // ---- persistence acknowledgements from RawNode.advance ---------------------------------------

  /**
   * The application persisted the log up to (index, term). For a leader this is its own
   * MsgAppResp: only now does its copy count toward the commit quorum.
   */
  onPersistedEntries(index: number, term: number): void {
    this.raftLog.stableTo(index, term);
    if (this.state !== "StateLeader" || !this.raftLog.matchTerm(index, term)) return;
    const self = this.trk.progress.get(this.id);
    if (self === undefined || !self.maybeUpdate(index)) return;
    if (this.maybeCommit()) {
      this.releasePendingReadIndexMessages();
      this.bcastAppend();
    }
  }

  onPersistedSnapshot(index: number): void {
    this.raftLog.stableSnapTo(index);
    this.raftLog.appliedTo(Math.max(index, this.raftLog.applied));
  }

  /** The application applied committed entries up to `index` (of `sizeBytes` payload). */
  onApplied(index: number, sizeBytes: number): void {
    this.raftLog.appliedTo(index);
    if (this.state !== "StateLeader") return;
    this.uncommittedSizeBytes = Math.max(0, this.uncommittedSizeBytes - sizeBytes);
    if (this.trk.config.autoLeave && index >= this.pendingConfIndex) {
      // The joint configuration is in effect everywhere it matters: leave it. A refusal (during
      // a transfer) is retried at the next apply, as etcd does.
      const { type, data } = encodeConfChange(leaveJointConfChange());
      const entry: Entry = { term: 0, index: 0, type, data };
      this.step(localMessage("MsgProp", this.id, { entries: [entry] }));
    }
  }

  // ---- membership ------------------------------------------------------------------------------

  /**
   * Applies a committed configuration change (the application calls this when it applies the
   * entry). A refused change leaves the configuration as it was, identically on every member.
   */
  applyConfChange(cc: AnyConfChange): Result<ConfState, ConfChangeError> {
    const r = changeConf(this.trk.config, cc);
    if (r.ok) this.switchToConfig(r.value);
    return r;
  }

  private switchToConfig(cs: ConfState): void {
    const before = new Set(this.trk.ids);
    this.trk.applyConfig(cs, this.raftLog.lastIndex() + 1);
    if (this.state !== "StateLeader") return;
    const self = this.trk.progress.get(this.id);
    if (self === undefined || self.isLearner) {
      // Removed (or demoted): a leader that is not a voter must not keep the group's commits and
      // elections waiting on it. Step down so that the remaining voters elect one of their own.
      this.becomeFollower(this.term, NONE);
      return;
    }
    if (this.leadTransferee !== NONE && !this.trk.isVoter(this.leadTransferee)) {
      this.leadTransferee = NONE;
    }
    // A new quorum may already hold more than the old one did (a slow voter left).
    if (this.maybeCommit()) {
      this.releasePendingReadIndexMessages();
      this.bcastAppend();
    } else {
      // A new member gets a probe now, so that it starts catching up without waiting for the
      // next proposal or heartbeat.
      for (const id of this.trk.ids) if (id !== this.id) this.maybeSendAppend(id, !before.has(id));
    }
  }

  // ---- output ----------------------------------------------------------------------------------

  private send(m: Outgoing): void {
    assert(m.to !== this.id && m.to !== NONE, () => `${m.type} to ${m.to} from ${this.id}`);
    const isVote =
      m.type === "MsgVote" ||
      m.type === "MsgVoteResp" ||
      m.type === "MsgPreVote" ||
      m.type === "MsgPreVoteResp";
    // Votes carry an explicit term (a pre-vote's is the future one); all others our current term.
    assert(isVote === (m.term !== undefined), () => `${m.type}: term ${m.term}`);
    const base: Message = {
      type: m.type,
      from: this.id,
      to: m.to,
      term: m.term ?? this.term,
      logTerm: m.logTerm ?? 0,
      index: m.index ?? 0,
      entries: m.entries ?? NO_ENTRIES,
      commit: m.commit ?? 0,
      reject: m.reject ?? false,
      rejectHint: m.rejectHint ?? 0,
      context: m.context ?? NO_BYTES,
    };
    this.msgs.push(m.snapshot === undefined ? base : { ...base, snapshot: m.snapshot });
  }
}

function validateConfig(c: RaftConfig): void {
  assert(c.id !== NONE, "raft id must not be 0");
  assert(c.heartbeatTick > 0, "heartbeatTick must be > 0");
  assert(c.electionTick > c.heartbeatTick, "electionTick must be > heartbeatTick");
  assert((c.maxInflightMsgs ?? 1) > 0, "maxInflightMsgs must be > 0");
  assert(
    c.readOnlyOption !== "ReadOnlyLeaseBased" || c.checkQuorum === true,
    "ReadOnlyLeaseBased requires checkQuorum",
  );
}
