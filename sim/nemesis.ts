// The nemesis turns a scenario's fault list into events on the world: each occurrence starts at its
// time (repeating with `every` plus jitter), resolves its targets at that moment (the leader then,
// a random follower then), applies the fault, and undoes it after `for`. At faultsEndMs everything
// is healed so the liveness window starts from a whole cluster. Random choices use the "faults" stream.
import { unreachable } from "../src/lib/assert.js";
import type { FailpointName } from "../src/lib/failpoints.js";
import type { Prng } from "../src/lib/prng.js";
import type { CrashMode, SimDiskFaults } from "./disk.js";
import type { OneWayCut, SimNetwork } from "./net.js";
import type {
  DiskFault,
  Fault,
  FaultAction,
  MemberChange,
  PartitionShape,
  Scenario,
  Target,
} from "./scenario.js";
import { digestWords, hashString } from "./trace-hash.js";
import type { World } from "./world.js";

/** What the nemesis can do to a cluster; member names are "m1".."mN". */
export interface NemesisCluster {
  readonly names: readonly string[];
  leaderName(): string | undefined;
  isDown(name: string): boolean;
  /** `how` only for members on disks (the schema refuses it otherwise). */
  crash(name: string, how?: CrashHow): void;
  restart(name: string): void;
  pause(name: string): void;
  resume(name: string): void;
  drift(name: string, rate: number): void;
  readonly network: SimNetwork<unknown>;
  /** Members on simulated disks; undefined in memory storage (the schema refuses disk faults). */
  readonly durable: DurableControls | undefined;
  /** KV clusters: compacts at the current revision minus a little; undefined for Raft alone. */
  readonly compact: (() => string) | undefined;
  /** Membership changes (member faults); undefined: the cluster cannot change its membership. */
  readonly membership: MembershipControls | undefined;
}

/**
 * How a membership change ended, reported when it does ("ok", "gave up after 4 tries (...)"):
 * KV clusters report each change; Raft-only clusters offer theirs and report nothing.
 */
export type ChangeOutcome = (outcome: string) => void;

/**
 * Membership changes: Raft-only clusters propose them through the current leader (offered again
 * while dropped); KV clusters make them through the Cluster API as an operator does (one at a
 * time, retried on failure or timeout).
 */
export interface MembershipControls {
  /** Adds a member with a fresh id, as a learner or a voter; the name it gets. */
  add(asLearner: boolean, settle: ChangeOutcome): string;
  /** The most recently added learner not yet promoted or removed, if any. */
  newestLearner(): string | undefined;
  promote(name: string, settle: ChangeOutcome): void;
  remove(name: string, settle: ChangeOutcome): void;
  /** Removes the member, wipes its data and adds a new member on its machine (KV clusters). */
  replace(name: string, settle: ChangeOutcome): void;
}

/** How a crash of a member on a disk treats what it wrote but did not fsync. */
export interface CrashHow {
  /** false: only the process dies (the page cache survives and is written back). */
  readonly loseUnsynced: boolean;
  /** undefined: drawn from the member's disk stream. */
  readonly mode: CrashMode | undefined;
}

/** What the nemesis can do to members that live on simulated disks. */
export interface DurableControls {
  /** The member crashes the next time it passes `point`; its supervisor restarts it after `restartAfterMs` (default: the cluster's). */
  crashAt(name: string, point: FailpointName, restartAfterMs: number | undefined): void;
  /** The member's next pass of `point` waits `forMs`. */
  stallAt(name: string, point: FailpointName, forMs: number): void;
  disarm(name: string, point: FailpointName): void;
  /** The member's disk fault knobs now; `configure` changes them from now on. */
  diskFaults(name: string): SimDiskFaults;
  configureDisk(name: string, faults: Partial<SimDiskFaults>): void;
  /** Bytes in the member's files (the base of an ENOSPC limit). */
  usedBytes(name: string): number;
  /** Flips a random bit at rest in the (down) member's data files; the file hit, if any. */
  flipBitAtRest(name: string): string | undefined;
  /** KV only: the member rewrites its storage files (Maintenance.Defragment). */
  defragment(name: string): void;
}

function crashHow(action: Extract<FaultAction, { kind: "crash" }>): CrashHow | undefined {
  if (action.loseUnsynced === undefined && action.mode === undefined) return undefined;
  return { loseUnsynced: action.loseUnsynced ?? true, mode: action.mode };
}

