import { describe, expect, it } from "vitest";
import { checkPutRequest, checkRangeRequest, checkTxnRequest } from "../../src/api/validate.js";
import type { RequestOp, TxnRequest } from "../../src/api/rpc.js";
import { utf8 } from "../../src/lib/bytes.js";

const put = (k: string): RequestOp => ({ request: "request_put", request_put: { key: utf8(k) } });
const del = (k: string, end?: Uint8Array): RequestOp => ({
  request: "request_delete_range",
  request_delete_range: end === undefined ? { key: utf8(k) } : { key: utf8(k), range_end: end },
});
const get = (k: string): RequestOp => ({
  request: "request_range",
  request_range: { key: utf8(k) },
});
const nested = (t: TxnRequest): RequestOp => ({ request: "request_txn", request_txn: t });
const outcome = (t: TxnRequest, max?: number): string => {
  const r = checkTxnRequest(t, max);
  return r.ok ? "ok" : r.error.name;
};

describe("txn checks", () => {
  it("rejects a key written twice in one branch, in any nesting", () => {
    expect(outcome({ success: [put("a"), put("a")] })).toBe("DuplicateKey");
    expect(outcome({ success: [put("a"), del("a")] })).toBe("DuplicateKey");
    expect(outcome({ success: [del("a", utf8("c")), put("b")] })).toBe("DuplicateKey");
    expect(outcome({ success: [put("b"), nested({ success: [put("b")] })] })).toBe("DuplicateKey");
    expect(outcome({ success: [put("b"), nested({ failure: [del("a", utf8("z"))] })] })).toBe(
      "DuplicateKey",
    );
    expect(outcome({ success: [del("a", utf8("z")), nested({ success: [put("b")] })] })).toBe(
      "DuplicateKey",
    );
    expect(outcome({ failure: [del("a", Uint8Array.of(0)), put("zzz")] })).toBe("DuplicateKey");
  });

  it("accepts overlapping deletes, the same put in both branches, and reads", () => {
    expect(outcome({ success: [del("a", utf8("c")), del("b")] })).toBe("ok");
    expect(outcome({ success: [put("a")], failure: [put("a")] })).toBe("ok");
    expect(outcome({ success: [nested({ success: [put("a")], failure: [put("a")] })] })).toBe("ok");
    expect(outcome({ success: [put("a"), get("a"), get("a")] })).toBe("ok");
    expect(outcome({ success: [del("a"), put("b")] })).toBe("ok");
  });

  it("limits ops per level, nested txns sharing what their parent leaves", () => {
    expect(outcome({ success: [put("a"), put("b"), put("c")] }, 3)).toBe("ok");
    expect(outcome({ success: [put("a"), put("b"), put("c"), put("d")] }, 3)).toBe("TooManyOps");
    expect(outcome({ success: [put("a"), nested({ success: [put("b"), put("c")] })] }, 3)).toBe(
      "TooManyOps",
    );
    expect(outcome({ success: [put("a"), nested({ success: [put("b")] })] }, 3)).toBe("ok");
    const compares = Array.from({ length: 129 }, () => ({
      key: utf8("k"),
      result: "EQUAL" as const,
      target: "VERSION" as const,
    }));
    expect(outcome({ compare: compares })).toBe("TooManyOps");
  });

  it("checks keys and arguments of every op", () => {
    expect(outcome({ compare: [{ key: new Uint8Array(0), result: "EQUAL", target: "MOD" }] })).toBe(
      "EmptyKey",
    );
    expect(outcome({ failure: [get("")] })).toBe("EmptyKey");
    expect(outcome({ success: [nested({ success: [del("")] })] })).toBe("EmptyKey");
  });
});

describe("op checks", () => {
  it("check put and range arguments", () => {
    const name = (r: { ok: boolean; error?: { name: string } }): string =>
      r.ok ? "ok" : (r.error?.name ?? "");
    expect(name(checkPutRequest({ key: utf8("k"), ignore_value: true, value: utf8("v") }))).toBe(
      "ValueProvided",
    );
    expect(name(checkPutRequest({ key: utf8("k"), ignore_lease: true, lease: 3n }))).toBe(
      "LeaseProvided",
    );
    expect(name(checkPutRequest({ key: utf8("k"), ignore_value: true, ignore_lease: true }))).toBe(
      "ok",
    );
    const badSort = { key: utf8("k"), sort_order: "SIDEWAYS" } as unknown as Parameters<
      typeof checkRangeRequest
    >[0];
    expect(name(checkRangeRequest(badSort))).toBe("InvalidSortOption");
  });
});
