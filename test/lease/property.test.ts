// Properties of the lessor over random command sequences (fast-check prints the seed and the
// shrunk sequence on failure):
// - determinism: the replicated entries a leader produces, applied in log order to the leader, to a
//   follower and to a member that keeps restarting from snapshots, give identical results and
//   identical state, whatever the leader did locally (keepalives, time passing);
// - model: a primary lessor answers every command as the naive model of model.ts does.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { NO_LEASE, type LeaseId } from "../../src/api/kv.js";
import type { LeaseCheckpoint } from "../../src/api/lease-internal.js";
import type { Result } from "../../src/lib/result.js";
import type { EtcdError } from "../../src/api/errors.js";
import { decodeLessorState, encodeLessorState, type Lessor } from "../../src/lease/index.js";
import { deleteEvent, FakeClock, newLessor, putEvent, showAttachments, texts } from "./helpers.js";
import {
  LessorModel,
  MODEL_CHECKPOINT_INTERVAL_MS,
  MODEL_MAX_TTL_SECONDS,
  MODEL_RETRY_MS,
  type ModelOutcome,
} from "./model.js";

const IDS: LeaseId[] = [1n, 2n, 3n, -4n, 2n ** 62n];
const KEYS = ["a", "b", "c", "a\xff"];
const TTLS = [-1, 0, 1, 2, 3, 5, 30, MODEL_MAX_TTL_SECONDS, MODEL_MAX_TTL_SECONDS + 1];

type Command =
  | { type: "grant"; id: LeaseId; ttlSeconds: number }
  | { type: "revoke"; id: LeaseId }
  | { type: "checkpoint"; id: LeaseId; remaining: number }
  | { type: "put"; key: string; lease: LeaseId }
  | { type: "delete"; key: string }
  | { type: "advance"; ms: number }
  | { type: "keepAlive"; id: LeaseId }
  | { type: "expire" }
  | { type: "checkpointsDue" }
  | { type: "reelect"; extendMs: number }
  | { type: "snapshot" };

const id = fc.constantFrom(...IDS);
const key = fc.constantFrom(...KEYS);
const command: fc.Arbitrary<Command> = fc.oneof(
  fc.record({ type: fc.constant("grant"), id, ttlSeconds: fc.constantFrom(...TTLS) }),
  fc.record({ type: fc.constant("revoke"), id }),
  fc.record({ type: fc.constant("checkpoint"), id, remaining: fc.integer({ min: 0, max: 40 }) }),
  fc.record({ type: fc.constant("put"), key, lease: fc.constantFrom(NO_LEASE, ...IDS) }),
  fc.record({ type: fc.constant("delete"), key }),
  fc.record({ type: fc.constant("advance"), ms: fc.integer({ min: 0, max: 8_000 }) }),
  fc.record({ type: fc.constant("keepAlive"), id }),
  fc.constant<Command>({ type: "expire" }),
  fc.constant<Command>({ type: "checkpointsDue" }),
  fc.record({
    type: fc.constant("reelect"),
    extendMs: fc.constantFrom(0, 1_000, 2_500, 4_000, 6_000),
  }),
  fc.constant<Command>({ type: "snapshot" }),
);
const commands = fc.array(command, { maxLength: 60 });

/** A committed Raft entry that touches the lessor. */
type Entry =
  | { type: "grant"; id: LeaseId; ttlSeconds: number }
  | { type: "revoke"; id: LeaseId }
  | { type: "checkpoint"; checkpoints: LeaseCheckpoint[] }
  | { type: "put"; key: string; lease: LeaseId }
  | { type: "delete"; key: string };

function outcome<T>(r: Result<T, EtcdError>): unknown {
  return r.ok ? { ok: r.value } : { error: r.error.name };
}

/** Applies one entry as a member does; returns what a client would be told. */
function apply(lessor: Lessor, e: Entry): unknown {
  switch (e.type) {
    case "grant":
      return outcome(lessor.applyGrant(e.id, e.ttlSeconds));
    case "revoke": {
      const r = lessor.applyRevoke(e.id);
      return r.ok ? { keys: texts(r.value.keys) } : { error: r.error.name };
    }
    case "checkpoint":
      return lessor.applyCheckpoint({ checkpoints: e.checkpoints });
    case "put":
      return lessor.applyKvEvents([putEvent(e.key, e.lease)]);
    case "delete":
      return lessor.applyKvEvents([deleteEvent(e.key)]);
  }
}

const config = {
  checkpointIntervalMs: MODEL_CHECKPOINT_INTERVAL_MS,
  expiredRetryMs: MODEL_RETRY_MS,
};

/** The entries the leader proposes for one command (leader-local commands change it in place). */
function entriesFor(leader: Lessor, clock: FakeClock, c: Command): Entry[] {
  switch (c.type) {
    case "grant":
    case "revoke":
    case "delete":
      return [c];
    case "checkpoint":
      return [{ type: "checkpoint", checkpoints: [{ ID: c.id, remaining_TTL: c.remaining }] }];
    case "put":
      // The kv store refuses a put naming a lease that does not exist.
      return c.lease === NO_LEASE || leader.has(c.lease) ? [c] : [];
    case "advance":
      clock.advance(c.ms);
      return [];
    case "keepAlive": {
      const r = leader.keepAlive(c.id);
      const reset = r.ok ? r.value.resetCheckpoint : undefined;
      return reset === undefined ? [] : [{ type: "checkpoint", checkpoints: [reset] }];
    }
    case "expire":
      return leader.expiredLeases().map((id) => ({ type: "revoke", id }));
    case "checkpointsDue":
      return [{ type: "checkpoint", checkpoints: leader.checkpointsDue() }];
    case "reelect":
      leader.demote();
      leader.promote(c.extendMs);
      return [];
    case "snapshot":
      return [];
  }
}

