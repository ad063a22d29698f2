// The job list of a campaign: every (scenario, seed) pair in a fixed order (scenarios sorted, then
// seeds ascending), and the slice of it that one CI shard runs. Shards deal jobs round-robin, so
// each shard gets every scenario and a spread of seeds, and the union of shards 1..N is the whole
// list exactly once.

export type ScenarioSource =
  | { readonly type: "file"; readonly file: string }
  /** A swarm scenario generated from the job's seed (sim/campaign/swarm.ts). */
  | { readonly type: "swarm"; readonly workload: SwarmWorkload };

/** What a swarm scenario runs: Raft alone, the etcd member, or either (drawn per seed). */
export type SwarmWorkload = "raft" | "kv" | "mixed";
export const SWARM_WORKLOADS: readonly SwarmWorkload[] = ["raft", "kv", "mixed"];

export interface CampaignJob {
  /** Position in the whole (unsharded) list. */
  readonly index: number;
  readonly source: ScenarioSource;
  readonly seed: number;
}

export interface Shard {
  /** 1-based. */
  readonly index: number;
  readonly count: number;
}

export const WHOLE: Shard = { index: 1, count: 1 };

/** Parses `I/N` (1 <= I <= N); undefined if malformed. */
export function parseShard(text: string): Shard | undefined {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  if (m === null) return undefined;
  const index = Number(m[1]);
  const count = Number(m[2]);
  return index >= 1 && count >= 1 && index <= count ? { index, count } : undefined;
}

export function planJobs(
  sources: readonly ScenarioSource[],
  firstSeed: number,
  seeds: number,
  shard: Shard = WHOLE,
): CampaignJob[] {
  const all: CampaignJob[] = [];
  for (const source of sources) {
    for (let s = 0; s < seeds; s++) all.push({ index: all.length, source, seed: firstSeed + s });
  }
  return all.filter((job) => job.index % shard.count === shard.index - 1);
}
