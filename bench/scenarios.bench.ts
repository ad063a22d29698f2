// Virtual/wall ratio of every standard scenario (seed 1, checks included) — target >= 200x — in
// the compiled build, as `npx detcd-sim` runs it.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { compiled } from "./compiled.js";
import { emit } from "./emit.js";

export default async function run(): Promise<void> {
  const { runScenario } =
    await compiled<typeof import("../sim/run-scenario.js")>("sim/run-scenario.js");
  const { parseScenario } = await compiled<typeof import("../sim/scenario.js")>("sim/scenario.js");
  const files = readdirSync("scenarios")
    .filter((f) => f.endsWith(".yaml"))
    .sort();
  for (const file of files) {
    const text = readFileSync(join("scenarios", file), "utf8");
    const parsed = parseScenario(text, file);
    if (!parsed.ok) throw new Error(`${file}: ${parsed.error.message}`);
    // Warm the code paths this scenario uses: the JIT needs a few runs to settle, and a
    // campaign's workers run seed after seed, so the steady state is the figure that matters.
    for (const seed of [2, 3, 4]) runScenario(parsed.value, seed, text);
    const s = runScenario(parsed.value, 1, text).summary;
    emit(`scenario.${s.scenario}`, {
      virtualS: s.virtualMs / 1000,
      wallS: s.wallMs / 1000,
      virtualPerWall: Math.round(s.virtualMs / Math.max(1, s.wallMs)),
      events: s.events,
      ops: s.ops,
      ok: s.ok,
    });
  }
}