/** A disk fault's knobs as SimDisk fault settings; ENOSPC leaves `enospcBytes` free from now. */
function diskKnobs(f: DiskFault, usedBytes: number): Partial<SimDiskFaults> {
  const eio = f.eioRate;
  return {
    ...(f.slowFsyncMs === undefined ? {} : { fsyncMs: f.slowFsyncMs }),
    ...(eio === undefined ? {} : { readErrorRate: eio, writeErrorRate: eio, fsyncErrorRate: eio }),
    ...(f.enospcBytes === undefined ? {} : { capacityBytes: usedBytes + f.enospcBytes }),
  };
}

/** One fault occurrence as it happened, for reports. */
export interface FaultWindow {
  readonly kind: FaultAction["kind"];
  readonly description: string;
  readonly startMs: number;
  endMs: number | undefined;
  /** A membership change's outcome, once known (KV clusters); the window then ends there. */
  outcome?: string;
}

export class Nemesis {
  readonly windows: FaultWindow[] = [];
  private readonly random: Prng;
  private readonly undo = new Set<() => void>();
  /** The fault being applied (stall-at takes its length from the fault's `for`). */
  private current: Fault | undefined;

  constructor(
    private readonly world: World,
    private readonly cluster: NemesisCluster,
    private readonly scenario: Scenario,
  ) {
    this.random = world.stream("faults");
  }

  /** Schedules every fault of the scenario and the final heal. */
  start(): void {
    for (const fault of this.scenario.faults) this.scheduleOccurrence(fault, fault.atMs);
    this.world.schedule(this.scenario.faultsEndMs, "nemesis", "heal-all", 0, () => this.healAll());
  }

  private scheduleOccurrence(fault: Fault, atMs: number): void {
    const end = this.scenario.faultsEndMs;
    if (atMs >= end || (fault.forMs !== undefined && atMs + fault.forMs > end)) return;
    const kind = `fault:${fault.action.kind}`;
    this.world.schedule(
      atMs - this.world.nowMs,
      "nemesis",
      kind,
      digestWords(hashString(kind), atMs),
      () => {
        this.begin(fault);
        if (fault.everyMs !== undefined) {
          const jitter = fault.jitterMs > 0 ? this.random.int(0, fault.jitterMs) : 0;
          this.scheduleOccurrence(fault, this.world.nowMs + fault.everyMs + jitter);
        }
      },
    );
  }

  private begin(fault: Fault): void {
    this.current = fault;
    // A membership change settles later: its outcome (one per member it names) ends the window.
    const outcomes: string[] = [];
    const opened: { window?: FaultWindow } = {};
    const settle = (outcome: string): void => {
      outcomes.push(outcome);
      if (opened.window === undefined) return;
      opened.window.outcome = outcomes.join("; ");
      opened.window.endMs = this.world.nowMs;
    };
    const { description, revert } = this.apply(fault.action, settle);
    this.current = undefined;
    const window: FaultWindow = {
      kind: fault.action.kind,
      description,
      startMs: this.world.nowMs,
      endMs: outcomes.length === 0 ? undefined : this.world.nowMs,
      ...(outcomes.length === 0 ? {} : { outcome: outcomes.join("; ") }),
    };
    opened.window = window;
    this.windows.push(window);
    const finish = (): void => {
      if (!this.undo.delete(finish)) return;
      revert();
      if (window.outcome === undefined) window.endMs = this.world.nowMs;
    };
    this.undo.add(finish);
    const forMs = fault.action.kind === "crash" ? fault.action.restartAfterMs : fault.forMs;
    // An admin operation is over once issued: its window is a point.
    const kind = fault.action.kind;
    if (kind === "compact" || kind === "defragment" || kind === "member") return finish();
    if (forMs !== undefined)
      this.world.schedule(forMs, "nemesis", `end:${fault.action.kind}`, 0, finish);
  }

  private healAll(): void {
    for (const finish of [...this.undo]) finish();
    const network = this.cluster.network;
    network.heal();
    network.unclogAll();
    network.setAllLinks(this.scenario.network);
  }

