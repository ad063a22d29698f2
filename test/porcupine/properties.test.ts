// Properties: a sequential execution stretched into overlapping call/return windows is always
// linearizable; one read changed to a never-written value makes it illegal; unknown outcomes are
// accepted whether the operation took effect or not. fast-check prints the seed on failure.
import { fc, test } from "@fast-check/vitest";
import { describe, expect } from "vitest";
import {
  applyEtcd,
  casRegisterModel,
  check,
  emptyEtcdState,
  etcdModel,
  kvModel,
  type CasRegisterInput,
  type CasRegisterOutput,
  type EtcdInput,
  type EtcdOutput,
  type EtcdState,
  type KvInput,
  type KvOutput,
  type Operation,
  type RegisterValue,
} from "../../src/porcupine/index.js";
import { combineHash, mix32 } from "../../src/porcupine/hash.js";
import { sameEtcdState } from "../../src/porcupine/models/etcd.js";

/** Each step: a client, and how far its call and return stretch around its linearization point. */
const windows = (length: number) =>
  fc.array(
    fc.record({
      clientId: fc.nat(5),
      before: fc.integer({ min: 1, max: 60 }),
      after: fc.integer({ min: 1, max: 60 }),
    }),
    {
      minLength: length,
      maxLength: length,
    },
  );

/** Operation i takes effect at time 10*i + 5, inside [call, return]. */
function stretch<I, O>(
  steps: { input: I; output: O }[],
  w: { clientId: number; before: number; after: number }[],
): Operation<I, O>[] {
  return steps.map((s, i) => {
    const point = 10 * i + 5;
    const win = w[i] ?? { clientId: 0, before: 1, after: 1 };
    return {
      clientId: win.clientId,
      input: s.input,
      output: s.output,
      call: point - win.before,
      return: point + win.after,
    };
  });
}

type RegStep = { input: CasRegisterInput; output: CasRegisterOutput };

/** A sequential run of the register; write values are unique (the step index). */
const registerRun = fc
  .array(fc.constantFrom("read", "write", "cas"), { minLength: 1, maxLength: 24 })
  .chain((kinds) =>
    fc
      .tuple(
        fc.constant(kinds),
        fc.array(fc.nat(30), { minLength: kinds.length, maxLength: kinds.length }),
      )
      .map(([ks, picks]) => {
        let value: RegisterValue = null;
        const written: number[] = [];
        return ks.map((kind, i): RegStep => {
          switch (kind) {
            case "read":
              return { input: { kind: "read" }, output: { kind: "read", value } };
            case "write":
              value = i;
              written.push(i);
              return { input: { kind: "write", value: i }, output: { kind: "write" } };
            default: {
              // Half the time compare against the current value so that some cas succeed.
              const from =
                (picks[i] ?? 0) % 2 === 0
                  ? value
                  : (written[(picks[i] ?? 0) % (written.length || 1)] ?? null);
              const ok = from === value;
              if (ok) value = 1000 + i;
              return { input: { kind: "cas", from, to: 1000 + i }, output: { kind: "cas", ok } };
            }
          }
        });
      }),
  );

const withWindows = <T>(run: fc.Arbitrary<T[]>) =>
  run.chain((steps) => fc.tuple(fc.constant(steps), windows(steps.length)));

