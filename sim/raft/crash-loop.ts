// Crash/restart cycles at short intervals: every `everyMs` (jittered) one running member crashes —
// on a disk, losing its unsynced writes in the disk's crash mode — and restarts `restartAfterMs`
// later from what survived. A crash is skipped when it would leave less than a quorum running,
// so the cluster keeps making progress between cycles and each cycle tests recovery, not
// unavailability. Draws from its own world stream so it shifts no other draw.
import type { Prng } from "../../src/lib/prng.js";
import type { World } from "../world.js";
import type { RaftCluster } from "./raft-cluster.js";
import type { RaftMember } from "./raft-member.js";

export interface CrashLoopOptions {
  readonly startMs: number;
  readonly endMs: number;
  /** Mean time between crashes; each gap is drawn uniformly in [everyMs / 2, 3 * everyMs / 2]. */
  readonly everyMs: number;
  readonly restartAfterMs: number;
}

export class CrashLoop {
  /** Crashes issued. */
  crashes = 0;
  /** Restarts issued to members this loop crashed (a cycle is a crash and its restart). */
  cycles = 0;
  private readonly random: Prng;

  constructor(
    private readonly world: World,
    private readonly cluster: RaftCluster,
    private readonly options: CrashLoopOptions,
  ) {
    this.random = world.stream("raft-crash-loop");
  }

  start(): void {
    this.world.schedule(this.options.startMs, "crash-loop", "crash-loop:next", 0, () =>
      this.next(),
    );
  }

  private next(): void {
    if (this.world.nowMs >= this.options.endMs) return;
    this.crashOne();
    const gapMs = this.random.int(
      Math.ceil(this.options.everyMs / 2),
      Math.ceil((3 * this.options.everyMs) / 2),
    );
    this.world.schedule(gapMs, "crash-loop", "crash-loop:next", 0, () => this.next());
  }

  private crashOne(): void {
    const members = this.cluster.members;
    const running = members.filter((m) => m.phase === "running" && m.host.state === "up");
    const quorum = Math.floor(members.length / 2) + 1;
    if (running.length - 1 < quorum) return;
    const victim = this.random.pick(running);
    victim.crash();
    this.crashes++;
    this.world.schedule(this.options.restartAfterMs, victim.name, "crash-loop:restart", 0, () =>
      this.restart(victim),
    );
  }

  private restart(member: RaftMember): void {
    this.cycles++;
    member.restart();
  }
}
