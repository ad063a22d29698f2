// Membership changes: the entry codec of ConfChange / ConfChangeV2 and the pure function that
// computes the configuration a change leads to. Raft applies a configuration only when its entry is
// applied, so every member computes the same result from the same log, including the same refusal.
import { assert, unreachable } from "../lib/assert.js";
import { type Result, err, ok } from "../lib/result.js";
import type {
  AnyConfChange,
  ConfChangeSingle,
  ConfChangeTransition,
  ConfChangeType,
  ConfChangeV2,
  ConfState,
  EntryType,
  NodeId,
} from "./types.js";

// ---- codec --------------------------------------------------------------------------------------
//
// Layout (all integers are unsigned LEB128 varints):
//   ConfChange:   type, nodeId, contextLength, context
//   ConfChangeV2: transition, changeCount, (type, nodeId)*, contextLength, context
// The empty byte array also decodes as the empty ConfChangeV2 (leave joint), as in etcd.

const CHANGE_TYPES: readonly ConfChangeType[] = [
  "ConfChangeAddNode",
  "ConfChangeRemoveNode",
  "ConfChangeUpdateNode",
  "ConfChangeAddLearnerNode",
];
const TRANSITIONS: readonly ConfChangeTransition[] = [
  "ConfChangeTransitionAuto",
  "ConfChangeTransitionJointImplicit",
  "ConfChangeTransitionJointExplicit",
];
const NO_BYTES = new Uint8Array(0);
/** Far above any real membership; bounds what a corrupt entry can make us allocate. */
const MAX_CHANGES = 1024;

function putVarint(out: number[], v: number): void {
  assert(Number.isSafeInteger(v) && v >= 0, () => `varint ${v}`);
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
}

class Reader {
  private pos = 0;
  constructor(private readonly data: Uint8Array) {}

  varint(): number | undefined {
    let v = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      const b = this.data[this.pos++];
      if (b === undefined) return undefined;
      v += (b & 0x7f) * scale;
      if (b < 0x80) return Number.isSafeInteger(v) ? v : undefined;
      scale *= 0x80;
    }
    return undefined;
  }

  bytes(n: number): Uint8Array | undefined {
    if (this.pos + n > this.data.length) return undefined;
    const b = this.data.slice(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }

  done(): boolean {
    return this.pos === this.data.length;
  }
}

/** The entry type and data that carry `cc` in the log. Deterministic: equal changes, equal bytes. */
export function encodeConfChange(cc: AnyConfChange): { type: EntryType; data: Uint8Array } {
  const out: number[] = [];
  switch (cc.kind) {
    case "ConfChange":
      putVarint(out, CHANGE_TYPES.indexOf(cc.type));
      putVarint(out, cc.nodeId);
      break;
    case "ConfChangeV2":
      putVarint(out, TRANSITIONS.indexOf(cc.transition));
      putVarint(out, cc.changes.length);
      for (const c of cc.changes) {
        putVarint(out, CHANGE_TYPES.indexOf(c.type));
        putVarint(out, c.nodeId);
      }
      break;
    default:
      unreachable(cc, "conf change");
  }
  putVarint(out, cc.context.length);
  const data = new Uint8Array(out.length + cc.context.length);
  data.set(out);
  data.set(cc.context, out.length);
  return { type: cc.kind === "ConfChange" ? "EntryConfChange" : "EntryConfChangeV2", data };
}

function readChange(r: Reader): ConfChangeSingle | undefined {
  const type = CHANGE_TYPES[r.varint() ?? -1];
  const nodeId = r.varint();
  return type === undefined || nodeId === undefined ? undefined : { type, nodeId };
}

function readContext(r: Reader): Uint8Array | undefined {
  const n = r.varint();
  const context = n === undefined ? undefined : r.bytes(n);
  return context !== undefined && r.done() ? context : undefined;
}

/**
 * Decodes the data of an EntryConfChange or EntryConfChangeV2. Returns undefined for any other
 * entry type or for bytes that no encoder produced (a caller bug or corruption).
 */
