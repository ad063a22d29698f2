// Campaign throughput: seeds per minute of a short Raft scenario (test/sim/testdata/raft-short.yaml,
// 20 s of faults, a few tens of ms of wall time per run) with 1 and with 2 worker threads, and the
// speed-up (target >= 1.8x on 2 free cores). Each figure includes starting the workers, so the
// campaign is long enough (1,200 seeds by default) for the runs, not the start, to dominate. The load
// average is printed too, and a control: the speed-up of a pure CPU loop on 1 vs 2 threads, the
// most any 2-worker campaign can get on this machine at this moment (2.0 on two free cores).
import { availableParallelism, loadavg } from "node:os";
import { Worker } from "node:worker_threads";
import { compiled } from "./compiled.js";
import { emit } from "./emit.js";

const SEEDS = Number(process.env.CAMPAIGN_BENCH_SEEDS ?? 1200);

async function seedsPerMinute(workers: number): Promise<number> {
  // The compiled campaign, whose workers run the compiled worker (as `npx detcd-sim campaign`).
  const { runCampaign } = await compiled<typeof import("../sim/campaign/campaign.js")>(
    "sim/campaign/campaign.js",
  );
  const { planJobs, WHOLE } =
    await compiled<typeof import("../sim/campaign/jobs.js")>("sim/campaign/jobs.js");
  const jobs = planJobs([{ type: "file", file: "test/sim/testdata/raft-short.yaml" }], 1, SEEDS);
  const s = await runCampaign({
    jobs,
    workers,
    shard: WHOLE,
    outDir: undefined,
    keepAll: false,
    failFast: false,
  });
  if (s.failed > 0) throw new Error(`campaign bench: ${s.failed} runs failed`);
  emit(`campaign.workers-${workers}`, {
    seeds: s.runs,
    wallS: s.wallMs / 1000,
    seedsPerMinute: s.seedsPerMinute,
  });
  return s.seedsPerMinute;
}

const SPIN = "let x = 0; for (let i = 0; i < 2e8; i++) x += i % 7;";

async function spinMs(threads: number): Promise<number> {
  const started = performance.now();
  const one = () =>
    new Promise<void>((resolve, reject) => {
      const w = new Worker(SPIN, { eval: true });
      w.on("exit", () => resolve());
      w.on("error", reject);
    });
  await Promise.all(Array.from({ length: threads }, one));
  return performance.now() - started;
}

/** Two loops' worth of work on 2 threads vs on 1: how much parallelism the machine gives now. */
async function machineSpeedup(): Promise<number> {
  const serial = 2 * (await spinMs(1));
  return serial / (await spinMs(2));
}

export default async function run(): Promise<void> {
  const loadBefore = loadavg()[0] ?? 0;
  const one = await seedsPerMinute(1);
  const two = await seedsPerMinute(2);
  const ceiling = await machineSpeedup();
  emit("campaign.speedup", {
    speedup: Math.round((two / one) * 100) / 100,
    target: 1.8,
    machineSpeedupCeiling: Math.round(ceiling * 100) / 100,
    cpus: availableParallelism(),
    loadAverage1mBefore: Math.round(loadBefore * 100) / 100,
    loadAverage1mAfter: Math.round((loadavg()[0] ?? 0) * 100) / 100,
  });
}
