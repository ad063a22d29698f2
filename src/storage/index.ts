// The storage layer: WAL, snapshot files, the persistent raft Storage, snapshot policy.
export {
  DiskStorage,
  type DiskStorageOptions,
  type PersistBatch,
  type Recovered,
} from "./disk-storage.js";
export {
  describeFailure,
  type CorruptionError,
  type StorageCallback,
  type StorageFailure,
  type StorageResult,
} from "./errors.js";
export { SnapshotStore, type LoadedSnapshot } from "./snapshot-store.js";
export {
  compactIndexFor,
  ConsistentIndex,
  DEFAULT_CATCH_UP_ENTRIES,
  DEFAULT_SNAPSHOT_COUNT,
  shouldSnapshot,
} from "./snapshot-policy.js";
export { Wal, type WalBatch, type WalOptions, type WalRecovered } from "./wal.js";