export function decodeConfChange(type: EntryType, data: Uint8Array): AnyConfChange | undefined {
  if (type === "EntryNormal") return undefined;
  const r = new Reader(data);
  if (type === "EntryConfChange") {
    const c = readChange(r);
    const context = readContext(r);
    if (c === undefined || context === undefined) return undefined;
    return { kind: "ConfChange", type: c.type, nodeId: c.nodeId, context };
  }
  if (data.length === 0) return leaveJointConfChange();
  const transition = TRANSITIONS[r.varint() ?? -1];
  const count = r.varint();
  if (transition === undefined || count === undefined || count > MAX_CHANGES) return undefined;
  const changes: ConfChangeSingle[] = [];
  for (let i = 0; i < count; i++) {
    const c = readChange(r);
    if (c === undefined) return undefined;
    changes.push(c);
  }
  const context = readContext(r);
  return context === undefined ? undefined : { kind: "ConfChangeV2", transition, changes, context };
}

/** The empty ConfChangeV2: the request to leave a joint configuration. */
export function leaveJointConfChange(): ConfChangeV2 {
  return {
    kind: "ConfChangeV2",
    transition: "ConfChangeTransitionAuto",
    changes: [],
    context: NO_BYTES,
  };
}

/** A single change seen as a ConfChangeV2 with the Auto transition (what it means to raft). */
export function asV2(cc: AnyConfChange): ConfChangeV2 {
  if (cc.kind === "ConfChangeV2") return cc;
  return {
    kind: "ConfChangeV2",
    transition: "ConfChangeTransitionAuto",
    changes: [{ type: cc.type, nodeId: cc.nodeId }],
    context: cc.context,
  };
}

/** Whether `cc` asks to leave a joint configuration (no changes, Auto transition). */
export function wantsLeaveJoint(cc: ConfChangeV2): boolean {
  return cc.transition === "ConfChangeTransitionAuto" && cc.changes.length === 0;
}

/**
 * Whether `cc` enters a joint configuration, and if so whether raft leaves it by itself: more
 * than one change always goes through joint consensus, even when only one voter is affected.
 */
export function entersJoint(cc: ConfChangeV2): { enter: boolean; autoLeave: boolean } {
  const enter = cc.transition !== "ConfChangeTransitionAuto" || cc.changes.length > 1;
  return { enter, autoLeave: enter && cc.transition !== "ConfChangeTransitionJointExplicit" };
}

/** etcd's compact notation: `v2 l3 r1 u4` (voter, learner, remove, update). */
export function describeConfChange(cc: AnyConfChange): string {
  const v2 = asV2(cc);
  const parts = v2.changes.map((c) => `${CHANGE_LETTERS[c.type]}${c.nodeId}`);
  if (cc.kind === "ConfChangeV2" && cc.transition !== "ConfChangeTransitionAuto") {
    parts.push(cc.transition === "ConfChangeTransitionJointImplicit" ? "(implicit)" : "(explicit)");
  }
  return parts.length === 0 ? "(leave joint)" : parts.join(" ");
}

const CHANGE_LETTERS: Readonly<Record<ConfChangeType, string>> = {
  ConfChangeAddNode: "v",
  ConfChangeRemoveNode: "r",
  ConfChangeUpdateNode: "u",
  ConfChangeAddLearnerNode: "l",
};

// ---- the changer --------------------------------------------------------------------------------

/** Why a change was refused; the configuration stays as it was. */
export type ConfChangeError =
  | "already-joint" // entering a joint configuration while joint
  | "not-joint" // leaving a joint configuration while not joint
  | "zero-voter-joint" // entering joint from a configuration without voters
  | "simple-change-while-joint" // a simple change must wait until the joint config is left
  | "more-than-one-voter-changed" // a simple change may change at most one voter
  | "removed-all-voters";

/** A mutable working copy of a configuration. */
interface WorkConfig {
  incoming: Set<NodeId>;
  outgoing: Set<NodeId>;
  learners: Set<NodeId>;
  learnersNext: Set<NodeId>;
  autoLeave: boolean;
}

function sorted(ids: Iterable<NodeId>): NodeId[] {
  return [...ids].sort((a, b) => a - b);
}

function work(cs: ConfState): WorkConfig {
  return {
    incoming: new Set(cs.voters),
    outgoing: new Set(cs.votersOutgoing),
    learners: new Set(cs.learners),
    learnersNext: new Set(cs.learnersNext),
    autoLeave: cs.autoLeave,
  };
}

function frozen(w: WorkConfig): ConfState {
  return {
    voters: sorted(w.incoming),
    learners: sorted(w.learners),
    votersOutgoing: sorted(w.outgoing),
    learnersNext: sorted(w.learnersNext),
    autoLeave: w.autoLeave,
  };
}

/** Whether `cs` is a joint configuration. */
export function isJoint(cs: ConfState): boolean {
  return cs.votersOutgoing.length > 0;
}

