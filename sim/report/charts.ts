// Chart.js configurations for a run report, built from RunArtifacts as plain JSON (no functions), so
// the same configuration is rendered by Chart.js in the browser (index.html) and on a Node canvas
// (the PNGs). Fault windows travel in `options.plugins.faultWindows` and are drawn by the plugin in
// fault-windows-plugin.ts. The x axis is always virtual time in seconds.
import type { ChartConfiguration } from "chart.js";
import type { FaultWindow } from "../nemesis.js";
import type { MemberSample, OperationRecord, RunArtifacts } from "../run-artifacts.js";
import { downsampleEnvelope, keepChanges } from "./downsample.js";

/** One chart of the report: a canvas id, a heading, a configuration and a pixel height. */
export interface ChartSpec {
  readonly id: string;
  readonly title: string;
  readonly caption: string;
  readonly heightPx: number;
  readonly config: ChartConfiguration;
}

export interface ShadedWindow {
  readonly start: number;
  readonly end: number;
  readonly label: string;
  readonly color: string;
}

/** Latency points kept per operation kind (the rest are summarized by their envelope). */
const LATENCY_POINTS_PER_KIND = 2000;
/** Points kept per member and per line of the timeline charts. */
const TIMELINE_POINTS_PER_MEMBER = 800;
/** Throughput buckets at most; one bucket is at least one second. */
const THROUGHPUT_BUCKETS_MAX = 300;

/** Every chart's y axis has this width, so the charts' time axes line up on the page. */
const Y_AXIS_WIDTH_PX = 78;

const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf"];

export const FAULT_COLORS: Readonly<Record<FaultWindow["kind"], string>> = {
  partition: "rgba(214, 39, 40, 0.13)",
  network: "rgba(255, 127, 14, 0.13)",
  clog: "rgba(188, 189, 34, 0.16)",
  crash: "rgba(127, 127, 127, 0.18)",
  pause: "rgba(148, 103, 189, 0.15)",
  "clock-drift": "rgba(23, 190, 207, 0.14)",
  "crash-at": "rgba(127, 127, 127, 0.18)",
  "stall-at": "rgba(148, 103, 189, 0.15)",
  disk: "rgba(140, 86, 75, 0.15)",
  compact: "rgba(44, 160, 44, 0.12)",
  defragment: "rgba(44, 160, 44, 0.12)",
  member: "rgba(31, 119, 180, 0.14)",
};

export const ROLE_COLORS: Readonly<Record<MemberSample["role"], string>> = {
  StateLeader: "#2ca02c",
  StateCandidate: "#ff7f0e",
  StatePreCandidate: "#ffbb78",
  StateFollower: "#aec7e8",
  down: "#444444",
  paused: "#9467bd",
};

const ROLE_NAMES: Readonly<Record<MemberSample["role"], string>> = {
  StateLeader: "leader",
  StateCandidate: "candidate",
  StatePreCandidate: "pre-candidate",
  StateFollower: "follower",
  down: "down",
  paused: "paused",
};

function color(i: number): string {
  return PALETTE[i % PALETTE.length] as string;
}

/** Fault windows in seconds; a window still open at the end of the run closes at the end. */
export function shadedWindows(a: RunArtifacts): ShadedWindow[] {
  return a.summary.details.faults.map((w) => ({
    start: w.startMs / 1000,
    end: (w.endMs ?? a.summary.virtualMs) / 1000,
    label: w.kind,
    color: FAULT_COLORS[w.kind] ?? "rgba(214, 39, 40, 0.13)",
  }));
}

/** Violations drawn as lines: the first few distinct times are enough to locate a failure. */
const MARKERS_MAX = 20;

function violationMarkers(a: RunArtifacts): { at: number; label: string }[] {
  const times = [...new Set(a.summary.details.violations.map((v) => v.atMs))].slice(0, MARKERS_MAX);
  return times.map((atMs) => ({ at: atMs / 1000, label: "violation" }));
}

