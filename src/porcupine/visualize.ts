// A self-contained HTML page (inline CSS and a few lines of inline JS, no network) that shows a
// check report: per partition, each client's operations as bars from call to return on a shared
// time axis, the longest linearization found (the order number on each bar), the first operation
// that could not be linearized (in red), the model state after each linearized operation (on
// hover), and caller-supplied annotations such as fault windows (shaded).
//
// The page is built as static markup, so it reads without JS and tests can inspect it; the script
// only moves a tooltip. The time axis uses the rank of each distinct time, not its value, so that
// short operations stay visible next to long ones.
import { deterministicModel } from "./checker.js";
import type { Annotation, AnyModel, CheckReport, Operation, PartitionReport } from "./types.js";

export interface VisualizeOptions {
  readonly title?: string;
  /** Spans to shade, in the same time unit as the operations' call/return. */
  readonly annotations?: readonly Annotation[];
}

const PX_PER_RANK = 26;
const ROW_PX = 34;
const LABEL_PX = 90;

/**
 * The model state after each operation of `linearization`, as text (`describeState`, or JSON).
 * Replays the model; an entry is "(illegal step)" if a step fails, which a linearization from
 * `check` never does.
 */
export function replayLinearization<S, I, O>(
  model: AnyModel<S, I, O>,
  operations: readonly Operation<I, O>[],
  linearization: readonly number[],
): string[] {
  const det = deterministicModel(model);
  const describe = det.describeState ?? ((s: unknown) => JSON.stringify(s) ?? String(s));
  let state = det.init();
  const states: string[] = [];
  for (const index of linearization) {
    const op = operations[index] as Operation<I, O>;
    const result = det.step(state, op.input, op.return === undefined ? undefined : op.output);
    if (!result.ok) {
      states.push("(illegal step)");
      continue;
    }
    state = result.state;
    states.push(describe(state));
  }
  return states;
}

function escapeHtml(text: string): string {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;");
}

/** Maps times to x positions by rank; times between known points are interpolated. */
function timeAxis(times: number[]): { x: (time: number) => number; end: number } {
  const sorted = [...new Set(times)].sort((a, b) => a - b);
  const rankX = (rank: number) => LABEL_PX + (rank + 1) * PX_PER_RANK;
  const x = (time: number): number => {
    if (sorted.length === 0) return rankX(0);
    let lo = 0;
    let hi = sorted.length - 1;
    if (time <= (sorted[0] as number)) return rankX(0);
    if (time >= (sorted[hi] as number)) return rankX(hi);
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if ((sorted[mid] as number) <= time) lo = mid;
      else hi = mid;
    }
    const a = sorted[lo] as number;
    const b = sorted[hi] as number;
    return rankX(lo + (time - a) / (b - a));
  };
  return { x, end: rankX(sorted.length) + PX_PER_RANK };
}

function describeOp<S, I, O>(model: AnyModel<S, I, O>, op: Operation<I, O>): string {
  const output = op.return === undefined ? undefined : op.output;
  return model.describeOperation
    ? model.describeOperation(op.input, output)
    : `${JSON.stringify(op.input)} -> ${output === undefined ? "?" : JSON.stringify(output)}`;
}

function renderPartition<S, I, O>(
  model: AnyModel<S, I, O>,
  part: PartitionReport<I, O>,
  index: number,
  annotations: readonly Annotation[],
): string {
  const ops = part.operations;
  const clients = [...new Set(ops.map((o) => o.clientId))].sort((a, b) => a - b);
  const row = new Map(clients.map((c, i) => [c, i]));
  const axis = timeAxis([
    ...ops.flatMap((o) => (o.return === undefined ? [o.call] : [o.call, o.return])),
    ...annotations.flatMap((a) => [a.start, a.end]),
  ]);
  const order = new Map(part.linearization.map((op, i) => [op, i]));
  const states = replayLinearization(model, ops, part.linearization);
  const before = part.linearization.length > 0 ? states[states.length - 1] : describeInit(model);
  const height = clients.length * ROW_PX + 30;
  const parts: string[] = [];
  for (const a of annotations) {
    const rows = a.clientId === undefined ? undefined : row.get(a.clientId);
    if (a.clientId !== undefined && rows === undefined) continue;
    const top = rows === undefined ? 0 : rows * ROW_PX;
    const h = rows === undefined ? height - 30 : ROW_PX;
    const left = axis.x(a.start);
    const style = `left:${left}px;width:${Math.max(2, axis.x(a.end) - left)}px;top:${top}px;height:${h}px${a.color ? `;background:${escapeHtml(a.color)}` : ""}`;
    parts.push(
      `<div class="annotation" style="${style}" data-tip="${escapeHtml(`${a.label}\n[${a.start}, ${a.end}]`)}"><span>${escapeHtml(a.label)}</span></div>`,
    );
  }
  clients.forEach((c, i) => {
    parts.push(`<div class="client" style="top:${i * ROW_PX}px">client ${c}</div>`);
  });
  ops.forEach((op, i) => {
    const position = order.get(i);
    const open = op.return === undefined;
    const left = axis.x(op.call);
    const right = open ? axis.end : axis.x(op.return as number);
    const classes = [
      "op",
      open ? "open" : "",
      position !== undefined ? "linearized" : "",
      part.stuck === i ? "stuck" : "",
    ]
      .filter(Boolean)
      .join(" ");
    const label = describeOp(model, op);
    const state =
      position !== undefined
        ? `state after #${position + 1}:\n${states[position]}`
        : part.stuck === i
          ? `could not be linearized after the longest prefix; state there:\n${before}`
          : "not in the longest linearization";
    const tip = `${label}\ncall ${op.call}, return ${open ? "unknown" : op.return}\n${state}`;
    const badge =
      position !== undefined ? `<b>${position + 1}</b> ` : part.stuck === i ? "<b>✗</b> " : "";
    const top = (row.get(op.clientId) ?? 0) * ROW_PX + 4;
    parts.push(
      `<div class="${classes}" id="p${index}-op${i}" style="left:${left}px;width:${Math.max(6, right - left - 2)}px;top:${top}px" data-tip="${escapeHtml(tip)}">${badge}${escapeHtml(label)}</div>`,
    );
  });
  const stuckLink =
    part.stuck !== undefined
      ? ` — <a href="#p${index}-op${part.stuck}">first operation that cannot be linearized</a>`
      : "";
  return `<section class="partition ${part.result}" id="p${index}">
<h2>Partition ${index + 1}: ${part.result} (${ops.length} operations, ${part.linearization.length} linearized${part.unknownReason ? `, ${part.unknownReason}` : ""})${stuckLink}</h2>
<div class="scroll"><div class="timeline" style="width:${axis.end + 40}px;height:${height}px">${parts.join("\n")}</div></div>
</section>`;
}

