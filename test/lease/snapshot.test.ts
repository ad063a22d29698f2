import { describe, expect, it } from "vitest";
import { decodeLessorState, encodeLessorState } from "../../src/lease/index.js";
import { b, FakeClock, newLessor, putEvent, showAttachments, unwrap } from "./helpers.js";

function populated(): ReturnType<typeof newLessor> {
  const lessor = newLessor();
  unwrap(lessor.applyGrant(-(2n ** 63n), 3));
  unwrap(lessor.applyGrant(2n ** 63n - 1n, 9_000_000_000));
  unwrap(lessor.applyGrant(42n, 100));
  lessor.applyCheckpoint({ checkpoints: [{ ID: 42n, remaining_TTL: 17 }] });
  lessor.applyKvEvents([putEvent("a", 42n), putEvent("b\xff", 42n), putEvent("c", -(2n ** 63n))]);
  return lessor;
}

describe("lessor snapshot", () => {
  it("round-trips the replicated state through bytes; attachments come back from the kv store", () => {
    const before = populated();
    const bytes = encodeLessorState(before.exportState());
    const decoded = decodeLessorState(bytes);
    expect(decoded.ok).toBe(true);
    const after = newLessor(new FakeClock());
    after.restore(decoded.ok ? decoded.value : { leases: [] }, before.attachments());
    expect(after.exportState()).toEqual(before.exportState());
    expect(showAttachments(after.attachments())).toEqual(showAttachments(before.attachments()));
    expect(encodeLessorState(after.exportState())).toEqual(bytes);
    after.checkInvariants();
  });

  it("encodes an empty lessor", () => {
    const bytes = encodeLessorState(newLessor().exportState());
    expect(bytes.length).toBe(8);
    expect(decodeLessorState(bytes)).toEqual({ ok: true, value: { leases: [] } });
  });

  it("reports malformed input as an error value", () => {
    const good = encodeLessorState(populated().exportState());
    const problem = (bytes: Uint8Array): string => {
      const r = decodeLessorState(bytes);
      return r.ok ? "ok" : r.error;
    };
    expect(problem(b("nope"))).toMatch(/not a detcd lease snapshot/);
    expect(problem(good.slice(0, good.length - 1))).toMatch(/bytes for 3 leases/);
    const swapped = good.slice();
    swapped.set(good.slice(8, 32), 32); // lease #1 := lease #0: ids not ascending
    expect(problem(swapped)).toMatch(/not ascending/);
    const badTtl = good.slice();
    new DataView(badTtl.buffer).setBigUint64(8 + 8, 0n);
    expect(problem(badTtl)).toMatch(/ttl 0/);
    const badRemaining = good.slice();
    new DataView(badRemaining.buffer).setBigUint64(8 + 16, 4n); // ttl is 3
    expect(problem(badRemaining)).toMatch(/remaining 4 > ttl/);
  });

  it("restore rejects a key naming a lease the snapshot lacks", () => {
    const lessor = newLessor();
    expect(() => lessor.restore({ leases: [] }, [{ key: b("k"), lease: 5n }])).toThrow(
      /does not exist/,
    );
  });
});
