import { describe, expect, it } from "vitest";
import protobuf from "protobufjs";
import {
  BIGINT_FIELDS,
  CodecError,
  codecFor,
  messageCodec,
  messageNames,
} from "../../../src/real/grpc/codec.js";
import { DESCRIPTOR } from "../../../src/real/grpc/descriptor.generated.js";
import { utf8 } from "../../../src/lib/bytes.js";
import type { TxnRequest, TxnResponse } from "../../../src/api/rpc.js";

const root = protobuf.Root.fromJSON(DESCRIPTOR as protobuf.INamespace);
root.resolveAll();

/** protobufjs's own view of our bytes: int64 as decimal strings, enums as names. */
function reference(name: string, bytes: Uint8Array): Record<string, unknown> {
  const type = root.lookupType(name);
  return type.toObject(type.decode(bytes), {
    longs: String,
    enums: String,
    bytes: Array,
  }) as Record<string, unknown>;
}

function referenceEncode(name: string, object: Record<string, unknown>): Uint8Array {
  const type = root.lookupType(name);
  return type.encode(type.fromObject(object)).finish();
}

const header = { cluster_id: 0xfedcba9876543210n, member_id: 7n, revision: 42, raft_term: 3 };

describe("codec round trips", () => {
  it("keeps a lease id above 2^53 exact, in both directions", () => {
    const codec = codecFor("etcdserverpb.PutRequest");
    const lease = 2n ** 62n + 12345n;
    const bytes = codec.encode({ key: utf8("k"), value: utf8("v"), lease });
    expect(reference("etcdserverpb.PutRequest", bytes).lease).toBe("4611686018427400249");
    const back = codec.decode(bytes);
    expect(back.lease).toBe(lease);
    expect(back.key).toEqual(utf8("k"));
    expect(back.prev_kv).toBe(false);
    const negative = codec.decode(referenceEncode("etcdserverpb.PutRequest", { lease: "-5" }));
    expect(negative.lease).toBe(-5n);
  });

  it("encodes uint64 ids over the full 64 bits", () => {
    const codec = codecFor("etcdserverpb.ResponseHeader");
    const bytes = codec.encode({ ...header, member_id: 2n ** 64n - 1n });
    expect(reference("etcdserverpb.ResponseHeader", bytes)).toEqual({
      cluster_id: "18364758544493064720",
      member_id: "18446744073709551615",
      revision: "42",
      raft_term: "3",
    });
    expect(codec.decode(bytes).member_id).toBe(2n ** 64n - 1n);
  });

  it("refuses an int64 beyond 2^53 in a number field instead of rounding", () => {
    const bytes = referenceEncode("etcdserverpb.RangeRequest", {
      key: [1],
      revision: "9007199254740993",
    });
    expect(() => codecFor("etcdserverpb.RangeRequest").decode(bytes)).toThrow(CodecError);
    const safe = referenceEncode("etcdserverpb.RangeRequest", {
      key: [1],
      revision: "9007199254740991",
    });
    expect(codecFor("etcdserverpb.RangeRequest").decode(safe).revision).toBe(2 ** 53 - 1);
    expect(() =>
      codecFor("etcdserverpb.RangeRequest").encode({ key: utf8("a"), revision: 2 ** 53 }),
    ).toThrow(CodecError);
    expect(() => codecFor("etcdserverpb.LeaseGrantRequest").encode({ TTL: 1.5 })).toThrow(
      CodecError,
    );
  });

  it("decodes negative numbers and fills proto3 defaults", () => {
    const codec = codecFor("etcdserverpb.LeaseTimeToLiveResponse");
    const bytes = codec.encode({ header, ID: 9n, TTL: -1, grantedTTL: 0, keys: [] });
    expect(reference("etcdserverpb.LeaseTimeToLiveResponse", bytes).TTL).toBe("-1");
    expect(codec.decode(bytes)).toEqual({ header, ID: 9n, TTL: -1, grantedTTL: 0, keys: [] });
    const empty = codecFor("etcdserverpb.RangeRequest").decode(new Uint8Array(0));
    expect(empty).toEqual({
      key: new Uint8Array(0),
      range_end: new Uint8Array(0),
      limit: 0,
      revision: 0,
      sort_order: "NONE",
      sort_target: "KEY",
      serializable: false,
      keys_only: false,
      count_only: false,
      min_mod_revision: 0,
      max_mod_revision: 0,
      min_create_revision: 0,
      max_create_revision: 0,
    });
    // Defaults are not written: an all-default message is empty on the wire.
    expect(codecFor("etcdserverpb.RangeRequest").encode(empty)).toEqual(new Uint8Array(0));
  });

  it("round-trips a nested txn with every oneof member and compare target", () => {
    const req: TxnRequest = {
      compare: [
        { result: "EQUAL", target: "MOD", key: utf8("a"), mod_revision: 0 },
        { result: "GREATER", target: "VERSION", key: utf8("b"), version: 2, range_end: utf8("c") },
        { result: "NOT_EQUAL", target: "VALUE", key: utf8("d"), value: utf8("x") },
        { result: "LESS", target: "LEASE", key: utf8("e"), lease: 2n ** 60n },
        { result: "EQUAL", target: "CREATE", key: utf8("f"), create_revision: 5 },
      ],
      success: [
        { request: "request_put", request_put: { key: utf8("a"), value: utf8("1"), lease: 3n } },
        {
          request: "request_range",
          request_range: { key: utf8("a"), range_end: utf8("b"), limit: 1 },
        },
        {
          request: "request_delete_range",
          request_delete_range: { key: utf8("z"), prev_kv: true },
        },
        {
          request: "request_txn",
          request_txn: {
            success: [{ request: "request_range", request_range: { key: utf8("q") } }],
          },
        },
      ],
      failure: [],
    };
    const codec = codecFor("etcdserverpb.TxnRequest");
    const bytes = codec.encode(req);
    const ref = reference("etcdserverpb.TxnRequest", bytes);
    // A zero in a oneof is present on the wire (proto3 presence), so mod_revision=0 survives.
    // result EQUAL is the enum's default, so it is left off the wire.
    expect((ref.compare as Record<string, unknown>[])[0]).toEqual({
      target: "MOD",
      key: [97],
      mod_revision: "0",
    });
    expect((ref.compare as Record<string, unknown>[])[1]?.range_end).toEqual([99]);
    const back = codec.decode(bytes);
    expect(back.compare?.[0]).toEqual({
      result: "EQUAL",
      target: "MOD",
      key: utf8("a"),
      range_end: new Uint8Array(0),
      mod_revision: 0,
    });
    expect(back.compare?.[3]).toMatchObject({ target: "LEASE", lease: 2n ** 60n });
    expect(back.compare?.[3]).not.toHaveProperty("target_union");
    expect(back.success?.map((op) => op.request)).toEqual([
      "request_put",
      "request_range",
      "request_delete_range",
      "request_txn",
    ]);
    const nested = back.success?.[3];
    expect(nested?.request === "request_txn" && nested.request_txn.success?.[0]).toMatchObject({
      request: "request_range",
      request_range: { key: utf8("q") },
    });
    expect(back.success?.[0]).toMatchObject({ request_put: { lease: 3n, value: utf8("1") } });
    expect(back.success?.[0]).not.toHaveProperty("request_range");
  });

  it("round-trips a txn response through protobufjs and back", () => {
    const kv = {
      key: utf8("a"),
      create_revision: 2,
      mod_revision: 5,
      version: 3,
      value: utf8("v"),
      lease: 0n,
    };
    const resp: TxnResponse = {
      header,
      succeeded: true,
      responses: [
        {
          response: "response_range",
          response_range: { header, kvs: [kv], more: false, count: 1 },
        },
        { response: "response_put", response_put: { header, prev_kv: kv } },
        {
          response: "response_delete_range",
          response_delete_range: { header, deleted: 0, prev_kvs: [] },
        },
      ],
    };
    const codec = codecFor("etcdserverpb.TxnResponse");
    const viaReference = referenceEncode(
      "etcdserverpb.TxnResponse",
      reference("etcdserverpb.TxnResponse", codec.encode(resp)),
    );
    expect(codec.decode(viaReference)).toEqual(resp);
  });

  it("reads both packed and unpacked repeated enums and writes them packed", () => {
    const codec = codecFor("etcdserverpb.WatchRequest");
    const bytes = codec.encode({
      request_union: "create_request",
      create_request: { key: utf8("a"), filters: ["NOPUT", "NODELETE"], watch_id: -1 },
    });
    // field 1 (create_request), then key, then filters packed as one length-delimited field 5.
    expect([...bytes.subarray(2, 5)]).toEqual([0x0a, 1, 0x61]);
    expect([...bytes.subarray(5, 9)]).toEqual([0x2a, 2, 0, 1]);
    const unpacked = new Uint8Array([0x0a, 7, 0x0a, 1, 0x61, 0x28, 1, 0x28, 0]);
    expect(codec.decode(unpacked)).toEqual({
      request_union: "create_request",
      create_request: expect.objectContaining({ filters: ["NODELETE", "NOPUT"] }),
    });
    expect(codec.decode(bytes)).toMatchObject({ create_request: { watch_id: -1 } });
  });

  it("keeps unknown enum numbers as their decimal string", () => {
    const bytes = new Uint8Array([0x0a, 1, 0x61, 0x28, 9]);
    const req = codecFor("etcdserverpb.RangeRequest").decode(bytes);
    expect(req.sort_order).toBe("9");
    expect(codecFor("etcdserverpb.RangeRequest").encode(req)).toEqual(bytes);
  });

  it("places WatchResponse.events at field 11 and Compare.range_end at field 64", () => {
    const events = codecFor("etcdserverpb.WatchResponse").encode({
      header,
      watch_id: 0,
      created: false,
      canceled: false,
      compact_revision: 0,
      cancel_reason: "",
      fragment: false,
      events: [
        {
          type: "DELETE",
          kv: {
            key: utf8("k"),
            create_revision: 0,
            mod_revision: 9,
            version: 0,
            value: new Uint8Array(0),
            lease: 0n,
          },
        },
      ],
    });
    const headerLength = (events[1] as number) + 2;
    expect(events[headerLength]).toBe((11 << 3) | 2);
    const compare = codecFor("etcdserverpb.Compare").encode({
      result: "EQUAL",
      target: "VERSION",
      key: utf8("a"),
      range_end: utf8("b"),
    });
    expect([...compare]).toEqual([0x1a, 1, 0x61, 0x82, 0x04, 1, 0x62]);
  });

  it("rejects truncated input and values of the wrong type", () => {
    expect(() => codecFor("etcdserverpb.PutRequest").decode(new Uint8Array([0x0a, 5, 1]))).toThrow(
      CodecError,
    );
    expect(() =>
      codecFor("etcdserverpb.PutRequest").encode({ key: "a" as unknown as Uint8Array }),
    ).toThrow("etcdserverpb.PutRequest.key");
    expect(() =>
      codecFor("etcdserverpb.PutRequest").encode({ key: utf8("a"), lease: 5 as unknown as bigint }),
    ).toThrow(CodecError);
  });

  it("writes strings longer than 127 UTF-8 bytes with a widened length", () => {
    const name = "é".repeat(100);
    const codec = messageCodec("etcdserverpb.AuthenticateRequest");
    const bytes = codec.encode({ name, password: "p" });
    expect(reference("etcdserverpb.AuthenticateRequest", bytes)).toEqual({ name, password: "p" });
    expect(codec.decode(bytes)).toEqual({ name, password: "p" });
  });

  it("maps exactly the id fields to bigint", () => {
    const bigintFields: string[] = [];
    for (const name of messageNames()) {
      const type = root.lookupType(name);
      for (const field of type.fieldsArray) {
        if ((field.type === "int64" || field.type === "uint64") && BIGINT_FIELDS.has(field.name)) {
          bigintFields.push(`${name.split(".")[1]}.${field.name}`);
        }
      }
    }
    expect(bigintFields.sort()).toEqual(
      [
        "AlarmMember.memberID",
        "AlarmRequest.memberID",
        "Compare.lease",
        "KeyValue.lease",
        "LeaseCheckpoint.ID",
        "LeaseGrantRequest.ID",
        "LeaseGrantResponse.ID",
        "LeaseKeepAliveRequest.ID",
        "LeaseKeepAliveResponse.ID",
        "LeaseRevokeRequest.ID",
        "LeaseStatus.ID",
        "LeaseTimeToLiveRequest.ID",
        "LeaseTimeToLiveResponse.ID",
        "Member.ID",
        "MemberPromoteRequest.ID",
        "MemberRemoveRequest.ID",
        "MemberUpdateRequest.ID",
        "MoveLeaderRequest.targetID",
        "PutRequest.lease",
        "ResponseHeader.cluster_id",
        "ResponseHeader.member_id",
        "StatusResponse.leader",
      ].sort(),
    );
  });
});
