// Named points in the engine where a test or the simulator can crash or stall a member at a precise
// moment (etcd's gofail points, without code generation). The engine passes through a point with
// `pass(name, next)`; when nothing is armed that costs one Map size check and a direct call.
import { assert, unreachable } from "./assert.js";

/**
 * The engine's failpoints. Raft/apply/send points are passed by the member; WAL, snapshot and
 * defragment points by src/storage; compaction points by the mvcc compaction of the member.
 */
export const FAILPOINT_NAMES = [
  // The member's Ready loop (src/server).
  "raftBeforeSave",
  "raftAfterSave",
  "raftBeforeLeaderSend",
  "raftAfterLeaderSend",
  "raftBeforeFollowerSend",
  "raftAfterFollowerSend",
  "beforeApply",
  "afterApply",
  "raftBeforeApplySnap",
  "raftAfterApplySnap",
  // src/storage: snapshot files (raft's or the member's own), the WAL, log compaction, defragment.
  "raftBeforeSaveSnap",
  "raftAfterSaveSnap",
  "walBeforeFsync",
  "walAfterFsync",
  "walBeforeRotate",
  "walAfterRotate",
  "compactBeforeReleaseWal",
  "compactAfterReleaseWal",
  "compactBeforePurgeSnap",
  "compactAfterPurgeSnap",
  "defragBeforeRename",
  "defragAfterRename",
  // The mvcc compaction steps of the member (etcd's scheduled/finished compact revisions).
  "compactBeforeCommitScheduledCompact",
  "compactAfterCommitScheduledCompact",
  "compactBeforeSetFinishedCompact",
  "compactAfterSetFinishedCompact",
] as const;

export type FailpointName = (typeof FAILPOINT_NAMES)[number];

export function isFailpointName(name: string): name is FailpointName {
  return (FAILPOINT_NAMES as readonly string[]).includes(name);
}

/** What happens at an armed point. */
export type FailpointAction =
  /** The member dies here: the continuation never runs (the owner's crash hook does the rest). */
  | { readonly kind: "crash" }
  /** The continuation runs `forMs` later on the member's timers. */
  | { readonly kind: "stall"; readonly forMs: number }
  /** The operation fails: the point's error path runs with this message. */
  | { readonly kind: "error"; readonly message: string };

export interface FailpointArming {
  readonly action: FailpointAction;
  /** Passes to let through before the action fires (0 = the next pass). */
  readonly skipHits?: number;
  /** How many times the action fires before the point disarms itself (default: forever). */
  readonly times?: number;
}

/** How a failpoint reaches its owner: the simulator's member host, or the real process. */
export interface FailpointHooks {
  /** Called once when a crash point fires, before `pass` returns. Must stop the member. */
  crash(name: FailpointName): void;
  /** Runs `next` after `delayMs` on the member's timers (never synchronously). */
  delay(delayMs: number, next: () => void): void;
}

/** An injected failure reported to the point's error path. */
export class FailpointError extends Error {
  override name = "FailpointError";
  constructor(
    readonly point: FailpointName,
    message: string,
  ) {
    super(`failpoint ${point}: ${message}`);
  }
}

interface Armed {
  readonly action: FailpointAction;
  skip: number;
  remaining: number;
}

/**
 * The registry of one member. Contract: `pass` calls `next` synchronously when the point is not
 * armed (so an unarmed point changes no ordering), never after a crash fired, and once per pass
 * otherwise. Arming is done by the simulator or a test between events, never by the engine.
 */
export class Failpoints {
  private readonly armed = new Map<FailpointName, Armed>();
  private readonly hitCounts = new Map<FailpointName, number>();
  private countHits = false;

  constructor(private readonly hooks?: FailpointHooks) {}

  arm(name: FailpointName, arming: FailpointArming): void {
    const times = arming.times ?? Number.POSITIVE_INFINITY;
    assert(times > 0, () => `failpoint ${name} armed for ${times} times`);
    if (arming.action.kind === "crash" || arming.action.kind === "stall") {
      assert(
        this.hooks !== undefined,
        () => `failpoint ${name}: ${arming.action.kind} needs hooks`,
      );
    }
    this.armed.set(name, { action: arming.action, skip: arming.skipHits ?? 0, remaining: times });
  }

  disarm(name: FailpointName): void {
    this.armed.delete(name);
  }

  disarmAll(): void {
    this.armed.clear();
  }

  /** Starts counting passes of every point (tests that enumerate reachable points use this). */
  trackHits(): void {
    this.countHits = true;
  }

  hits(name: FailpointName): number {
    return this.hitCounts.get(name) ?? 0;
  }

  /**
   * True while no point is armed and passes are not counted: every `pass` then just runs `next`,
   * so a caller may do its work directly instead of building continuations for `pass`.
   */
  get quiet(): boolean {
    return this.armed.size === 0 && !this.countHits;
  }

  /**
   * Passes the point: runs `next` now, later (stall), never (crash), or runs `fail` (error; a
   * point without an error path treats it as a bug and throws).
   */
  pass(name: FailpointName, next: () => void, fail?: (error: FailpointError) => void): void {
    if (this.quiet) {
      next();
      return;
    }
    const action = this.fire(name);
    if (action === undefined) {
      next();
      return;
    }
    this.perform(name, action, next, fail);
  }

  private fire(name: FailpointName): FailpointAction | undefined {
    if (this.countHits) this.hitCounts.set(name, this.hits(name) + 1);
    const armed = this.armed.get(name);
    if (armed === undefined) return undefined;
    if (armed.skip > 0) {
      armed.skip--;
      return undefined;
    }
    armed.remaining--;
    if (armed.remaining <= 0) this.armed.delete(name);
    return armed.action;
  }

  private perform(
    name: FailpointName,
    action: FailpointAction,
    next: () => void,
    fail: ((error: FailpointError) => void) | undefined,
  ): void {
    const hooks = this.hooks;
    switch (action.kind) {
      case "crash":
        hooks?.crash(name);
        return;
      case "stall":
        hooks?.delay(action.forMs, next);
        return;
      case "error": {
        const error = new FailpointError(name, action.message);
        if (fail === undefined) throw error;
        fail(error);
        return;
      }
      default:
        unreachable(action, "failpoint action");
    }
  }
}

/** A registry with nothing armed and no hooks: what production code passes when nobody injects. */
export function noFailpoints(): Failpoints {
  return new Failpoints();
}
