// The peer codec: every member message round-trips field for field; any corruption of the bytes is
// an error value, never an exception.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ETCD_ERROR_NAMES, Errors } from "../../../src/api/errors.js";
import type { ConfState, Entry, EntryType, Message, MessageType } from "../../../src/raft/types.js";
import type { MemberMessage } from "../../../src/server/messages.js";
import {
  decodeHello,
  decodeMemberMessage,
  encodeHello,
  encodeMemberMessage,
} from "../../../src/real/peer/codec.js";

const MESSAGE_TYPES: readonly MessageType[] = [
  "MsgHup",
  "MsgBeat",
  "MsgProp",
  "MsgApp",
  "MsgAppResp",
  "MsgVote",
  "MsgVoteResp",
  "MsgPreVote",
  "MsgPreVoteResp",
  "MsgSnap",
  "MsgHeartbeat",
  "MsgHeartbeatResp",
  "MsgUnreachable",
  "MsgSnapStatus",
  "MsgCheckQuorum",
  "MsgTransferLeader",
  "MsgTimeoutNow",
  "MsgReadIndex",
  "MsgReadIndexResp",
];
const ENTRY_TYPES: readonly EntryType[] = ["EntryNormal", "EntryConfChange", "EntryConfChangeV2"];

// Plain objects only: decoded objects have Object.prototype, and toStrictEqual compares prototypes.
function rec<T>(model: { [K in keyof T]: fc.Arbitrary<T[K]> }): fc.Arbitrary<T> {
  return fc.record(model, { noNullPrototype: true });
}

const u53 = fc.maxSafeNat();
const ids = fc.array(u53, { maxLength: 5 });
const bytes = fc.uint8Array({ maxLength: 64 });
const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
const i64 = fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n });

const entry: fc.Arbitrary<Entry> = rec({
  term: u53,
  index: u53,
  type: fc.constantFrom(...ENTRY_TYPES),
  data: bytes,
});

const confState: fc.Arbitrary<ConfState> = rec({
  voters: ids,
  learners: ids,
  votersOutgoing: ids,
  learnersNext: ids,
  autoLeave: fc.boolean(),
});

const baseMessage = rec({
  type: fc.constantFrom(...MESSAGE_TYPES),
  from: u53,
  to: u53,
  term: u53,
  logTerm: u53,
  index: u53,
  entries: fc.array(entry, { maxLength: 6 }),
  commit: u53,
  reject: fc.boolean(),
  rejectHint: u53,
  context: bytes,
});

const snapshot = rec({
  data: fc.uint8Array({ maxLength: 512 }),
  metadata: rec({ confState, index: u53, term: u53 }),
});

const message: fc.Arbitrary<Message> = fc.oneof(
  baseMessage,
  fc.tuple(baseMessage, snapshot).map(([m, s]) => ({ ...m, snapshot: s })),
);

const header = rec({ cluster_id: u64, member_id: u64, revision: u53, raft_term: u53 });
const member = rec({
  ID: u64,
  name: fc.string(),
  peerURLs: fc.array(fc.webUrl(), { maxLength: 3 }),
  clientURLs: fc.array(fc.webUrl(), { maxLength: 3 }),
  isLearner: fc.boolean(),
});

const forwardedRequest = fc.oneof(
  rec({ kind: fc.constant("lease-keepalive" as const), request: rec({ ID: i64 }) }),
  rec({
    kind: fc.constant("lease-timetolive" as const),
    request: fc.record(
      { ID: i64, keys: fc.boolean() },
      { requiredKeys: ["ID"], noNullPrototype: true },
    ),
  }),
  rec({ kind: fc.constant("member-promote" as const), request: rec({ ID: u64 }) }),
);

const forwardedResponse = fc.oneof(
  rec({
    kind: fc.constant("lease-keepalive" as const),
    response: rec({ header, ID: i64, TTL: fc.integer() }),
  }),
  rec({
    kind: fc.constant("lease-timetolive" as const),
    response: rec({
      header,
      ID: i64,
      TTL: fc.integer(),
      grantedTTL: fc.integer(),
      keys: fc.array(bytes, { maxLength: 4 }),
    }),
  }),
  rec({
    kind: fc.constant("member-promote" as const),
    response: rec({ header, members: fc.array(member, { maxLength: 3 }) }),
  }),
);

const memberMessage: fc.Arbitrary<MemberMessage> = fc.oneof(
  message.map((m) => ({ type: "raft" as const, message: m })),
  rec({
    type: fc.constant("forward-request" as const),
    forwardId: u53,
    request: forwardedRequest,
  }),
  rec({
    type: fc.constant("forward-response" as const),
    forwardId: u53,
    result: fc.oneof(
      forwardedResponse.map((value) => ({ ok: true as const, value })),
      fc.constantFrom(...ETCD_ERROR_NAMES).map((n) => ({ ok: false as const, error: Errors[n] })),
    ),
  }),
);

