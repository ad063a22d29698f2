// The lessor wired to the real kv store as a member wires them: the store checks lease existence
// with the lessor, the lessor follows commits, and a revoke deletes the keys in one write txn.
import { describe, expect, it } from "vitest";
import { KvStore, type CommittedTxn } from "../../src/mvcc/kv-store.js";
import { emptyBytes, fromUtf8 } from "../../src/lib/bytes.js";
import type { Lessor } from "../../src/lease/index.js";
import {
  b,
  errorMessage,
  FakeClock,
  newLessor,
  showAttachments,
  texts,
  unwrap,
} from "./helpers.js";

function wired(): { kv: KvStore; lessor: Lessor; commits: CommittedTxn[] } {
  const lessor = newLessor(new FakeClock());
  const kv = new KvStore({ leaseExists: (id) => lessor.has(id) });
  kv.onCommit((txn) => lessor.applyKvEvents(txn.events));
  const commits: CommittedTxn[] = [];
  kv.onCommit((txn) => commits.push(txn));
  return { kv, lessor, commits };
}

/** What a member does when a LeaseRevoke entry is applied. */
function applyRevoke(kv: KvStore, lessor: Lessor, id: bigint): void {
  const { keys } = unwrap(lessor.applyRevoke(id));
  kv.write((txn) => {
    for (const key of keys) txn.deleteRange(key, emptyBytes);
  });
}

describe("lessor with the kv store", () => {
  it("revoke deletes every attached key at one revision, and watchers see the deletes", () => {
    const { kv, lessor, commits } = wired();
    unwrap(lessor.applyGrant(1n, 10));
    unwrap(lessor.applyGrant(2n, 10));
    for (const [key, lease] of [
      ["a", 1n],
      ["b", 2n],
      ["c", 1n],
      ["d", 0n],
    ] as const) {
      unwrap(kv.put({ key: b(key), value: b("v"), lease }));
    }
    unwrap(kv.put({ key: b("b"), value: b("w"), lease: 1n })); // b moves to lease 1
    expect(texts(lessor.keysOf(1n))).toEqual(["a", "b", "c"]);
    const revisionBefore = kv.currentRevision;
    commits.length = 0;

    applyRevoke(kv, lessor, 1n);

    expect(kv.currentRevision).toBe(revisionBefore + 1);
    expect(commits).toHaveLength(1);
    const events = commits[0]?.events ?? [];
    expect(events.map((e) => [e.type, fromUtf8(e.kv.key), e.kv.mod_revision])).toEqual([
      ["DELETE", "a", revisionBefore + 1],
      ["DELETE", "b", revisionBefore + 1],
      ["DELETE", "c", revisionBefore + 1],
    ]);
    expect(
      unwrap(kv.range({ key: b("a"), range_end: b("z") })).kvs.map((x) => fromUtf8(x.key)),
    ).toEqual(["d"]);
    expect(lessor.attachments()).toEqual([]);
    expect(errorMessage(kv.put({ key: b("e"), value: b("v"), lease: 1n }))).toBe(
      "etcdserver: requested lease not found",
    );
    lessor.checkInvariants();
  });

  it("the lessor's attachments always equal the kv store's live leased keys", () => {
    const { kv, lessor } = wired();
    unwrap(lessor.applyGrant(1n, 10));
    unwrap(lessor.applyGrant(2n, 10));
    unwrap(kv.put({ key: b("x"), value: b("1"), lease: 1n }));
    unwrap(kv.put({ key: b("y"), value: b("1"), lease: 2n }));
    unwrap(kv.put({ key: b("x"), value: b("2"), ignore_lease: true }));
    unwrap(kv.deleteRange({ key: b("y") }));
    unwrap(kv.put({ key: b("z"), value: b("1"), lease: 2n }));
    unwrap(
      kv.txn({
        success: [
          { request: "request_put", request_put: { key: b("z"), value: b("2") } },
          { request: "request_put", request_put: { key: b("w"), value: b("2"), lease: 1n } },
        ],
      }),
    );
    const live = unwrap(kv.range({ key: b("\0"), range_end: b("\0") })).kvs.filter(
      (x) => x.lease !== 0n,
    );
    expect(showAttachments(lessor.attachments())).toEqual(showAttachments(live));
    expect(showAttachments(lessor.attachments())).toEqual([
      ["w", 1n],
      ["x", 1n],
    ]);
  });
});
