// The public face of src/raft: RawNode and MemoryStorage, the types, and the text renderings.
export * from "./types.js";
export { RawNode } from "./raw-node.js";
export { MemoryStorage } from "./memory-storage.js";
export {
  type ConfChangeError,
  changeConf,
  decodeConfChange,
  describeConfChange,
  encodeConfChange,
  isJoint,
  leaveJointConfChange,
} from "./confchange.js";
export {
  describeBytes,
  describeConfState,
  describeEntries,
  describeEntry,
  describeHardState,
  describeMessage,
  describeReadState,
  describeReady,
  describeSnapshot,
  describeSoftState,
} from "./describe.js";
export type { StepResult } from "./raft.js";
export type { ProgressStateType } from "./progress.js";
export type { VoteResult, MajorityConfig, JointConfig } from "./quorum.js";
