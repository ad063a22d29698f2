// Merges the messages of one Ready that say, together, what one message would: appends to a
// follower that continue each other, proposals forwarded to one leader, and successive
// acknowledgements to one leader. Under load a leader's Ready holds one MsgApp per proposal and
// follower; sent as is, each costs a frame, a decode and an answer. Only a message's latest
// predecessor to the same peer is merged into, so the order of what each peer receives is kept.

import type { Entry, Message, NodeId } from "./types.js";

/** A merged append stays below this many bytes of entry data (raft's MaxSizePerMsg spirit). */
const MAX_MERGED_ENTRY_BYTES = 1 << 20;

/**
 * A message of the output and what has been merged into it: `entries` is a private copy that
 * later appends and proposals are pushed onto (so merging n messages copies each entry once).
 */
interface Slot {
  msg: Message;
  entries: Entry[] | undefined;
  /** Entry data bytes of `entries` (MsgApp only; -1 until first needed). */
  bytes: number;
  commit: number;
}

export function coalesceMessages(messages: readonly Message[]): Message[] {
  if (messages.length < 2) return messages.slice();
  const slots: Slot[] = [];
  const lastTo = new Map<NodeId, Slot>();
  for (const m of messages) {
    const slot = lastTo.get(m.to);
    if (slot !== undefined && absorb(slot, m)) continue;
    const fresh: Slot = { msg: m, entries: undefined, bytes: -1, commit: m.commit };
    lastTo.set(m.to, fresh);
    slots.push(fresh);
  }
  return slots.map(messageOf);
}

function messageOf(slot: Slot): Message {
  if (slot.entries === undefined) return slot.msg;
  return slot.msg.type === "MsgApp"
    ? { ...slot.msg, entries: slot.entries, commit: slot.commit }
    : { ...slot.msg, entries: slot.entries };
}

/** Merges `next` into the slot if together they say what one message would; false if not. */
function absorb(slot: Slot, next: Message): boolean {
  const prev = slot.msg;
  if (prev.type !== next.type || prev.from !== next.from || prev.term !== next.term) return false;
  switch (prev.type) {
    case "MsgApp":
      return absorbAppend(slot, next);
    case "MsgProp":
      push(slot, next.entries);
      return true;
    case "MsgAppResp":
      // A later acknowledgement of a longer log says all an earlier one did.
      if (prev.reject || next.reject || next.index < prev.index) return false;
      slot.msg = next;
      return true;
    default:
      return false;
  }
}

function absorbAppend(slot: Slot, next: Message): boolean {
  const prev = slot.msg;
  const entries = slot.entries ?? prev.entries;
  const last = entries[entries.length - 1];
  const lastIndex = prev.index + entries.length;
  const lastTerm = last === undefined ? prev.logTerm : last.term;
  if (next.index !== lastIndex || next.logTerm !== lastTerm || next.commit < slot.commit) {
    return false;
  }
  if (slot.bytes < 0) slot.bytes = entryBytes(entries);
  const added = entryBytes(next.entries);
  if (slot.bytes + added > MAX_MERGED_ENTRY_BYTES) return false;
  slot.bytes += added;
  push(slot, next.entries);
  slot.commit = next.commit;
  return true;
}

function push(slot: Slot, more: readonly Entry[]): void {
  slot.entries ??= slot.msg.entries.slice();
  for (const e of more) slot.entries.push(e);
}

function entryBytes(entries: readonly Entry[]): number {
  let n = 0;
  for (const e of entries) n += e.data.length;
  return n;
}
