// Virtual/wall ratio of every standard scenario (checks included) — target >= 200x — in the
// compiled build, as `npx detcd-sim` runs it. After three warm-up runs (the JIT's steady state,
// which is what a campaign's workers see), each pass runs seeds 1-5; the figure is the best of
// three passes, since other load on the machine only ever slows a pass (the median is printed
// too). BENCH_PASSES and BENCH_SEEDS change the counts.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { compiled } from "./compiled.js";
import { emit } from "./emit.js";

const PASSES = Number(process.env["BENCH_PASSES"] ?? 3);
const SEEDS = Number(process.env["BENCH_SEEDS"] ?? 5);

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
    for (const seed of [101, 102, 103]) runScenario(parsed.value, seed, text);
    const ratios: number[] = [];
    let virtualMs = 0;
    let events = 0;
    let ok = true;
    for (let pass = 0; pass < PASSES; pass++) {
      let virtual = 0;
      let wall = 0;
      for (let seed = 1; seed <= SEEDS; seed++) {
        const s = runScenario(parsed.value, seed, text).summary;
        virtual += s.virtualMs;
        wall += s.wallMs;
        events += s.events;
        ok &&= s.ok;
      }
      virtualMs = virtual;
      ratios.push(virtual / Math.max(1, wall));
    }
    ratios.sort((a, b) => a - b);
    emit(`scenario.${parsed.value.name}`, {
      virtualPerWall: Math.round(ratios.at(-1) ?? 0),
      virtualPerWallMedian: Math.round(ratios[Math.floor(ratios.length / 2)] ?? 0),
      seeds: SEEDS,
      passes: PASSES,
      virtualSPerSeed: Math.round(virtualMs / SEEDS / 100) / 10,
      eventsPerSeed: Math.round(events / PASSES / SEEDS),
      ok,
    });
  }
}
