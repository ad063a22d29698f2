// Merges the messages of one Ready that say, together, what one message would: appends to a
// follower that continue each other, proposals forwarded to one leader, and successive
// acknowledgements to one leader. Under load a leader's Ready holds one MsgApp per proposal and
// follower; sent as is, each costs a frame, a decode and an answer. Only a message's latest
// predecessor to the same peer is merged into, so the order of what each peer receives is kept.

import type { Entry, Message, NodeId } from "./types.js";

/** A merged append stays below this many bytes of entry data (raft's MaxSizePerMsg spirit). */
const MAX_MERGED_ENTRY_BYTES = 1 << 20;

export function coalesceMessages(messages: readonly Message[]): Message[] {
  if (messages.length < 2) return messages.slice();
  const out: Message[] = [];
  const lastTo = new Map<NodeId, number>();
  for (const m of messages) {
    const at = lastTo.get(m.to);
    const merged = at === undefined ? undefined : merge(out[at] as Message, m);
    if (merged !== undefined && at !== undefined) {
      out[at] = merged;
      continue;
    }
    lastTo.set(m.to, out.length);
    out.push(m);
  }
  return out;
}

function merge(prev: Message, next: Message): Message | undefined {
  if (prev.type !== next.type || prev.from !== next.from || prev.term !== next.term) {
    return undefined;
  }
  switch (prev.type) {
    case "MsgApp":
      return mergeAppends(prev, next);
    case "MsgProp":
      return { ...prev, entries: [...prev.entries, ...next.entries] };
    case "MsgAppResp":
      // A later acknowledgement of a longer log says all an earlier one did.
      return !prev.reject && !next.reject && next.index >= prev.index ? next : undefined;
    default:
      return undefined;
  }
}

function mergeAppends(prev: Message, next: Message): Message | undefined {
  const last = prev.entries[prev.entries.length - 1];
  const lastIndex = prev.index + prev.entries.length;
  const lastTerm = last === undefined ? prev.logTerm : last.term;
  if (next.index !== lastIndex || next.logTerm !== lastTerm || next.commit < prev.commit) {
    return undefined;
  }
  if (entryBytes(prev.entries) + entryBytes(next.entries) > MAX_MERGED_ENTRY_BYTES) {
    return undefined;
  }
  return { ...prev, entries: [...prev.entries, ...next.entries], commit: next.commit };
}

function entryBytes(entries: readonly Entry[]): number {
  let n = 0;
  for (const e of entries) n += e.data.length;
  return n;
}
