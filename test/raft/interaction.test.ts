// Runs every golden script in testdata/. REWRITE=1 regenerates the expected outputs (review the
// diff by hand: a golden file is only as good as its content).
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { InteractionEnv } from "./interaction-env.js";
import { parseScript, renderScript, runCommand } from "./script.js";

const dir = join(dirname(fileURLToPath(import.meta.url)), "testdata");
const rewrite = process.env["REWRITE"] === "1";

describe("raft interaction scripts", () => {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith(".txt"))
    .sort();
  for (const file of files) {
    it(file, () => {
      const path = join(dir, file);
      const blocks = parseScript(readFileSync(path, "utf8"));
      const env = new InteractionEnv();
      const actual = blocks.map((b) => ({ ...b, expected: runCommand(env, b.command) }));
      if (rewrite) {
        writeFileSync(path, renderScript(actual));
        return;
      }
      for (const [i, b] of blocks.entries()) {
        expect(actual[i]?.expected, `${file}:${b.line}: ${b.command}`).toBe(b.expected);
      }
    });
  }
});
