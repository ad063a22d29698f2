// The environment seam: the only way time, timers, randomness, disk and network reach the engine.
import type { Clock } from "./clock.js";
import type { Disk } from "./disk.js";
import type { Random } from "./random.js";
import type { Timers } from "./timers.js";

export type { Clock } from "./clock.js";
export type { Disk, DiskCallback, DiskError, FileHandle } from "./disk.js";
export type { EndpointId, Network } from "./network.js";
export type { Random } from "./random.js";
export type { TimerId, Timers } from "./timers.js";

/** Everything one member gets from its world. The network is wired separately per transport. */
export interface MemberEnv {
  readonly clock: Clock;
  readonly timers: Timers;
  readonly random: Random;
  readonly disk?: Disk;
}
