// The detcd server's configuration: flags and ETCD_* variables to a checked ServerConfig.
export {
  parseServerConfig,
  parseRetention,
  DEFAULT_NAME,
  DEFAULT_QUOTA_BACKEND_BYTES,
  DEFAULT_SNAPSHOT_COUNT,
  type AutoCompaction,
  type ClusterState,
  type ConfigError,
  type LogLevel,
  type ServerConfig,
} from "./server-config.js";
export { parseGoDurationMs } from "./duration.js";
export { FLAG_SPECS, flagToEnv, type FlagSpec } from "./flags.js";
export { helpText, versionText } from "./help.js";
export {
  formatInitialCluster,
  parseInitialCluster,
  verifyInitialCluster,
  type InitialClusterMember,
} from "./initial-cluster.js";
export { parseAdvertiseURLs, parseListenURLs, type ListenURL } from "./urls.js";