describe("register properties", () => {
  test.prop([withWindows(registerRun)])("stretched sequential runs are ok", ([steps, w]) => {
    expect(check(casRegisterModel, stretch(steps, w)).result).toBe("ok");
  });

  test.prop([withWindows(registerRun), fc.nat()])(
    "a read of a never-written value is illegal",
    ([steps, w], pick) => {
      const reads = steps.flatMap((s, i) => (s.input.kind === "read" ? [i] : []));
      fc.pre(reads.length > 0);
      const target = reads[pick % reads.length] as number;
      const changed = steps.map((s, i): RegStep =>
        i === target ? { ...s, output: { kind: "read", value: -1 } } : s,
      );
      const report = check(casRegisterModel, stretch(changed, w));
      expect(report.result).toBe("illegal");
    },
  );

  test.prop([withWindows(registerRun), fc.array(fc.boolean())])(
    "writes with unknown outcome that did apply are ok",
    ([steps, w], drop) => {
      const ops = stretch(steps, w).map((op, i): Operation<CasRegisterInput, CasRegisterOutput> =>
        op.input.kind !== "read" && drop[i]
          ? { clientId: op.clientId, input: op.input, call: op.call }
          : op,
      );
      expect(check(casRegisterModel, ops).result).toBe("ok");
    },
  );

  test.prop([withWindows(registerRun), fc.nat()])(
    "an unknown write that never applied is ok",
    ([steps, w], at) => {
      const ops = stretch(steps, w);
      const call = (at % (ops.length + 1)) * 10;
      ops.push({ clientId: 9, input: { kind: "write", value: -5 }, call });
      expect(check(casRegisterModel, ops).result).toBe("ok");
    },
  );

  test.prop([withWindows(registerRun)])("the search is deterministic", ([steps, w]) => {
    const ops = stretch(steps, w);
    expect(check(casRegisterModel, ops)).toEqual(check(casRegisterModel, ops));
  });
});

type KvStep = { input: KvInput; output: KvOutput };
const kvRun = fc
  .array(fc.tuple(fc.constantFrom("get", "put", "append"), fc.constantFrom("a", "b", "c")), {
    minLength: 1,
    maxLength: 30,
  })
  .map((cmds) => {
    const store = new Map<string, string>();
    return cmds.map(([kind, key], i): KvStep => {
      const value = store.get(key) ?? "";
      if (kind === "get") return { input: { kind: "get", key }, output: { kind: "get", value } };
      const next = kind === "put" ? `<${i}>` : `${value}<${i}>`;
      store.set(key, next);
      return {
        input: { kind, key, value: kind === "put" ? `<${i}>` : `<${i}>` },
        output: { kind: "done" },
      };
    });
  });

describe("kv properties", () => {
  test.prop([withWindows(kvRun)])("stretched sequential runs are ok", ([steps, w]) => {
    expect(check(kvModel, stretch(steps, w)).result).toBe("ok");
  });
  test.prop([withWindows(kvRun), fc.nat()])(
    "a get of a never-written value is illegal",
    ([steps, w], pick) => {
      const gets = steps.flatMap((s, i) => (s.input.kind === "get" ? [i] : []));
      fc.pre(gets.length > 0);
      const target = gets[pick % gets.length] as number;
      const changed = steps.map((s, i): KvStep =>
        i === target ? { ...s, output: { kind: "get", value: "never" } } : s,
      );
      expect(check(kvModel, stretch(changed, w)).result).toBe("illegal");
    },
  );
});

type EtcdStep = { input: EtcdInput; output: EtcdOutput };
const etcdCommand = fc.oneof(
  fc.record({ type: fc.constant("put" as const), key: fc.constantFrom("a", "b", "c") }),
  fc.record({
    type: fc.constant("range" as const),
    key: fc.constantFrom("a", "b", "c"),
    all: fc.boolean(),
  }),
  fc.record({ type: fc.constant("delete-range" as const), key: fc.constantFrom("a", "b", "c") }),
  fc.record({
    type: fc.constant("txn" as const),
    key: fc.constantFrom("a", "b", "c"),
    mod: fc.nat(6),
  }),
);
/** A sequential etcd run with unique put values; responses come from the model's own apply. */
const etcdRun = fc.array(etcdCommand, { minLength: 1, maxLength: 20 }).map((cmds) => {
  let state: EtcdState = emptyEtcdState;
  return cmds.map((c, i): EtcdStep => {
    const input: EtcdInput =
      c.type === "put"
        ? { type: "put", key: c.key, value: `v${i}` }
        : c.type === "range"
          ? c.all
            ? { type: "range", key: "a", range_end: "\0" }
            : { type: "range", key: c.key }
          : c.type === "delete-range"
            ? { type: "delete-range", key: c.key }
            : {
                type: "txn",
                compare: [{ target: "mod", result: "equal", key: c.key, mod_revision: c.mod }],
                success: [{ type: "put", key: c.key, value: `v${i}` }],
                failure: [{ type: "range", key: c.key }],
              };
    const applied = applyEtcd(state, input);
    state = applied.state;
    return { input, output: applied.response };
  });
});