function replicatedView(lessor: Lessor): unknown {
  return { state: lessor.exportState(), attachments: showAttachments(lessor.attachments()) };
}

function restarted(from: Lessor): Lessor {
  const decoded = decodeLessorState(encodeLessorState(from.exportState()));
  if (!decoded.ok) throw new Error(decoded.error);
  const fresh = newLessor(new FakeClock(), config);
  fresh.restore(decoded.value, from.attachments());
  return fresh;
}

describe("lessor properties", () => {
  it("applying the same entries in the same order gives the same state on every member", () => {
    fc.assert(
      fc.property(commands, (cmds) => {
        const clock = new FakeClock();
        const leader = newLessor(clock, config);
        leader.promote(0);
        const follower = newLessor(new FakeClock(), config);
        let restarting = newLessor(new FakeClock(), config);
        for (const c of cmds) {
          if (c.type === "snapshot") restarting = restarted(restarting);
          for (const e of entriesFor(leader, clock, c)) {
            const answers = [leader, follower, restarting].map((l) => apply(l, e));
            expect(answers[1]).toEqual(answers[0]);
            expect(answers[2]).toEqual(answers[0]);
          }
          expect(replicatedView(follower)).toEqual(replicatedView(leader));
          expect(replicatedView(restarting)).toEqual(replicatedView(leader));
        }
        for (const l of [leader, follower, restarting]) l.checkInvariants();
      }),
      { numRuns: 300 },
    );
  });

  it("a primary lessor answers as the naive model does", () => {
    fc.assert(
      fc.property(commands, (cmds) => {
        const clock = new FakeClock();
        const lessor = newLessor(clock, {
          ...config,
          revokeBatchLimit: 1_000,
          checkpointBatchLimit: 1_000,
        });
        lessor.promote(0);
        const model = new LessorModel();
        for (const c of cmds) {
          step(lessor, clock, model, c);
          expect(lessor.leases()).toEqual(model.ids());
          expect(showAttachments(lessor.attachments())).toEqual(model.attachments());
          for (const i of IDS) expect(ttlOf(lessor, i)).toEqual(model.timeToLive(i));
          lessor.checkInvariants();
        }
      }),
      { numRuns: 300 },
    );
  });
});

function ttlOf(lessor: Lessor, id: LeaseId): ModelOutcome<number> {
  const r = lessor.timeToLive(id);
  return r.ok ? { ok: true, value: r.value.ttlSeconds } : { ok: false, error: r.error.name };
}

function nameOf<T>(r: Result<T, EtcdError>): ModelOutcome<T> {
  return r.ok ? { ok: true, value: r.value } : { ok: false, error: r.error.name };
}

/** Runs one command on the lessor and the model and compares the answers. */
function step(lessor: Lessor, clock: FakeClock, model: LessorModel, c: Command): void {
  switch (c.type) {
    case "grant": {
      const r = nameOf(lessor.applyGrant(c.id, c.ttlSeconds));
      expect(r.ok ? { ok: true, value: r.value.ttlSeconds } : r).toEqual(
        model.grant(c.id, c.ttlSeconds),
      );
      return;
    }
    case "revoke": {
      const r = nameOf(lessor.applyRevoke(c.id));
      expect(r.ok ? { ok: true, value: texts(r.value.keys) } : r).toEqual(model.revoke(c.id));
      return;
    }
    case "checkpoint":
      lessor.applyCheckpoint({ checkpoints: [{ ID: c.id, remaining_TTL: c.remaining }] });
      return model.checkpoint(c.id, c.remaining);
    case "put":
      if (c.lease !== NO_LEASE && !lessor.has(c.lease)) return;
      lessor.applyKvEvents([putEvent(c.key, c.lease)]);
      return model.put(c.key, c.lease);
    case "delete":
      lessor.applyKvEvents([deleteEvent(c.key)]);
      return model.delete(c.key);
    case "advance":
      clock.advance(c.ms);
      model.now += c.ms;
      return;
    case "keepAlive": {
      const r = nameOf(lessor.keepAlive(c.id));
      const mine = r.ok
        ? {
            ok: true,
            value: { ttl: r.value.ttlSeconds, reset: r.value.resetCheckpoint !== undefined },
          }
        : r;
      expect(mine).toEqual(model.keepAlive(c.id));
      return;
    }
    case "expire":
      expect(lessor.expiredLeases()).toEqual(model.expired());
      return;
    case "checkpointsDue":
      expect(lessor.checkpointsDue()).toEqual(model.checkpointsDue());
      return;
    case "reelect":
      lessor.demote();
      lessor.promote(c.extendMs);
      return model.reelect(c.extendMs);
    case "snapshot":
      expect(decodeLessorState(encodeLessorState(lessor.exportState()))).toEqual({
        ok: true,
        value: lessor.exportState(),
      });
      return;
  }
}
