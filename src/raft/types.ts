// The vocabulary of the Raft state machine: messages, entries, states and the Ready batch.
// Names follow etcd raft's (MsgApp, HardState, commit, logTerm) so traces read like etcd's.
import type { Random } from "../env/random.js";

/** A member id. 0 means "none" (no leader, no vote). */
export type NodeId = number;
export const NONE: NodeId = 0;

export type StateType = "StateFollower" | "StateCandidate" | "StateLeader" | "StatePreCandidate";

export type MessageType =
  | "MsgHup" // local: start an election
  | "MsgBeat" // local: leader sends heartbeats
  | "MsgProp" // propose entries (local or forwarded to the leader)
  | "MsgApp"
  | "MsgAppResp"
  | "MsgVote"
  | "MsgVoteResp"
  | "MsgPreVote"
  | "MsgPreVoteResp"
  | "MsgSnap"
  | "MsgHeartbeat"
  | "MsgHeartbeatResp"
  | "MsgUnreachable" // local: the transport could not reach a peer
  | "MsgSnapStatus" // local: result of sending a snapshot
  | "MsgCheckQuorum" // local: leader checks it still has a quorum
  | "MsgTransferLeader"
  | "MsgTimeoutNow"
  | "MsgReadIndex"
  | "MsgReadIndexResp";

export type EntryType = "EntryNormal" | "EntryConfChange" | "EntryConfChangeV2";

export interface Entry {
  readonly term: number;
  readonly index: number;
  readonly type: EntryType;
  /** Opaque to raft. An empty array is the leader's no-op entry of a new term. */
  readonly data: Uint8Array;
}

/** Persisted before any message that depends on it is sent (see Ready.mustSync). */
export interface HardState {
  readonly term: number;
  readonly vote: NodeId;
  readonly commit: number;
}

/**
 * The membership of the group. Voters decide elections and commits; learners only receive the log.
 * While joint, `votersOutgoing` is the old voter set and both sets must agree (joint consensus);
 * `learnersNext` are outgoing voters that become learners when the joint configuration is left.
 */
export interface ConfState {
  readonly voters: readonly NodeId[];
  readonly learners: readonly NodeId[];
  /** Voters of the outgoing configuration while joint; empty otherwise. */
  readonly votersOutgoing: readonly NodeId[];
  readonly learnersNext: readonly NodeId[];
  readonly autoLeave: boolean;
}

/** One change of a membership change (etcd's ConfChangeType). */
export type ConfChangeType =
  | "ConfChangeAddNode" // add a voter, or promote a learner
  | "ConfChangeRemoveNode"
  | "ConfChangeUpdateNode" // no membership effect; carries the member's new attributes in context
  | "ConfChangeAddLearnerNode"; // add a learner, or demote a voter

export interface ConfChangeSingle {
  readonly type: ConfChangeType;
  readonly nodeId: NodeId;
}

/** A change of one member, logged as EntryConfChange (etcd's ConfChange, the "V1" format). */
export interface ConfChange {
  readonly kind: "ConfChange";
  readonly type: ConfChangeType;
  readonly nodeId: NodeId;
  /** Opaque to raft; the server puts the member's attributes (peer URLs) here. */
  readonly context: Uint8Array;
}

/**
 * How a ConfChangeV2 moves between configurations:
 * - Auto: a simple change when at most one voter changes, else joint with automatic leave;
 * - JointImplicit: always joint, left automatically by the leader once applied;
 * - JointExplicit: always joint, left only by the application proposing an empty ConfChangeV2.
 */
export type ConfChangeTransition =
  | "ConfChangeTransitionAuto"
  | "ConfChangeTransitionJointImplicit"
  | "ConfChangeTransitionJointExplicit";

/**
 * Several changes applied atomically, logged as EntryConfChangeV2. With no changes (and the Auto
 * transition) it is the request to leave a joint configuration.
 */
export interface ConfChangeV2 {
  readonly kind: "ConfChangeV2";
  readonly transition: ConfChangeTransition;
  readonly changes: readonly ConfChangeSingle[];
  readonly context: Uint8Array;
}

export type AnyConfChange = ConfChange | ConfChangeV2;

export interface SnapshotMetadata {
  readonly confState: ConfState;
  readonly index: number;
  readonly term: number;
}

export interface Snapshot {
  readonly data: Uint8Array;
  readonly metadata: SnapshotMetadata;
}