  private apply(
    action: FaultAction,
    settle: ChangeOutcome,
  ): { description: string; revert: () => void } {
    const c = this.cluster;
    switch (action.kind) {
      case "partition":
        return this.partition(action.shape);
      case "network": {
        const net = c.network;
        net.setAllLinks({ ...this.scenario.network, ...action.link });
        return {
          description: `network ${JSON.stringify(action.link)}`,
          revert: () => net.setAllLinks(this.scenario.network),
        };
      }
      case "clog": {
        const names = this.resolve(action.target);
        const links = names.flatMap((n) =>
          c.names.filter((o) => o !== n).flatMap((o) => [[n, o] as const, [o, n] as const]),
        );
        for (const [a, b] of links) c.network.clog(a, b);
        return {
          description: `clog ${names.join(",")}`,
          revert: () => links.forEach(([a, b]) => c.network.unclog(a, b)),
        };
      }
      case "crash": {
        const names = this.resolve(action.target).filter((n) => !c.isDown(n));
        const how = crashHow(action);
        for (const n of names) c.crash(n, how);
        return {
          description: `crash ${names.join(",")}`,
          revert: () => names.forEach((n) => c.restart(n)),
        };
      }
      case "pause": {
        const names = this.resolve(action.target);
        for (const n of names) c.pause(n);
        return {
          description: `pause ${names.join(",")}`,
          revert: () => names.forEach((n) => c.resume(n)),
        };
      }
      case "clock-drift": {
        const names = this.resolve(action.target);
        for (const n of names) c.drift(n, action.rate);
        return {
          description: `clock-drift ${names.join(",")} x${action.rate}`,
          revert: () => names.forEach((n) => c.drift(n, 1)),
        };
      }
      case "crash-at":
      case "stall-at":
      case "disk":
      case "defragment":
        return this.durableFault(action, this.durableControls(action.kind));
      case "member":
        return { description: this.memberChange(action.change, settle), revert: () => undefined };
      case "compact": {
        const compact = c.compact;
        if (compact === undefined) throw new Error("compact: the cluster has no KV store");
        return { description: compact(), revert: () => undefined };
      }
      default:
        return unreachable(action, "fault");
    }
  }

  /**
   * Starts a membership change; its description (the members it names, as resolved now). Each
   * member named reports its outcome through `settle`, prefixed with its name.
   */
  private memberChange(change: MemberChange, settle: ChangeOutcome): string {
    const m = this.cluster.membership;
    if (m === undefined) throw new Error("member: the cluster has no membership controls");
    const per =
      (name: string): ChangeOutcome =>
      (outcome) =>
        settle(`${name}: ${outcome}`);
    switch (change.op) {
      case "add-learner":
      case "add-voter": {
        const asLearner = change.op === "add-learner";
        let name = "";
        name = m.add(asLearner, (outcome) => settle(`${name}: ${outcome}`));
        return `member ${change.op} ${name}`;
      }
      case "promote": {
        const names =
          change.target === "newest-learner"
            ? [m.newestLearner()].filter((n) => n !== undefined)
            : this.resolve(change.target);
        for (const n of names) m.promote(n, per(n));
        return `member promote ${names.join(",") || "(no learner)"}`;
      }
      case "remove": {
        const names = this.resolve(change.target);
        for (const n of names) m.remove(n, per(n));
        return `member remove ${names.join(",")}`;
      }
      case "replace": {
        const names = this.resolve(change.target);
        for (const n of names) m.replace(n, per(n));
        return `member replace ${names.join(",")}`;
      }
      default:
        return unreachable(change, "member change");
    }
  }

  private durableControls(kind: string): DurableControls {
    const durable = this.cluster.durable;
    if (durable === undefined) throw new Error(`${kind}: the cluster's members are not on disks`);
    return durable;
  }

  private durableFault(
    action: Extract<FaultAction, { kind: "crash-at" | "stall-at" | "disk" | "defragment" }>,
    d: DurableControls,
  ): { description: string; revert: () => void } {
    const names = this.resolve(action.target);
    const who = names.join(",");
    switch (action.kind) {
      case "crash-at": {
        for (const n of names) d.crashAt(n, action.failpoint, action.restartAfterMs);
        return {
          description: `crash-at ${action.failpoint} ${who}`,
          // Not reached by the end of the fault: the point stops waiting (a crash already done stays).
          revert: () => names.forEach((n) => d.disarm(n, action.failpoint)),
        };
      }
      case "stall-at": {
        const forMs = this.stallMs();
        for (const n of names) d.stallAt(n, action.failpoint, forMs);
        return {
          description: `stall-at ${action.failpoint} ${who} for ${forMs}ms`,
          revert: () => names.forEach((n) => d.disarm(n, action.failpoint)),
        };
      }
      case "disk":
        return this.diskFault(names, action.disk, d);
      case "defragment":
        for (const n of names) if (!this.cluster.isDown(n)) d.defragment(n);
        return { description: `defragment ${who}`, revert: () => undefined };
      default:
        return unreachable(action, "durable fault");
    }
  }