/**
 * The configuration that `cc` turns `cs` into, or why it cannot. Pure: every member applying the
 * same change to the same configuration gets the same answer.
 */
export function changeConf(cs: ConfState, cc: AnyConfChange): Result<ConfState, ConfChangeError> {
  const v2 = asV2(cc);
  if (wantsLeaveJoint(v2)) return leaveJoint(cs);
  const { enter, autoLeave } = entersJoint(v2);
  return enter ? enterJoint(cs, autoLeave, v2.changes) : simple(cs, v2.changes);
}

/** Copies the voters into the outgoing half, then applies the changes to the incoming half. */
function enterJoint(
  cs: ConfState,
  autoLeave: boolean,
  changes: readonly ConfChangeSingle[],
): Result<ConfState, ConfChangeError> {
  if (isJoint(cs)) return err("already-joint");
  if (cs.voters.length === 0) return err("zero-voter-joint");
  const w = work(cs);
  w.outgoing = new Set(w.incoming);
  const e = applyChanges(w, changes);
  if (e !== undefined) return err(e);
  w.autoLeave = autoLeave;
  return checked(w);
}

/** Drops the outgoing half; outgoing voters that were demoted become learners now. */
function leaveJoint(cs: ConfState): Result<ConfState, ConfChangeError> {
  if (!isJoint(cs)) return err("not-joint");
  const w = work(cs);
  for (const id of w.learnersNext) w.learners.add(id);
  w.learnersNext.clear();
  w.outgoing.clear();
  w.autoLeave = false;
  return checked(w);
}

/** At most one voter may change: any two majorities of the old and new sets then intersect. */
function simple(
  cs: ConfState,
  changes: readonly ConfChangeSingle[],
): Result<ConfState, ConfChangeError> {
  if (isJoint(cs)) return err("simple-change-while-joint");
  const w = work(cs);
  const e = applyChanges(w, changes);
  if (e !== undefined) return err(e);
  let changed = 0;
  for (const id of w.incoming) if (!cs.voters.includes(id)) changed++;
  for (const id of cs.voters) if (!w.incoming.has(id)) changed++;
  if (changed > 1) return err("more-than-one-voter-changed");
  return checked(w);
}

function applyChanges(
  w: WorkConfig,
  changes: readonly ConfChangeSingle[],
): ConfChangeError | undefined {
  for (const c of changes) {
    if (c.nodeId === 0) continue; // etcd ignores changes of node 0
    switch (c.type) {
      case "ConfChangeAddNode":
        makeVoter(w, c.nodeId);
        break;
      case "ConfChangeAddLearnerNode":
        makeLearner(w, c.nodeId);
        break;
      case "ConfChangeRemoveNode":
        remove(w, c.nodeId);
        break;
      case "ConfChangeUpdateNode":
        break;
      default:
        unreachable(c.type, "conf change type");
    }
  }
  return w.incoming.size === 0 ? "removed-all-voters" : undefined;
}

function makeVoter(w: WorkConfig, id: NodeId): void {
  w.learners.delete(id);
  w.learnersNext.delete(id);
  w.incoming.add(id);
}

/**
 * A voter of the outgoing half still votes there until the joint configuration is left, so it
 * cannot be a learner yet: it waits in learnersNext.
 */
function makeLearner(w: WorkConfig, id: NodeId): void {
  if (w.learners.has(id)) return;
  w.incoming.delete(id);
  w.learnersNext.delete(id);
  if (w.outgoing.has(id)) w.learnersNext.add(id);
  else w.learners.add(id);
}

function remove(w: WorkConfig, id: NodeId): void {
  w.incoming.delete(id);
  w.learners.delete(id);
  w.learnersNext.delete(id);
}

/** The invariants of a configuration; a violation is a bug in this module, not a bad change. */
function checked(w: WorkConfig): Result<ConfState, ConfChangeError> {
  for (const id of w.learners) {
    assert(!w.incoming.has(id) && !w.outgoing.has(id), () => `learner ${id} is also a voter`);
  }
  for (const id of w.learnersNext) {
    assert(w.outgoing.has(id) && !w.learners.has(id), () => `learnersNext ${id} misplaced`);
  }
  if (w.outgoing.size === 0) {
    assert(w.learnersNext.size === 0 && !w.autoLeave, "learnersNext or autoLeave while not joint");
  }
  return ok(frozen(w));
}