/** Options every chart shares: fixed size, no animation, seconds on x, fault windows shaded. */
function baseOptions(a: RunArtifacts, yTitle: string): Record<string, unknown> {
  return {
    responsive: false,
    animation: false,
    maintainAspectRatio: false,
    devicePixelRatio: 1,
    plugins: {
      faultWindows: {
        windows: shadedWindows(a),
        markers: violationMarkers(a),
        yAxisWidth: Y_AXIS_WIDTH_PX,
      },
      legend: { position: "top", labels: { boxWidth: 12 } },
    },
    scales: {
      x: {
        type: "linear",
        min: 0,
        max: a.summary.virtualMs / 1000,
        title: { display: true, text: "virtual time (s)" },
      },
      y: { title: { display: true, text: yTitle } },
    },
  };
}

function kindsOf(ops: readonly OperationRecord[]): string[] {
  return [...new Set(ops.map((o) => o.kind))].sort();
}

export function latencyChart(a: RunArtifacts): ChartSpec {
  const answered = a.operations.filter((o) => o.returnMs !== undefined);
  const kinds = kindsOf(answered);
  let thinned = false;
  const datasets = kinds.map((kind, i) => {
    const points = answered
      .filter((o) => o.kind === kind)
      .map((o) => ({ x: o.callMs / 1000, y: Math.max(0.1, (o.returnMs as number) - o.callMs) }));
    const kept = downsampleEnvelope(points, LATENCY_POINTS_PER_KIND);
    thinned ||= kept.length < points.length;
    return {
      label: kind,
      data: kept,
      backgroundColor: color(i),
      borderColor: color(i),
      pointRadius: 1.5,
      showLine: false,
    };
  });
  const options = baseOptions(a, "latency (ms, log)");
  (options.scales as Record<string, Record<string, unknown>>).y!.type = "logarithmic";
  return {
    id: "latency",
    title: "Latency over time",
    caption:
      `Each point is one operation that returned: when it was called, and how long it took. ` +
      `Operations with an unknown outcome are counted under throughput.` +
      (answered.length === 0 ? " No operation returned during this run." : "") +
      (thinned
        ? " Long series are thinned to the fastest and slowest operation per interval."
        : ""),
    heightPx: 320,
    config: { type: "scatter", data: { datasets }, options } as ChartConfiguration,
  };
}

type Outcome = "ok" | "failed" | "unknown";

function outcomeOf(o: OperationRecord): Outcome {
  if (o.returnMs === undefined || o.result === "unknown") return "unknown";
  return o.result === "ok" ? "ok" : "failed";
}

export function throughputChart(a: RunArtifacts): ChartSpec {
  const endS = Math.max(1, Math.ceil(a.summary.virtualMs / 1000));
  const bucketS = Math.max(1, Math.ceil(endS / THROUGHPUT_BUCKETS_MAX));
  const buckets = Math.ceil(endS / bucketS);
  const counts: Record<Outcome, number[]> = {
    ok: new Array<number>(buckets).fill(0),
    failed: new Array<number>(buckets).fill(0),
    unknown: new Array<number>(buckets).fill(0),
  };
  for (const o of a.operations) {
    const outcome = outcomeOf(o);
    // Completed operations count when they complete; unknown ones when they were issued.
    const atMs = outcome === "unknown" ? o.callMs : (o.returnMs as number);
    const i = Math.min(buckets - 1, Math.floor(atMs / 1000 / bucketS));
    counts[outcome][i]! += 1;
  }
  const colors: Record<Outcome, string> = { ok: "#2ca02c", failed: "#d62728", unknown: "#7f7f7f" };
  const datasets = (["ok", "failed", "unknown"] as const).map((outcome) => ({
    label: outcome,
    data: counts[outcome].map((n, i) => ({ x: i * bucketS, y: n / bucketS })),
    borderColor: colors[outcome],
    backgroundColor: colors[outcome],
    stepped: "before",
    pointRadius: 0,
    borderWidth: 1.5,
  }));
  return {
    id: "throughput",
    title: "Throughput over time",
    caption: `Operations per second in ${bucketS}-second buckets: completed ok, failed with an error, or outcome unknown (counted when issued).`,
    heightPx: 280,
    config: { type: "line", data: { datasets }, options: baseOptions(a, "ops/s") },
  };
}

