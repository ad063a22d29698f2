// The determinism rule (DESIGN.md) is enforced by ESLint; these tests show the rules fire where
// they must, stay quiet where I/O is allowed, and that the tree as committed obeys them.
import { ESLint } from "eslint";
import { describe, expect, it } from "vitest";

const eslint = new ESLint({ cwd: process.cwd() });
const RESTRICTED = ["no-restricted-globals", "no-restricted-imports", "no-restricted-syntax"];

async function restrictedRules(code: string, filePath: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? [])
    .filter((m) => RESTRICTED.includes(m.ruleId ?? ""))
    .map((m) => m.message);
}

const nondeterministic = `
import { readFileSync } from "node:fs";
export const a = Date.now();
export const b = Math.random();
export const c = performance.now();
setTimeout(() => undefined, 1);
export const d = process.env.HOME;
export const e = crypto.randomUUID();
export const f = readFileSync;
`;

const asyncCode = `
export async function load(): Promise<number> {
  return await Promise.resolve(1);
}
`;

describe("determinism lint rules", () => {
  it("forbid clocks, randomness, timers, process, crypto and node:* in engine code", async () => {
    const messages = await restrictedRules(nondeterministic, "src/raft/example.ts");
    const joined = messages.join("\n");
    for (const word of [
      "Date",
      "Math.random",
      "performance",
      "setTimeout",
      "process",
      "crypto",
      "node modules",
    ]) {
      expect(joined).toContain(word);
    }
    expect(messages.length).toBe(7);
  });

  it("cover every src folder except real and cli", async () => {
    for (const dir of ["lib", "env", "mvcc", "porcupine", "api", "server", "watch"]) {
      expect(
        (await restrictedRules("export const t = Date.now();", `src/${dir}/x.ts`)).length,
      ).toBe(1);
    }
    for (const dir of ["real", "cli"]) {
      expect(await restrictedRules(nondeterministic, `src/${dir}/x.ts`)).toEqual([]);
    }
  });

  it("forbid async, await and Promise in the engine folders", async () => {
    for (const dir of ["raft", "mvcc", "watch", "lease", "auth", "storage", "server"]) {
      const messages = await restrictedRules(asyncCode, `src/${dir}/x.ts`);
      expect(messages.some((m) => m.includes("no async"))).toBe(true);
      expect(messages.some((m) => m.includes("no await"))).toBe(true);
      expect(messages.some((m) => m.includes("no Promise"))).toBe(true);
    }
    expect(await restrictedRules(asyncCode, "src/real/x.ts")).toEqual([]);
  });

  it("keep the simulator on virtual time and the seeded PRNG", async () => {
    const messages = await restrictedRules(
      "export const t = Date.now() + Math.random();",
      "sim/x.ts",
    );
    expect(messages.length).toBe(2);
    expect(
      await restrictedRules("export const t = performance.now();", "sim/wall-time.ts"),
    ).toEqual([]);
  });

  it("hold for the tree as committed", async () => {
    const results = await eslint.lintFiles(["src", "sim"]);
    const offending = results.flatMap((r) =>
      r.messages
        .filter((m) => RESTRICTED.includes(m.ruleId ?? ""))
        .map((m) => `${r.filePath}:${m.line}: ${m.message}`),
    );
    expect(offending).toEqual([]);
  });
});