  /** The stall of the stall-at fault now beginning (its `for`). */
  private stallMs(): number {
    const current = this.current;
    if (current?.forMs === undefined) throw new Error("stall-at without for");
    return current.forMs;
  }

  /**
   * Slow fsync, EIO and ENOSPC change the disks' knobs until the fault ends. Corruption flips a
   * bit at rest: a running member is crashed first (files change under a live process only on a
   * broken disk, which the read-bit-flip knob models) and restarted when the fault ends.
   */
  private diskFault(
    names: readonly string[],
    f: DiskFault,
    d: DurableControls,
  ): { description: string; revert: () => void } {
    const before = new Map(names.map((n) => [n, d.diskFaults(n)]));
    for (const n of names) d.configureDisk(n, diskKnobs(f, d.usedBytes(n)));
    const crashed = f.corrupt ? names.filter((n) => !this.cluster.isDown(n)) : [];
    for (const n of crashed) this.cluster.crash(n, { loseUnsynced: true, mode: undefined });
    const flipped = f.corrupt ? names.map((n) => `${n}:${d.flipBitAtRest(n) ?? "no file"}`) : [];
    const knobs = JSON.stringify(f);
    return {
      description: `disk ${names.join(",")} ${knobs}${flipped.length > 0 ? ` flipped ${flipped.join(" ")}` : ""}`,
      revert: () => {
        for (const [n, faults] of before) d.configureDisk(n, faults);
        for (const n of crashed) this.cluster.restart(n);
      },
    };
  }

  private partition(shape: PartitionShape): { description: string; revert: () => void } {
    const net = this.cluster.network;
    const all = this.cluster.names;
    let cuts: OneWayCut[];
    let description: string;
    switch (shape.type) {
      case "random": {
        const order = this.random.shuffle(all);
        const at = this.random.int(1, Math.max(1, order.length - 1));
        const groups = [order.slice(0, at), order.slice(at)];
        cuts = net.split(groups);
        description = `partition ${groups.map((g) => g.join(",")).join(" | ")}`;
        break;
      }
      case "isolate": {
        const isolated = this.resolve(shape.target);
        const rest = all.filter((n) => !isolated.includes(n));
        cuts = net.split([isolated, rest]);
        description = `isolate ${isolated.join(",")}`;
        break;
      }
      case "groups": {
        const groups = shape.groups.map((g) => [...new Set(g.flatMap((t) => this.resolve(t)))]);
        cuts = net.split(groups);
        description = `partition ${groups.map((g) => g.join(",")).join(" | ")}`;
        break;
      }
      case "one-way": {
        const from = this.resolve(shape.from);
        const to = this.resolve(shape.to).filter((n) => !from.includes(n));
        cuts = from.flatMap((a) => to.map((b): OneWayCut => [a, b]));
        for (const [a, b] of cuts) net.cutOneWay(a, b);
        description = `cut ${from.join(",")} -> ${to.join(",")}`;
        break;
      }
      case "bridge": {
        const order = this.random.shuffle(all);
        const [bridge, ...rest] = order as [string, ...string[]];
        const half = Math.ceil(rest.length / 2);
        const left = rest.slice(0, half);
        const right = rest.slice(half);
        cuts = net.bridge(left, right, bridge);
        description = `bridge ${left.join(",")} <${bridge}> ${right.join(",")}`;
        break;
      }
      default:
        return unreachable(shape, "partition shape");
    }
    return { description, revert: () => net.restore(cuts) };
  }

  /** Resolves a target to member names at this moment. */
  resolve(target: Target): string[] {
    const all = this.cluster.names;
    const leader = this.cluster.leaderName();
    const followers = all.filter((n) => n !== leader);
    switch (target) {
      case "leader":
        return [leader ?? this.random.pick(all)];
      case "follower":
      case "random-follower":
        return [this.random.pick(followers.length > 0 ? followers : all)];
      case "random":
        return [this.random.pick(all)];
      case "minority":
        return this.random.shuffle(all).slice(0, Math.floor((all.length - 1) / 2));
      case "majority":
        return this.random.shuffle(all).slice(0, Math.floor(all.length / 2) + 1);
      case "all":
        return [...all];
      default:
        return [typeof target === "number" ? `m${target}` : target];
    }
  }
}
