// Every injected corruption of WAL or snapshot bytes is detected: a large random sample of single
// bit flips at rest, each recovered from scratch. A fully synced WAL has no torn tail, so every
// flip must surface as corruption; a flipped snapshot file is never loaded.
import { describe, expect, it } from "vitest";
import type { LoadedSnapshot } from "../../src/storage/snapshot-store.js";
import { entries, entry, must, okValue, openSnapshots, openWal, rig } from "./helpers.js";

const SAMPLES = 400;

describe("corruption detection", () => {
  it(`detects ${SAMPLES} of ${SAMPLES} random bit flips in WAL segments`, () => {
    let detected = 0;
    for (let sample = 1; sample <= SAMPLES; sample++) {
      const r = rig(sample);
      const { wal } = okValue(openWal(r, 700));
      for (let i = 1; i <= 40; i += 4) {
        const hardState = { term: 1, vote: 1, commit: i };
        must<void>(r, (done) =>
          wal.save({ entries: entries(i, i + 3, 1), hardState, mustSync: true }, done),
        );
      }
      r.disk.crash("lose-all");
      expect(r.disk.flipRandomBitAtRest("wal")).toBeDefined();
      const reopened = openWal(r, 700);
      if (!reopened.ok && reopened.error.kind === "corrupt") detected++;
    }
    expect(detected).toBe(SAMPLES);
  });

  it(`detects ${SAMPLES} of ${SAMPLES} random bit flips in snapshot files`, () => {
    let detected = 0;
    for (let sample = 1; sample <= SAMPLES; sample++) {
      const r = rig(sample);
      const store = openSnapshots(r);
      const data = entry(1, 1, sample).data;
      const confState = {
        voters: [1, 2, 3],
        learners: [],
        votersOutgoing: [],
        learnersNext: [],
        autoLeave: false,
      };
      must<void>(r, (done) =>
        store.save({ data, metadata: { index: 10, term: 2, confState } }, done),
      );
      r.disk.flipRandomBitAtRest("snap");
      const loaded = must<LoadedSnapshot>(r, (done) => store.loadNewestValid(() => true, done));
      if (loaded.snapshot === undefined && loaded.corrupt.length === 1) detected++;
    }
    expect(detected).toBe(SAMPLES);
  });
});
