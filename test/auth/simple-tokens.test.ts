import { describe, expect, it } from "vitest";
import { SimpleTokens } from "../../src/auth/simple-tokens.js";

function clock() {
  const c = { nowMs: 0, now: () => c.nowMs };
  return c;
}

describe("SimpleTokens", () => {
  it("resolves a token until its TTL passes without use, each use starting the TTL again", () => {
    const c = clock();
    const tokens = new SimpleTokens(c, 1000);
    tokens.assign("t1", "alice");
    c.nowMs = 900;
    expect(tokens.resolve("t1")).toBe("alice");
    c.nowMs = 1800;
    expect(tokens.resolve("t1")).toBe("alice");
    c.nowMs = 2800;
    expect(tokens.resolve("t1")).toBeUndefined();
    expect(tokens.resolve("nope")).toBeUndefined();
  });

  it("drops a user's tokens, all tokens, expired tokens and the least recently used beyond the cap", () => {
    const c = clock();
    const tokens = new SimpleTokens(c, 1000, 3);
    tokens.assign("a1", "a");
    tokens.assign("a2", "a");
    tokens.assign("b1", "b");
    tokens.invalidateUser("a");
    expect([tokens.resolve("a1"), tokens.resolve("a2"), tokens.resolve("b1")]).toEqual([
      undefined,
      undefined,
      "b",
    ]);
    tokens.assign("c1", "c");
    tokens.assign("d1", "d");
    tokens.resolve("b1");
    tokens.assign("e1", "e");
    // c1 was the least recently used of four.
    expect(tokens.size).toBe(3);
    expect(tokens.resolve("c1")).toBeUndefined();
    c.nowMs = 5000;
    tokens.assign("f1", "f");
    expect(tokens.size).toBe(1);
    tokens.clear();
    expect(tokens.resolve("f1")).toBeUndefined();
  });
});