function roundTrip(m: MemberMessage): MemberMessage {
  const decoded = decodeMemberMessage(encodeMemberMessage(m));
  if (!decoded.ok) throw new Error(decoded.error.message);
  return decoded.value;
}

describe("peer codec", () => {
  it("round-trips random member messages exactly", () => {
    fc.assert(
      fc.property(memberMessage, (m) => {
        expect(roundTrip(m)).toStrictEqual(m);
      }),
      { numRuns: 500 },
    );
  });

  it("copies byte strings out of the input and leaves headroom untouched", () => {
    const data = new Uint8Array([1, 2, 3]);
    const m: MemberMessage = {
      type: "raft",
      message: {
        type: "MsgApp",
        from: 1,
        to: 2,
        term: 7,
        logTerm: 6,
        index: 41,
        entries: [{ term: 7, index: 42, type: "EntryNormal", data }],
        commit: 40,
        reject: false,
        rejectHint: 0,
        context: new Uint8Array(0),
      },
    };
    const encoded = encodeMemberMessage(m, 5);
    expect([...encoded.subarray(0, 5)]).toEqual([0, 0, 0, 0, 0]);
    const decoded = decodeMemberMessage(encoded.subarray(5));
    if (!decoded.ok || decoded.value.type !== "raft") throw new Error("decode failed");
    encoded.fill(0xff);
    expect(decoded.value.message.entries[0]?.data).toEqual(new Uint8Array([1, 2, 3]));
    expect(decoded.value.message.index).toBe(41);
  });

  it("decodes a known etcd error to the catalogue's own value", () => {
    const m: MemberMessage = {
      type: "forward-response",
      forwardId: 9,
      result: { ok: false, error: Errors.LeaseNotFound },
    };
    const back = roundTrip(m);
    expect(back.type === "forward-response" && !back.result.ok && back.result.error).toBe(
      Errors.LeaseNotFound,
    );
  });

  it("keeps terms and indexes up to 2^53 - 1", () => {
    const max = Number.MAX_SAFE_INTEGER;
    const back = roundTrip({
      type: "raft",
      message: {
        type: "MsgHeartbeat",
        from: max,
        to: 1,
        term: max,
        logTerm: 0,
        index: 0,
        entries: [],
        commit: max - 1,
        reject: true,
        rejectHint: max,
        context: new Uint8Array([9]),
      },
    });
    expect(back.type === "raft" && [back.message.term, back.message.commit]).toEqual([
      max,
      max - 1,
    ]);
  });

  it("returns an error for every truncation and for trailing bytes", () => {
    fc.assert(
      fc.property(memberMessage, fc.nat(), (m, cut) => {
        const encoded = encodeMemberMessage(m);
        const at = cut % encoded.length;
        const truncated = decodeMemberMessage(encoded.subarray(0, at));
        expect(truncated.ok).toBe(false);
        const longer = new Uint8Array(encoded.length + 1);
        longer.set(encoded);
        const trailing = decodeMemberMessage(longer);
        expect(!trailing.ok && trailing.error.message).toMatch(/trailing bytes/);
      }),
      { numRuns: 300 },
    );
  });

  it("never throws on random bytes or bit flips", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (garbage) => {
        const r = decodeMemberMessage(garbage);
        if (!r.ok) expect(r.error.type).toBe("peer-codec-error");
      }),
      { numRuns: 1000 },
    );
    fc.assert(
      fc.property(memberMessage, fc.nat(), fc.integer({ min: 0, max: 7 }), (m, at, bit) => {
        const encoded = encodeMemberMessage(m);
        const i = at % encoded.length;
        encoded[i] = (encoded[i] as number) ^ (1 << bit);
        const r = decodeMemberMessage(encoded);
        if (!r.ok) expect(r.error.message).toMatch(/^malformed member message: /);
      }),
      { numRuns: 1000 },
    );
  });

  it("names the problem in the error", () => {
    const r = decodeMemberMessage(new Uint8Array([1, 1, 99]));
    expect(!r.ok && r.error.message).toBe("malformed member message: unknown message type 99");
    const v = decodeMemberMessage(new Uint8Array([7]));
    expect(!v.ok && v.error.message).toBe("malformed member message: unknown codec version 7");
  });

  it("round-trips the hello and refuses a foreign one", () => {
    const hello = { clusterId: (1n << 64n) - 1n, fromId: 3, toId: 2 ** 40 };
    expect(decodeHello(encodeHello(hello))).toEqual({ ok: true, value: hello });
    const bad = decodeHello(new TextEncoder().encode("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
    expect(!bad.ok && bad.error.message).toBe("bad hello: not a detcd peer hello");
  });
});
