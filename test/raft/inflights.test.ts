import { describe, expect, it } from "vitest";
import { Inflights } from "../../src/raft/inflights.js";

describe("Inflights", () => {
  it("fills up to its capacity", () => {
    const f = new Inflights(3);
    f.add(1);
    f.add(2);
    expect(f.full()).toBe(false);
    f.add(5);
    expect(f.full()).toBe(true);
    expect(() => f.add(6)).toThrow(/full/);
  });

  it("freeLE releases every message up to an index, across the ring's wrap", () => {
    const f = new Inflights(4);
    for (const i of [1, 2, 3, 4]) f.add(i);
    f.freeLE(2);
    expect(f.count()).toBe(2);
    f.add(5);
    f.add(6); // wraps around the ring
    expect(f.full()).toBe(true);
    f.freeLE(5);
    expect(f.count()).toBe(1);
    f.freeLE(0); // an old acknowledgement frees nothing
    expect(f.count()).toBe(1);
    f.freeLE(100);
    expect(f.count()).toBe(0);
  });

  it("freeFirstOne releases the oldest message only", () => {
    const f = new Inflights(2);
    f.add(10);
    f.add(20);
    f.freeFirstOne();
    expect(f.count()).toBe(1);
    expect(f.full()).toBe(false);
    f.add(30);
    expect(f.full()).toBe(true);
  });

  it("rejects indexes that do not increase", () => {
    const f = new Inflights(4);
    f.add(5);
    expect(() => f.add(5)).toThrow(/index/);
  });

  it("reset empties it", () => {
    const f = new Inflights(2);
    f.add(1);
    f.add(2);
    f.reset();
    expect(f.count()).toBe(0);
    f.add(1);
  });
});
