import { assert, describe, expect, it } from "vitest";
import { utf8 } from "../../src/lib/bytes.js";
import type { AuthChange } from "../../src/api/auth.js";
import {
  decodeInternalRequest,
  encodeInternalRequest,
  type InternalRequest,
} from "../../src/server/internal-request.js";

const authChanges: AuthChange[] = [
  { op: "auth-enable" },
  { op: "auth-disable" },
  { op: "user-add", name: "u", passwordHash: "scrypt$x" },
  { op: "user-add", name: "cert-user" },
  { op: "user-delete", name: "u" },
  { op: "user-change-password", name: "u", passwordHash: "h2" },
  { op: "user-grant-role", user: "u", role: "r" },
  { op: "user-revoke-role", name: "u", role: "r" },
  { op: "role-add", name: "r" },
  { op: "role-delete", role: "r" },
  {
    op: "role-grant-permission",
    name: "r",
    perm: { permType: "READWRITE", key: utf8("/a"), range_end: Uint8Array.of(0) },
  },
  { op: "role-grant-permission", name: "r" },
  { op: "role-revoke-permission", role: "r", key: utf8("/a"), range_end: new Uint8Array(0) },
  { op: "authenticate", name: "u", passwordHash: "h" },
  { op: "authenticate", name: "u", passwordHash: "h", tokenPrefix: "abcdef" },
];

const samples: InternalRequest[] = [
  {
    kind: "put",
    id: 2 ** 52 + 7,
    put: { key: utf8("k"), value: utf8("v"), lease: -5n, prev_kv: true },
  },
  { kind: "put", id: 1, put: { key: utf8("k"), ignore_value: true, ignore_lease: false } },
  { kind: "delete-range", id: 3, deleteRange: { key: utf8("a"), range_end: Uint8Array.of(0) } },
  {
    kind: "txn",
    id: 4,
    txn: {
      compare: [
        { key: utf8("a"), result: "EQUAL", target: "VALUE", value: utf8("x") },
        { key: utf8("b"), range_end: utf8("c"), result: "LESS", target: "MOD", mod_revision: 9 },
        { key: utf8("d"), result: "NOT_EQUAL", target: "LEASE", lease: 1n },
        { key: utf8("e"), result: "GREATER", target: "VERSION" },
      ],
      success: [
        {
          request: "request_range",
          request_range: {
            key: utf8("a"),
            revision: -1,
            limit: 3,
            sort_order: "DESCEND",
            sort_target: "MOD",
            keys_only: true,
            max_create_revision: 5,
          },
        },
        {
          request: "request_txn",
          request_txn: {
            failure: [
              {
                request: "request_delete_range",
                request_delete_range: { key: utf8("z"), prev_kv: false },
              },
            ],
          },
        },
      ],
      failure: [],
    },
  },
  { kind: "compaction", id: 5, compaction: { revision: 10, physical: true } },
  { kind: "lease-grant", id: 6, leaseGrant: { TTL: 30, ID: 2n ** 62n } },
  { kind: "lease-revoke", id: 7, leaseRevoke: { ID: 9n } },
  {
    kind: "lease-checkpoint",
    id: 8,
    leaseCheckpoint: { checkpoints: [{ ID: 1n, remaining_TTL: 4 }] },
  },
  {
    kind: "put",
    id: 9,
    put: { key: utf8("k") },
    authHeader: { kind: "user", user: "ålice", revision: 12 },
  },
  { kind: "lease-revoke", id: 10, leaseRevoke: { ID: 1n }, authHeader: { kind: "system" } },
  ...authChanges.map((authChange, i) => ({ kind: "auth" as const, id: 100 + i, authChange })),
];

describe("internal request codec", () => {
  it("round-trips every kind exactly, absent fields staying absent", () => {
    for (const req of samples) {
      const decoded = decodeInternalRequest(encodeInternalRequest(req));
      expect(decoded).toEqual({ ok: true, value: req });
    }
  });

  it("is deterministic and rejects corrupt entries as values", () => {
    const bytes = encodeInternalRequest(samples[3]!);
    expect(encodeInternalRequest(samples[3]!)).toEqual(bytes);
    expect(decodeInternalRequest(bytes.subarray(0, bytes.length - 1)).ok).toBe(false);
    expect(decodeInternalRequest(Uint8Array.of(9, 0)).ok).toBe(false);
    expect(decodeInternalRequest(Uint8Array.of(...bytes, 0)).ok).toBe(false);
  });

  it("writes a request without an auth header as version 1, one with a header as version 2", () => {
    expect(encodeInternalRequest(samples[0]!)[0]).toBe(1);
    const withHeader = samples.find((r) => r.authHeader !== undefined)!;
    expect(encodeInternalRequest(withHeader)[0]).toBe(2);
  });

  it("lends an entry's own bytes to the decoded put, but copies out of a view of a larger buffer", () => {
    const put: InternalRequest = {
      kind: "put",
      id: 7,
      put: { key: utf8("/k"), value: utf8("a value of some length") },
    };
    const entry = encodeInternalRequest(put);
    const shared = decodeInternalRequest(entry);
    assert(shared.ok && shared.value.kind === "put");
    expect(shared.value.put.value?.buffer).toBe(entry.buffer);
    expect(shared.value.put.value).toEqual(put.put.value);

    // The same entry inside a larger buffer (a frame or a segment): the value must not pin it.
    const frame = new Uint8Array(entry.length + 100);
    frame.set(entry, 40);
    const copied = decodeInternalRequest(frame.subarray(40, 40 + entry.length));
    assert(copied.ok && copied.value.kind === "put");
    expect(copied.value.put.value?.buffer).not.toBe(frame.buffer);
    expect(copied.value.put.value?.byteLength).toBe(copied.value.put.value?.buffer.byteLength);
    expect(copied.value.put.value).toEqual(put.put.value);
  });
});