export interface Message {
  readonly type: MessageType;
  readonly from: NodeId;
  readonly to: NodeId;
  readonly term: number;
  /** MsgApp: term of the entry at `index`. Votes: last log term of the candidate. */
  readonly logTerm: number;
  /** MsgApp: index of the entry before `entries`. MsgAppResp: last index matched (or rejected). */
  readonly index: number;
  readonly entries: readonly Entry[];
  readonly commit: number;
  readonly reject: boolean;
  /** MsgAppResp reject: the follower's hint for where to probe next. */
  readonly rejectHint: number;
  /** MsgReadIndex / heartbeats: the read request context; MsgVote: campaign type. */
  readonly context: Uint8Array;
  readonly snapshot?: Snapshot;
}

export interface SoftState {
  readonly lead: NodeId;
  readonly raftState: StateType;
}

/** The answer to a ReadIndex request: once applied >= index, a read with this context is linearizable. */
export interface ReadState {
  readonly index: number;
  readonly requestCtx: Uint8Array;
}

/**
 * One batch of work for the application. The application must, in this order:
 * 1. persist `entries`, `hardState` and `snapshot` (fsync first when `mustSync`);
 * 2. only then send `messages` (persist-before-send: a vote or an append acknowledgement must not
 *    reach a peer before the state it promises is durable);
 * 3. apply `snapshot` then `committedEntries` to the state machine, and serve `readStates`;
 * 4. call `advance()`.
 * One relaxation is safe: a leader may send its messages before its own write completes (the
 * Raft thesis' parallel write, §10.2.1), because raft counts the leader's own entries toward the
 * commit quorum only when `advance()` reports them persisted, never when they are appended.
 * The golden scripts persist-before-send.txt and leader-self-ack.txt show both rules, and the test
 * harness checks the first one on every Ready it processes.
 */
export interface Ready {
  readonly softState?: SoftState;
  readonly hardState?: HardState;
  readonly readStates: readonly ReadState[];
  readonly entries: readonly Entry[];
  readonly snapshot?: Snapshot;
  readonly committedEntries: readonly Entry[];
  readonly messages: readonly Message[];
  readonly mustSync: boolean;
}

export type StorageError = "compacted" | "unavailable" | "snapshot-temporarily-unavailable";

/**
 * The stable log a raft node reads. Everything returned here has been persisted by the application.
 * Index 0 / term 0 is the empty log's sentinel.
 */
export interface Storage {
  initialState(): { hardState: HardState; confState: ConfState };
  /** Entries in [lo, hi), at least one if any exists, the total size bounded by maxSizeBytes. */
  entries(lo: number, hi: number, maxSizeBytes: number): Entry[] | StorageError;
  term(index: number): number | StorageError;
  lastIndex(): number;
  firstIndex(): number;
  snapshot(): Snapshot | StorageError;
}

export type ReadOnlyOption = "ReadOnlySafe" | "ReadOnlyLeaseBased";

export interface RaftConfig {
  readonly id: NodeId;
  /** Ticks without hearing from a leader before a follower campaigns (randomized in [e, 2e-1]). */
  readonly electionTick: number;
  readonly heartbeatTick: number;
  readonly storage: Storage;
  /** The last applied index at start (restart after a crash). */
  readonly applied?: number;
  readonly maxSizePerMsg?: number;
  readonly maxInflightMsgs?: number;
  readonly maxUncommittedEntriesSize?: number;
  readonly checkQuorum?: boolean;
  readonly preVote?: boolean;
  readonly readOnlyOption?: ReadOnlyOption;
  readonly disableProposalForwarding?: boolean;
  /** The member's random stream: the only randomness raft uses (election timeout). */
  readonly random: Random;
}

/** A short snapshot of a node for tests, invariants and status endpoints. */
export interface Status {
  readonly id: NodeId;
  readonly hardState: HardState;
  readonly softState: SoftState;
  readonly applied: number;
  readonly lastIndex: number;
  readonly leadTransferee: NodeId;
  /** The configuration in effect (the last one applied). */
  readonly config: ConfState;
  /**
   * Leader only: replication progress of each member, itself included. A learner is caught up
   * when its `match` is close to the leader's own (the server's check before promoting it).
   */
  readonly progress: ReadonlyMap<NodeId, ProgressStatus>;
}

export interface ProgressStatus {
  readonly match: number;
  readonly next: number;
  readonly state: string;
  readonly isLearner: boolean;
}