function describeInit<S, I, O>(model: AnyModel<S, I, O>): string {
  const det = deterministicModel(model);
  const state = det.init();
  return det.describeState ? det.describeState(state) : JSON.stringify(state);
}

const STYLE = `body{font:13px system-ui,sans-serif;margin:16px;color:#222}
h1{font-size:18px}h2{font-size:14px;margin:18px 0 6px}
.summary span{margin-right:12px}.ok{color:#176d2c}.illegal{color:#b3261e}.unknown{color:#8a6100}
.partition.ok h2{color:#176d2c}.partition.illegal h2{color:#b3261e}.partition.unknown h2{color:#8a6100}
.scroll{overflow-x:auto;border:1px solid #ddd;background:#fcfcfc}
.timeline{position:relative}
.client{position:absolute;left:4px;width:${LABEL_PX - 8}px;line-height:${ROW_PX}px;color:#555;font-weight:600}
.op{position:absolute;height:${ROW_PX - 10}px;line-height:${ROW_PX - 10}px;padding:0 4px;box-sizing:border-box;white-space:nowrap;overflow:hidden;text-overflow:ellipsis;border:1px solid #7a8fa6;background:#dde7f2;border-radius:3px;cursor:default;font-size:11px}
.op.linearized{background:#d6efdc;border-color:#4c9a61}
.op.open{border-right:2px dashed #999;background-image:linear-gradient(90deg,rgba(255,255,255,0) 60%,#fcfcfc)}
.op.stuck{background:#f8d3d0;border:2px solid #b3261e;font-weight:600}
.op:hover{outline:2px solid #333;z-index:2}
.annotation{position:absolute;background:rgba(255,120,100,.16);border-left:1px solid rgba(200,60,40,.5);border-right:1px solid rgba(200,60,40,.5);font-size:10px;color:#a33;overflow:hidden}
.annotation span{position:absolute;bottom:1px;left:2px;white-space:nowrap}
#tip{position:fixed;display:none;max-width:520px;white-space:pre-wrap;background:#222;color:#fff;padding:6px 8px;border-radius:4px;font:12px ui-monospace,monospace;z-index:9;pointer-events:none}`;

const SCRIPT = `(function(){var t=document.getElementById("tip");
document.addEventListener("mouseover",function(e){var n=e.target.closest&&e.target.closest("[data-tip]");if(!n){t.style.display="none";return;}t.textContent=n.getAttribute("data-tip");t.style.display="block";});
document.addEventListener("mousemove",function(e){t.style.left=Math.min(e.clientX+14,window.innerWidth-540)+"px";t.style.top=(e.clientY+14)+"px";});})();`;

/**
 * The whole page for `report`, checked with `model`. Annotations are drawn in every partition whose
 * time range they touch (or on their client's row when `clientId` is set).
 */
export function visualize<S, I, O>(
  model: AnyModel<S, I, O>,
  report: CheckReport<I, O>,
  options: VisualizeOptions = {},
): string {
  const annotations = options.annotations ?? [];
  const title = options.title ?? "Linearizability check";
  const sections = report.partitions.map((p, i) => renderPartition(model, p, i, annotations));
  const counts = (["ok", "illegal", "unknown"] as const).map(
    (r) =>
      `<span class="${r}">${r}: ${report.partitions.filter((p) => p.result === r).length}</span>`,
  );
  const skipped =
    report.skippedPartitions > 0 ? `<span>skipped: ${report.skippedPartitions}</span>` : "";
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head>
<body><h1>${escapeHtml(title)}: <span class="${report.result}" id="result">${report.result}</span></h1>
<p class="summary">partitions — ${counts.join("")}${skipped}. Bars run from call to return; a dashed end means the outcome is unknown. Numbers give the longest linearization found; the red bar is the first operation that cannot be linearized. Hover for the model state.</p>
${sections.join("\n")}
<div id="tip"></div><script>${SCRIPT}</script></body></html>
`;
}
