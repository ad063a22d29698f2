// Scenario files written by the harness (swarm scenarios, shrunk scenarios). They are built in the
// file's own form (ScenarioInput: kebab-case keys, durations as text), not from the typed Scenario,
// so every field the schema knows, including ones added later, survives a round trip unchanged.
// Every writer re-parses its output with parseScenario before anyone runs it.
import { Document, isMap, isSeq, parseDocument } from "yaml";
import { formatDurationMs } from "./duration.js";
import type { ScenarioInput } from "./scenario-schema.js";

/** Keys whose values read best on one line each (`cluster: { members: 3, ... }`). */
const FLOW_KEYS = ["cluster", "network", "workload", "checks"];

/** The scenario as YAML in the style of scenarios/*.yaml, with `comment` as a header. */
export function scenarioToYaml(input: ScenarioInput, comment?: string): string {
  const doc = new Document(input);
  for (const key of FLOW_KEYS) {
    const node = doc.get(key, true);
    if (isMap(node) || isSeq(node)) node.flow = true;
  }
  const faults = doc.get("faults", true);
  if (isSeq(faults)) {
    for (const item of faults.items) if (isMap(item)) item.flow = true;
  }
  if (comment !== undefined) doc.commentBefore = comment.replace(/^/gm, " ");
  return doc.toString({ lineWidth: 110, flowCollectionPadding: false });
}

/**
 * The scenario text as a plain object in the file's form, unvalidated (parseScenario validates);
 * undefined if the text is not a YAML mapping.
 */
export function scenarioObject(text: string): ScenarioInput | undefined {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) return undefined;
  const value = doc.toJS() as unknown;
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
  return value as ScenarioInput;
}

/** A duration as scenario files write it: `20s`, `1500ms`, `2m`. */
export function durationText(ms: number): string {
  return formatDurationMs(ms);
}
