// The linearizability section of a report: checks a KV run's recorded history against the etcd
// model and renders src/porcupine's visualization with the fault windows shaded.
import {
  check,
  etcdModel,
  formatParseError,
  parseHistoryJson,
  resolveUnknownWrites,
  visualize,
  type Annotation,
  type CheckResult,
} from "../../src/porcupine/index.js";
import type { FaultWindow } from "../nemesis.js";
import { wallNowMs } from "../wall-time.js";

/** A report must not hang on a hard history: past this the answer is "unknown". */
const CHECK_TIMEOUT_MS = 10_000;

export type LinearizabilityOutcome =
  | {
      readonly type: "checked";
      readonly result: CheckResult;
      readonly operations: number;
      readonly html: string;
    }
  | { readonly type: "unreadable"; readonly message: string };

function faultAnnotations(faults: readonly FaultWindow[], endMs: number): Annotation[] {
  return faults.map((w) => ({
    start: w.startMs,
    end: w.endMs ?? endMs,
    label: `${w.kind}: ${w.description}`,
  }));
}

/**
 * Checks `historyJsonLines` (times in virtual ms). The history's own annotations are used when it
 * has any; otherwise the run's fault windows are drawn.
 */
export function checkLinearizability(
  historyJsonLines: string,
  faults: readonly FaultWindow[],
  endMs: number,
  title: string,
): LinearizabilityOutcome {
  const parsed = parseHistoryJson(historyJsonLines);
  if (!parsed.ok) {
    return {
      type: "unreadable",
      message: formatParseError({ ...parsed.error, file: "history.json" }),
    };
  }
  const operations = resolveUnknownWrites(parsed.value.operations);
  const report = check(etcdModel, operations, { timeoutMs: CHECK_TIMEOUT_MS, now: wallNowMs });
  const annotations =
    parsed.value.annotations.length > 0
      ? parsed.value.annotations
      : faultAnnotations(faults, endMs);
  return {
    type: "checked",
    result: report.result,
    operations: operations.length,
    html: visualize(etcdModel, report, { title, annotations }),
  };
}