function membersOf(samples: readonly MemberSample[]): string[] {
  return [...new Set(samples.map((s) => s.member))].sort((x, y) =>
    x.localeCompare(y, "en", { numeric: true }),
  );
}

/** Consecutive samples of one member with the same role, as [startS, endS] bars. */
function roleBars(a: RunArtifacts, member: string): { role: MemberSample["role"]; x: number[] }[] {
  const samples = a.timeline.filter((s) => s.member === member);
  const bars: { role: MemberSample["role"]; x: number[] }[] = [];
  samples.forEach((s, i) => {
    const endS = (samples[i + 1]?.atMs ?? a.summary.virtualMs) / 1000;
    const last = bars.at(-1);
    if (last !== undefined && last.role === s.role) last.x[1] = endS;
    else bars.push({ role: s.role, x: [s.atMs / 1000, endS] });
  });
  return bars;
}

export function rolesChart(a: RunArtifacts): ChartSpec {
  const members = membersOf(a.timeline);
  const roles = Object.keys(ROLE_COLORS) as MemberSample["role"][];
  const bars = members.flatMap((m) => roleBars(a, m).map((b) => ({ ...b, y: m })));
  const datasets = roles
    .map((role) => ({
      label: ROLE_NAMES[role],
      data: bars.filter((b) => b.role === role).map((b) => ({ x: b.x, y: b.y })),
      backgroundColor: ROLE_COLORS[role],
      borderWidth: 0,
      grouped: false,
      barPercentage: 0.9,
      categoryPercentage: 0.9,
    }))
    .filter((d) => d.data.length > 0);
  const options = baseOptions(a, "member");
  const scales = options.scales as Record<string, Record<string, unknown>>;
  scales.y = { type: "category", labels: members, title: { display: true, text: "member" } };
  return {
    id: "roles",
    title: "Raft roles per member",
    caption: "Each member's role over virtual time, sampled about 1500 times per run.",
    heightPx: 60 + 36 * Math.max(1, members.length),
    config: {
      type: "bar",
      data: { labels: members, datasets },
      options: { ...options, indexAxis: "y" },
    } as unknown as ChartConfiguration,
  };
}

function memberLines(
  a: RunArtifacts,
  pick: (s: MemberSample) => number,
): { label: string; data: { x: number; y: number }[] }[] {
  return membersOf(a.timeline).map((member) => {
    const points = a.timeline
      .filter((s) => s.member === member)
      .map((s) => ({ x: s.atMs / 1000, y: pick(s) }));
    return { label: member, data: keepChanges(points, TIMELINE_POINTS_PER_MEMBER) };
  });
}

function lineChart(
  a: RunArtifacts,
  id: string,
  title: string,
  caption: string,
  pick: (s: MemberSample) => number,
): ChartSpec {
  const datasets = memberLines(a, pick).map((d, i) => ({
    ...d,
    borderColor: color(i),
    backgroundColor: color(i),
    stepped: "before",
    pointRadius: 0,
    borderWidth: 1.5,
  }));
  const options = baseOptions(a, title.toLowerCase());
  // Terms and indexes are counts: start at zero and keep an axis even when all are zero.
  const scales = options.scales as Record<string, Record<string, unknown>>;
  scales.y = { ...scales.y, min: 0, suggestedMax: 1, ticks: { precision: 0 } };
  return {
    id,
    title,
    caption,
    heightPx: 240,
    config: { type: "line", data: { datasets }, options },
  };
}

export function termChart(a: RunArtifacts): ChartSpec {
  return lineChart(a, "term", "Term", "Each member's current term.", (s) => s.term);
}

export function commitChart(a: RunArtifacts): ChartSpec {
  return lineChart(
    a,
    "commit",
    "Commit index",
    "Each member's commit index; a flat stretch while others climb is a member cut off or down.",
    (s) => s.commitIndex,
  );
}

/** Every chart of the report, in page order. */
export function reportCharts(a: RunArtifacts): {
  latency: ChartSpec;
  throughput: ChartSpec;
  timeline: ChartSpec[];
} {
  return {
    latency: latencyChart(a),
    throughput: throughputChart(a),
    timeline: [rolesChart(a), termChart(a), commitChart(a)],
  };
}
