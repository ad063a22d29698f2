// Text renderings of raft values for golden tests, logs and debugging. Stable by contract: golden
// files compare these strings, so change a format only together with the files.
import { decodeConfChange, describeConfChange } from "./confchange.js";
import type {
  ConfState,
  Entry,
  HardState,
  Message,
  ReadState,
  Ready,
  Snapshot,
  SoftState,
} from "./types.js";

/** Printable ASCII as a quoted string, anything else as 0x-prefixed hex. */
export function describeBytes(data: Uint8Array): string {
  let printable = true;
  for (let i = 0; i < data.length; i++) {
    const c = data[i] as number;
    if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) printable = false;
  }
  if (printable) return `"${String.fromCharCode(...data)}"`;
  let hex = "0x";
  for (let i = 0; i < data.length; i++) hex += (data[i] as number).toString(16).padStart(2, "0");
  return hex;
}

/**
 * `term/index type data`, e.g. `2/7 EntryNormal "v1"`; a configuration change shows its changes
 * in etcd's notation instead of bytes, e.g. `2/8 EntryConfChangeV2 v4 r1`.
 */
export function describeEntry(e: Entry): string {
  const cc = decodeConfChange(e.type, e.data);
  const data = cc === undefined ? describeBytes(e.data) : describeConfChange(cc);
  return `${e.term}/${e.index} ${e.type} ${data}`;
}

export function describeEntries(ents: readonly Entry[]): string {
  return ents.map(describeEntry).join(", ");
}

export function describeConfState(cs: ConfState): string {
  let s = `Voters:[${cs.voters.join(" ")}]`;
  if (cs.votersOutgoing.length > 0) s += `&&[${cs.votersOutgoing.join(" ")}]`;
  if (cs.learners.length > 0) s += ` Learners:[${cs.learners.join(" ")}]`;
  if (cs.learnersNext.length > 0) s += ` LearnersNext:[${cs.learnersNext.join(" ")}]`;
  if (cs.autoLeave) s += " AutoLeave";
  return s;
}

export function describeSnapshot(s: Snapshot): string {
  const m = s.metadata;
  return `Index:${m.index} Term:${m.term} ConfState:${describeConfState(m.confState)} Data:${describeBytes(s.data)}`;
}

export function describeHardState(hs: HardState): string {
  return `HardState Term:${hs.term} Vote:${hs.vote} Commit:${hs.commit}`;
}

export function describeSoftState(ss: SoftState): string {
  return `Lead:${ss.lead} State:${ss.raftState}`;
}

export function describeReadState(rs: ReadState): string {
  return `Index:${rs.index} RequestCtx:${describeBytes(rs.requestCtx)}`;
}

/**
 * One line per message: `from->to type Term:t Log:logTerm/index`, then only the fields that are
 * set (Commit, Rejected with its hint, Entries, Context, Snapshot).
 */
export function describeMessage(m: Message): string {
  let s = `${m.from}->${m.to} ${m.type} Term:${m.term} Log:${m.logTerm}/${m.index}`;
  if (m.commit !== 0) s += ` Commit:${m.commit}`;
  if (m.reject) s += m.type === "MsgAppResp" ? ` Rejected (Hint: ${m.rejectHint})` : " Rejected";
  if (m.entries.length > 0) s += ` Entries:[${describeEntries(m.entries)}]`;
  if (m.context.length > 0) s += ` Context:${describeBytes(m.context)}`;
  if (m.snapshot !== undefined) s += ` Snapshot:{${describeSnapshot(m.snapshot)}}`;
  return s;
}

/** A multi-line rendering of a Ready; empty sections are left out. */
export function describeReady(rd: Ready): string {
  const lines: string[] = [];
  if (rd.softState !== undefined) lines.push(describeSoftState(rd.softState));
  if (rd.hardState !== undefined) lines.push(describeHardState(rd.hardState));
  if (rd.readStates.length > 0) {
    lines.push("ReadStates:", ...rd.readStates.map((r) => `  ${describeReadState(r)}`));
  }
  if (rd.entries.length > 0)
    lines.push("Entries:", ...rd.entries.map((e) => `  ${describeEntry(e)}`));
  if (rd.snapshot !== undefined) lines.push(`Snapshot ${describeSnapshot(rd.snapshot)}`);
  if (rd.committedEntries.length > 0) {
    lines.push("CommittedEntries:", ...rd.committedEntries.map((e) => `  ${describeEntry(e)}`));
  }
  if (rd.messages.length > 0) {
    lines.push("Messages:", ...rd.messages.map((m) => `  ${describeMessage(m)}`));
  }
  if (rd.mustSync) lines.push("MustSync");
  return lines.join("\n");
}
