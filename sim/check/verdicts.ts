// Turns the violations of a run into one verdict per check named in the scenario. Each scenario
// check covers the violation kinds listed here; a violation of a kind no named check covers still
// fails the run under its own name, so nothing is ever hidden.
import type { CheckVerdict } from "../run-artifacts.js";
import type { Violation } from "./violation.js";
import { WATCH_CHECKS } from "./watch-guarantees.js";

/** Which violation kinds (Violation.check) each scenario check covers. */
export const CHECK_COVERS: Readonly<Record<string, readonly string[]>> = {
  "raft-safety": [
    "election-safety",
    "log-matching",
    "leader-completeness",
    "state-machine-safety",
    "commit-monotonic",
    "read-index",
  ],
  liveness: ["liveness"],
  linearizable: ["linearizable"],
  convergence: ["convergence"],
  watch: [...WATCH_CHECKS, "watch"],
};

export function verdicts(
  checkNames: readonly string[],
  violations: readonly Violation[],
): CheckVerdict[] {
  const covered = new Set<string>();
  const out = checkNames.map((check): CheckVerdict => {
    const kinds = CHECK_COVERS[check] ?? [check];
    kinds.forEach((k) => covered.add(k));
    const hits = violations.filter((v) => kinds.includes(v.check));
    return { check, ok: hits.length === 0, detail: describe(hits) };
  });
  const stray = [...new Set(violations.map((v) => v.check).filter((k) => !covered.has(k)))];
  for (const check of stray) {
    out.push({ check, ok: false, detail: describe(violations.filter((v) => v.check === check)) });
  }
  return out;
}

function describe(hits: readonly Violation[]): string {
  if (hits.length === 0) return "0 violations";
  const first = hits[0] as Violation;
  return `${hits.length} violation${hits.length === 1 ? "" : "s"}; first at ${first.atMs}ms: ${first.message}`;
}
