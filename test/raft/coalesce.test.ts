import { describe, expect, it } from "vitest";
import { coalesceMessages } from "../../src/raft/coalesce.js";
import type { Entry, Message } from "../../src/raft/types.js";

function entry(index: number, term = 2, bytes = 1): Entry {
  return { index, term, type: "EntryNormal", data: new Uint8Array(bytes) };
}

function msg(over: Partial<Message> & Pick<Message, "type" | "to">): Message {
  return {
    from: 1,
    term: 2,
    logTerm: 0,
    index: 0,
    entries: [],
    commit: 0,
    reject: false,
    rejectHint: 0,
    context: new Uint8Array(0),
    ...over,
  };
}

describe("coalesceMessages", () => {
  it("merges appends to one follower that continue each other, keeping the latest commit", () => {
    const out = coalesceMessages([
      msg({ type: "MsgApp", to: 2, index: 5, logTerm: 2, entries: [entry(6)], commit: 4 }),
      msg({ type: "MsgApp", to: 3, index: 5, logTerm: 2, entries: [entry(6)], commit: 4 }),
      msg({
        type: "MsgApp",
        to: 2,
        index: 6,
        logTerm: 2,
        entries: [entry(7), entry(8)],
        commit: 5,
      }),
      msg({ type: "MsgApp", to: 2, index: 8, logTerm: 2, entries: [], commit: 6 }),
    ]);
    expect(out.map((m) => [m.to, m.index, m.entries.map((e) => e.index), m.commit])).toEqual([
      [2, 5, [6, 7, 8], 6],
      [3, 5, [6], 4],
    ]);
  });

  it("keeps appends that do not continue, and never merges across another message to the peer", () => {
    const out = coalesceMessages([
      msg({ type: "MsgApp", to: 2, index: 5, logTerm: 2, entries: [entry(6)] }),
      msg({ type: "MsgApp", to: 2, index: 9, logTerm: 2, entries: [entry(10)] }),
      msg({ type: "MsgHeartbeat", to: 2 }),
      msg({ type: "MsgApp", to: 2, index: 10, logTerm: 2, entries: [entry(11)] }),
      // A different term of the previous entry: a probe after a conflict, not a continuation.
      msg({ type: "MsgApp", to: 2, index: 11, logTerm: 1, entries: [entry(12)] }),
    ]);
    expect(out.map((m) => [m.type, m.index])).toEqual([
      ["MsgApp", 5],
      ["MsgApp", 9],
      ["MsgHeartbeat", 0],
      ["MsgApp", 10],
      ["MsgApp", 11],
    ]);
  });

  it("stops merging appends past 1 MiB of entry data", () => {
    const big = 700 * 1024;
    const out = coalesceMessages([
      msg({ type: "MsgApp", to: 2, index: 1, logTerm: 2, entries: [entry(2, 2, big)] }),
      msg({ type: "MsgApp", to: 2, index: 2, logTerm: 2, entries: [entry(3, 2, big)] }),
    ]);
    expect(out).toHaveLength(2);
  });

  it("joins forwarded proposals and keeps only the last of successive acknowledgements", () => {
    const out = coalesceMessages([
      msg({ type: "MsgProp", to: 1, from: 2, term: 0, entries: [entry(0, 0)] }),
      msg({ type: "MsgProp", to: 1, from: 2, term: 0, entries: [entry(0, 0), entry(0, 0)] }),
      msg({ type: "MsgAppResp", to: 3, from: 2, index: 7 }),
      msg({ type: "MsgAppResp", to: 3, from: 2, index: 9 }),
      msg({ type: "MsgAppResp", to: 3, from: 2, index: 8, reject: true, rejectHint: 8 }),
    ]);
    expect(out.map((m) => [m.type, m.to, m.entries.length, m.index, m.reject])).toEqual([
      ["MsgProp", 1, 3, 0, false],
      ["MsgAppResp", 3, 0, 9, false],
      ["MsgAppResp", 3, 0, 8, true],
    ]);
  });

  it("merges a long run of appends into one without changing the messages it was given", () => {
    const input = Array.from({ length: 50 }, (_, i) =>
      msg({
        type: "MsgApp",
        to: 2,
        index: 10 + i,
        logTerm: 2,
        entries: [entry(11 + i)],
        commit: i,
      }),
    );
    const out = coalesceMessages(input);
    expect(out).toHaveLength(1);
    expect(out[0]?.entries.map((e) => e.index)).toEqual(input.map((m) => m.index + 1));
    expect(out[0]?.commit).toBe(49);
    for (const m of input) expect(m.entries).toHaveLength(1);
  });

  it("stops a run of small appends at the byte cap and starts the next message there", () => {
    const input = Array.from({ length: 5 }, (_, i) =>
      msg({ type: "MsgApp", to: 2, index: i, logTerm: 2, entries: [entry(i + 1, 2, 300 * 1024)] }),
    );
    const out = coalesceMessages(input);
    expect(out.map((m) => [m.index, m.entries.length])).toEqual([
      [0, 3],
      [3, 2],
    ]);
  });
});
