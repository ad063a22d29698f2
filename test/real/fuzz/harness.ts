// Shared pieces of the fuzz tests: members started in this process with a watch on everything
// that would mean a crash (uncaught exceptions, unhandled rejections, fatal storage stops, internal
// errors in the log), and the sequence runner that sends requests, judges answers and keeps the
// model.
import { expect } from "vitest";
import type { AlarmMember } from "../../../src/api/maintenance.js";
import type { KeyValue } from "../../../src/api/kv.js";
import type { EtcdClient } from "../../../src/real/grpc/client.js";
import { DetcdServer } from "../../../src/real/server/detcd-server.js";
import { configOf, memoryLogger } from "../server/helpers.js";
import type { FuzzLimits, FuzzOp } from "./arbitraries.js";
import { checkFailure, checkSuccess, KvModel, send, show } from "./check.js";

/**
 * Deadline of every fuzzed call. A member answers every request within its request timeout (7 s;
 * etcd's "request timed out" when a proposal was lost to a leader change), so a call still
 * unanswered at this deadline hangs.
 */
export const CALL_DEADLINE_MS = 10_000;

/** Everything that would mean the server crashed or hit a bug of its own. */
export class CrashWatch {
  readonly uncaught: unknown[] = [];
  readonly fatal: string[] = [];
  private readonly logs: string[][] = [];
  private readonly onUncaught = (e: unknown): void => void this.uncaught.push(e);

  install(): void {
    process.on("uncaughtException", this.onUncaught);
    process.on("unhandledRejection", this.onUncaught);
  }

  uninstall(): void {
    process.off("uncaughtException", this.onUncaught);
    process.off("unhandledRejection", this.onUncaught);
  }

  async start(flags: string[]): Promise<DetcdServer> {
    const { log, lines } = memoryLogger();
    this.logs.push(lines);
    return DetcdServer.start({
      config: configOf(flags),
      log,
      onFatal: (reason) => void this.fatal.push(reason),
    });
  }

  /** Log lines of internal errors (a request the server failed on by its own fault). */
  internalErrors(): string[] {
    return this.logs.flat().filter((l) => /internal error|"level":(50|60)/.test(l));
  }

  expectNothing(): void {
    expect(this.uncaught.map(String)).toEqual([]);
    expect(this.fatal).toEqual([]);
    expect(this.internalErrors()).toEqual([]);
  }
}

/** Sends `ops` one after another, judging every answer and keeping the model. */
export class Runner {
  readonly counts = { ok: 0, failed: 0 };
  readonly errorsSeen = new Map<string, number>();
  private lastRevision = 0;

  constructor(
    private readonly clientOf: () => EtcdClient,
    readonly limits: FuzzLimits,
    readonly model: KvModel,
    /** Responses come from one member, so their revisions never go back. */
    private readonly monotonic: boolean,
    /** Looked at after every answer: a crash fails the sequence that caused it. */
    private readonly watch: CrashWatch,
  ) {}

  async run(ops: readonly FuzzOp[]): Promise<void> {
    for (const op of ops) {
      const client = this.clientOf();
      const outcome = await send(client, op, CALL_DEADLINE_MS);
      const problems: string[] = [];
      if (outcome.ok) {
        this.counts.ok++;
        problems.push(...checkSuccess(op, outcome.value, this.limits));
        if (problems.length === 0) problems.push(...this.model.applied(op, outcome.value));
        const revision = (outcome.value as { header?: { revision: number } }).header?.revision ?? 0;
        if (this.monotonic && revision < this.lastRevision)
          problems.push(`${op.m}: revision ${revision} after ${this.lastRevision}`);
        this.lastRevision = Math.max(this.lastRevision, revision);
      } else {
        this.counts.failed++;
        const name = outcome.error.etcd?.name ?? outcome.error.details.slice(0, 40);
        this.errorsSeen.set(name, (this.errorsSeen.get(name) ?? 0) + 1);
        problems.push(...checkFailure(op, outcome.error, this.limits));
      }
      problems.push(...this.watch.uncaught.map((e) => `uncaught: ${String(e)}`));
      problems.push(...this.watch.fatal.map((e) => `fatal: ${e}`));
      if (problems.length > 0) {
        const answer = outcome.ok
          ? show(outcome.value)
          : `${outcome.error.code} ${outcome.error.details}`;
        throw new Error(
          `${problems.join("; ")}\nrequest to ${client.endpoint}: ${show(op)}\nanswer: ${answer.slice(0, 2000)}`,
        );
      }
    }
  }

  /** Clears raised NOSPACE alarms (they refuse writes), so the next sequence can write again. */
  async clearNoSpace(client: EtcdClient): Promise<void> {
    const { alarms } = await client.alarm({ action: "GET", alarm: "NOSPACE" });
    for (const a of alarms) {
      await client.alarm({ action: "DEACTIVATE", memberID: a.memberID, alarm: a.alarm });
    }
  }
}

/** Every key of the store at `revision` (0: the current one). */
export async function everything(
  client: EtcdClient,
  revision = 0,
): Promise<{ revision: number; kvs: KeyValue[] }> {
  const r = await client.range({ key: Uint8Array.of(0), range_end: Uint8Array.of(0), revision });
  return { revision: r.header.revision, kvs: r.kvs };
}

export function sortedAlarms(alarms: readonly AlarmMember[]): string[] {
  return alarms.map((a) => `${a.memberID}:${a.alarm}`).sort();
}