/** Puts (some with a lease), deletes, lease grants and revokes on a few keys and leases. */
const leaseCommand: fc.Arbitrary<EtcdInput> = fc.oneof(
  fc.record({
    type: fc.constant("put" as const),
    key: fc.constantFrom("a", "b", "c"),
    value: fc.uuid(),
    lease: fc.constantFrom(0, 1, 2),
  }),
  fc.record({ type: fc.constant("delete-range" as const), key: fc.constantFrom("a", "b", "c") }),
  fc.record({
    type: fc.constant("lease-grant" as const),
    id: fc.constantFrom(1, 2),
    ttl: fc.integer({ min: 1, max: 100 }),
  }),
  fc.record({ type: fc.constant("lease-revoke" as const), id: fc.constantFrom(1, 2) }),
);

/** The state hash summed over every key and lease again, as the model computed it before. */
function hashFromScratch(state: EtcdState): number {
  let hash = combineHash(mix32(state.revision), state.compactRevision);
  for (const version of state.keys.values()) hash = (hash + version.hash) | 0;
  for (const [id, ttl] of state.leases) hash = (hash + combineHash(mix32(id), ttl)) | 0;
  if (state.auth.enabled || !state.auth.writerCanWrite) {
    hash = combineHash(hash, (state.auth.enabled ? 2 : 0) + (state.auth.writerCanWrite ? 1 : 0));
  }
  return hash;
}

describe("etcd model properties", () => {
  test.prop([fc.array(leaseCommand, { minLength: 1, maxLength: 30 })])(
    "a state's hash equals one computed from scratch at every step, leases included",
    (inputs) => {
      let state: EtcdState = emptyEtcdState;
      for (const input of inputs) {
        state = applyEtcd(state, input).state;
        expect(state.hash).toBe(hashFromScratch(state));
      }
    },
  );
  test("states reached by different lease steps hash alike", () => {
    const grant = (s: EtcdState, id: number) =>
      applyEtcd(s, { type: "lease-grant", id, ttl: 60 }).state;
    const viaRevoke = applyEtcd(grant(grant(emptyEtcdState, 1), 2), {
      type: "lease-revoke",
      id: 1,
    }).state;
    const direct = grant(emptyEtcdState, 2);
    expect(sameEtcdState(viaRevoke, direct)).toBe(true);
    expect(viaRevoke.hash).toBe(direct.hash);
    expect(viaRevoke.hash).not.toBe(grant(emptyEtcdState, 3).hash);
  });
  test.prop([withWindows(etcdRun)])("stretched sequential runs are ok", ([steps, w]) => {
    expect(check(etcdModel, stretch(steps, w)).result).toBe("ok");
  });
  test.prop([withWindows(etcdRun), fc.array(fc.boolean())])(
    "writes with unknown outcome that applied are ok",
    ([steps, w], drop) => {
      const ops = stretch(steps, w).map((op, i): Operation<EtcdInput, EtcdOutput> =>
        op.input.type !== "range" && drop[i]
          ? { clientId: op.clientId, input: op.input, call: op.call }
          : op,
      );
      expect(check(etcdModel, ops).result).toBe("ok");
    },
  );
  test.prop([withWindows(etcdRun), fc.nat()])(
    "a range showing a never-written value is illegal",
    ([steps, w], pick) => {
      const reads = steps.flatMap((s, i) =>
        s.output.type === "range" && s.output.kvs.length > 0 ? [i] : [],
      );
      fc.pre(reads.length > 0);
      const target = reads[pick % reads.length] as number;
      const changed = steps.map((s, i): EtcdStep => {
        if (i !== target || s.output.type !== "range") return s;
        return {
          ...s,
          output: { ...s.output, kvs: s.output.kvs.map((kv) => ({ ...kv, value: "never" })) },
        };
      });
      expect(check(etcdModel, stretch(changed, w)).result).toBe("illegal");
    },
  );
});
