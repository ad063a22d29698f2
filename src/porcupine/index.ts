// Public entry point of the linearizability checker (a self-contained module).
export type * from "./types.js";
export { check, deterministicModel, DEFAULT_MAX_CACHE_ENTRIES } from "./checker.js";
export { visualize, replayLinearization, type VisualizeOptions } from "./visualize.js";
export { eventsToOperations, operationsToEvents, timeOrder, type TimePoint } from "./history.js";
export { powersetModel, type StateSet } from "./nondeterministic.js";

export * from "./models/cas-register.js";
export * from "./models/kv.js";
export type * from "./models/etcd-types.js";
export * from "./models/etcd.js";
export { resolveUnknownWrites } from "./models/etcd-resolve.js";
export * from "./parse/parse-error.js";
export { parseJepsenLog, type JepsenOperation } from "./parse/jepsen.js";
export { parsePorcupineKv } from "./parse/porcupine-kv.js";
export { parseHistoryJson, type EtcdHistory, type EtcdOperation } from "./parse/history-json.js";
