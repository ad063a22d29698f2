// The committed index's selection of events per watch request, kept per range and filters.
import { describe, expect, it } from "vitest";
import { CommittedIndex, type CommittedHistory } from "../../../sim/check/watch/committed.js";
import type { Event } from "../../../src/api/kv.js";
import { bytesToLatin1, latin1ToBytes as b } from "../../../src/lib/bytes.js";

function put(key: string, revision: number): Event {
  return {
    type: "PUT",
    kv: {
      key: b(key),
      value: b(`v${revision}`),
      create_revision: revision,
      mod_revision: revision,
      version: 1,
      lease: 0n,
    },
  };
}

const history: CommittedHistory = {
  revisions: [
    { revision: 2, events: [put("k", 2)] },
    { revision: 3, events: [put("k\0", 3)] },
    { revision: 4, events: [put("kz", 4)] },
  ],
  compactRevision: -1,
};

const keys = (events: readonly Event[]) => events.map((e) => bytesToLatin1(e.kv.key));

describe("CommittedIndex.selected", () => {
  it("tells apart requests whose key and range end run together the same way", () => {
    const index = new CommittedIndex(history);
    // From "k" on, and exactly "k\0": joined with NUL separators both would read "k\0\0\0".
    const fromKey = index.selected({ key: b("k"), range_end: b("\0") });
    const single = index.selected({ key: b("k\0") });
    expect(keys(fromKey)).toEqual(["k", "k\0", "kz"]);
    expect(keys(single)).toEqual(["k\0"]);
  });

  it("answers a repeated request (another start revision) with the same events", () => {
    const index = new CommittedIndex(history);
    const first = index.selected({ key: b("k"), range_end: b("l"), start_revision: 2 });
    const again = index.selected({ key: b("k"), range_end: b("l"), start_revision: 4 });
    expect(again).toBe(first);
    expect(keys(index.selected({ key: b("k"), range_end: b("l"), filters: ["NOPUT"] }))).toEqual(
      [],
    );
  });
});
