// fast-check arbitraries for the client requests of the KV, Lease, Cluster and Maintenance services,
// as EtcdClient takes them: valid and invalid mixed (empty keys, reversed and open ranges, enum
// numbers no proto names, values near and over the request limit, txns too wide, too deep or with
// colliding writes, ids of leases and members that do not exist).
import fc from "fast-check";
import type {
  MemberPromoteRequest,
  MemberRemoveRequest,
  MemberUpdateRequest,
} from "../../../src/api/cluster.js";
import type { AlarmAction, AlarmRequest, AlarmType } from "../../../src/api/maintenance.js";
import type {
  CompactionRequest,
  Compare,
  CompareResult,
  DeleteRangeRequest,
  HashKVRequest,
  LeaseGrantRequest,
  LeaseRevokeRequest,
  LeaseTimeToLiveRequest,
  PutRequest,
  RangeRequest,
  RequestOp,
  SortOrder,
  SortTarget,
  TxnRequest,
} from "../../../src/api/rpc.js";
import { prefixEnd, utf8 } from "../../../src/lib/bytes.js";

/** The server limits the arbitraries aim at (the members run with these flags). */
export interface FuzzLimits {
  readonly maxRequestBytes: number;
  readonly maxTxnOps: number;
  /** Leases granted before the fuzz with a long TTL, so puts can attach to them. */
  readonly leasePool: readonly bigint[];
  /** Member ids of the cluster: never removed, updated or promoted by the fuzz. */
  readonly memberIds: readonly bigint[];
}

export type FuzzOp =
  | { readonly m: "range"; readonly req: RangeRequest }
  | { readonly m: "put"; readonly req: PutRequest }
  | { readonly m: "deleteRange"; readonly req: DeleteRangeRequest }
  | { readonly m: "txn"; readonly req: TxnRequest }
  | { readonly m: "compact"; readonly req: CompactionRequest }
  | { readonly m: "hashKV"; readonly req: HashKVRequest }
  | { readonly m: "leaseGrant"; readonly req: LeaseGrantRequest }
  | { readonly m: "leaseRevoke"; readonly req: LeaseRevokeRequest }
  | { readonly m: "leaseTimeToLive"; readonly req: LeaseTimeToLiveRequest }
  | { readonly m: "leaseLeases" }
  | { readonly m: "memberRemove"; readonly req: MemberRemoveRequest }
  | { readonly m: "memberUpdate"; readonly req: MemberUpdateRequest }
  | { readonly m: "memberPromote"; readonly req: MemberPromoteRequest }
  | { readonly m: "memberList" }
  | { readonly m: "alarm"; readonly req: AlarmRequest }
  | { readonly m: "status" };

export type FuzzMethod = FuzzOp["m"];

const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);

// ---- keys and ranges -------------------------------------------------------------------------------

/** A small key space, so writes collide, ranges cover them and txns repeat keys. */
const NAMED_KEYS: readonly Uint8Array[] = [
  utf8("a"),
  utf8("a/1"),
  utf8("a/2"),
  utf8("b"),
  utf8("b/x"),
  utf8("c"),
  Uint8Array.of(0),
  Uint8Array.of(0xff),
  Uint8Array.of(0xff, 0xff),
];

export const keyArb: fc.Arbitrary<Uint8Array> = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom(...NAMED_KEYS) },
  { weight: 1, arbitrary: fc.constant(new Uint8Array(0)) },
  { weight: 2, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 6 }) },
);

/** A key that is never empty (for writes meant to pass the request checks). */
const nonEmptyKeyArb = keyArb.filter((k) => k.length > 0);

/** range_end for `key`: absent, empty (one key), "\0" (from key), the prefix end, any key. */
function rangeEndArb(key: Uint8Array): fc.Arbitrary<Uint8Array | undefined> {
  return fc.oneof(
    fc.constant(undefined),
    fc.constant(new Uint8Array(0)),
    fc.constant(Uint8Array.of(0)),
    fc.constant(prefixEnd(key)),
    keyArb,
  );
}

const keyAndEndArb: fc.Arbitrary<{ key: Uint8Array; range_end?: Uint8Array }> = keyArb.chain(
  (key) => rangeEndArb(key).map((end) => (end === undefined ? { key } : { key, range_end: end })),
);

// ---- numbers ---------------------------------------------------------------------------------------

/** Revisions around what a run reaches, plus zero, negatives and far futures. */
export const revisionArb: fc.Arbitrary<number> = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: -3, max: 400 }) },
  { weight: 1, arbitrary: fc.constantFrom(-1, 0, 2 ** 31, 2 ** 32 + 1, Number.MAX_SAFE_INTEGER) },
  { weight: 1, arbitrary: fc.constant(-Number.MAX_SAFE_INTEGER) },
);

const limitArb = fc.oneof(
  fc.constant(0),
  fc.integer({ min: -3, max: 5 }),
  fc.constantFrom(Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER),
);

/** An int64 lease id: none, pool leases, small, random over the whole range, beyond 2^53. */
function leaseIdArb(limits: FuzzLimits): fc.Arbitrary<bigint> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.constant(0n) },
    { weight: 4, arbitrary: fc.constantFrom(...limits.leasePool) },
    { weight: 1, arbitrary: fc.bigInt({ min: -5n, max: 50n }) },
    { weight: 1, arbitrary: fc.bigInt({ min: INT64_MIN, max: INT64_MAX }) },
    { weight: 1, arbitrary: fc.constantFrom(2n ** 53n + 1n, INT64_MAX, INT64_MIN) },
  );
}

/** A uint64 member id that is not one of the cluster's. */
function unknownMemberIdArb(limits: FuzzLimits): fc.Arbitrary<bigint> {
  return fc
    .oneof(
      fc.constant(0n),
      fc.bigInt({ min: 1n, max: 600n }),
      fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
      fc.constantFrom(2n ** 53n + 1n, 2n ** 64n - 1n),
    )
    .filter((id) => !limits.memberIds.includes(id));
}

/** A proto enum value: one of the names, or a number the enum does not define. */
function enumArb<T extends string>(names: readonly T[], bad: readonly number[]): fc.Arbitrary<T> {
  return fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...names) },
    { weight: 1, arbitrary: fc.constantFrom(...bad.map((n) => String(n) as T)) },
  );
}

// ---- values ----------------------------------------------------------------------------------------

/** Small values mostly; now and then one a few hundred bytes either side of the request limit. */
function valueArb(limits: FuzzLimits): fc.Arbitrary<Uint8Array> {
  const large = fc
    .tuple(
      fc.integer({ min: limits.maxRequestBytes - 400, max: limits.maxRequestBytes + 400 }),
      fc.integer({ min: 0, max: 255 }),
    )
    .map(([n, fill]) => new Uint8Array(n).fill(fill));
  return fc.oneof(
    { weight: 10, arbitrary: fc.uint8Array({ maxLength: 12 }) },
    { weight: 1, arbitrary: large },
  );
}

// ---- KV requests -----------------------------------------------------------------------------------

const SORT_ORDERS: readonly SortOrder[] = ["NONE", "ASCEND", "DESCEND"];
const SORT_TARGETS: readonly SortTarget[] = ["KEY", "VERSION", "CREATE", "MOD", "VALUE"];

function optional<T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> {
  return fc.option(arb, { nil: undefined, freq: 2 });
}

/** Drops undefined members, so requests carry only the fields that were drawn. */
function defined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

export const rangeArb: fc.Arbitrary<RangeRequest> = fc
  .record({
    where: keyAndEndArb,
    limit: optional(limitArb),
    revision: optional(revisionArb),
    sort_order: optional(enumArb(SORT_ORDERS, [3, 7, -1])),
    sort_target: optional(enumArb(SORT_TARGETS, [5, 99, -2])),
    serializable: optional(fc.boolean()),
    keys_only: optional(fc.boolean()),
    count_only: optional(fc.boolean()),
    min_mod_revision: optional(revisionArb),
    max_mod_revision: optional(revisionArb),
    min_create_revision: optional(revisionArb),
    max_create_revision: optional(revisionArb),
  })
  .map(({ where, ...rest }) => defined({ ...where, ...rest }));

function putArb(limits: FuzzLimits): fc.Arbitrary<PutRequest> {
  return fc
    .record({
      key: keyArb,
      value: optional(valueArb(limits)),
      lease: optional(leaseIdArb(limits)),
      prev_kv: optional(fc.boolean()),
      ignore_value: optional(fc.boolean()),
      ignore_lease: optional(fc.boolean()),
    })
    .map(defined);
}

const deleteArb: fc.Arbitrary<DeleteRangeRequest> = fc
  .record({ where: keyAndEndArb, prev_kv: optional(fc.boolean()) })
  .map(({ where, prev_kv }) => defined({ ...where, prev_kv }));

const COMPARE_RESULTS: readonly CompareResult[] = ["EQUAL", "GREATER", "LESS", "NOT_EQUAL"];

function compareArb(limits: FuzzLimits): fc.Arbitrary<Compare> {
  const base = fc.record({
    result: enumArb(COMPARE_RESULTS, [4, 9, -1]),
    where: keyAndEndArb,
  });
  const operand = fc.oneof(
    optional(fc.integer({ min: -2, max: 8 })).map((version) =>
      defined({ target: "VERSION" as const, version }),
    ),
    optional(revisionArb).map((create_revision) =>
      defined({ target: "CREATE" as const, create_revision }),
    ),
    optional(revisionArb).map((mod_revision) => defined({ target: "MOD" as const, mod_revision })),
    optional(valueArb(limits)).map((value) => defined({ target: "VALUE" as const, value })),
    optional(leaseIdArb(limits)).map((lease) => defined({ target: "LEASE" as const, lease })),
    // A target number the enum does not define, with or without an operand.
    fc
      .constantFrom("5", "11", "-3")
      .chain((target) =>
        fc
          .option(fc.integer({ min: 0, max: 5 }), { nil: undefined })
          .map((version) => defined({ target: target as "VERSION", version })),
      ),
  );
  return fc
    .tuple(base, operand)
    .map(([{ result, where }, op]) => ({ result, ...where, ...op }) as Compare);
}

/** A request op; `depth` bounds how deep nested txns go. */
function opArb(limits: FuzzLimits, depth: number): fc.Arbitrary<RequestOp> {
  const flat: fc.Arbitrary<RequestOp>[] = [
    rangeArb.map((request_range) => ({ request: "request_range" as const, request_range })),
    putArb(limits).map((request_put) => ({ request: "request_put" as const, request_put })),
    deleteArb.map((request_delete_range) => ({
      request: "request_delete_range" as const,
      request_delete_range,
    })),
  ];
  if (depth <= 0) return fc.oneof(...flat);
  return fc.oneof(
    ...flat,
    smallTxnArb(limits, depth - 1).map((request_txn) => ({
      request: "request_txn" as const,
      request_txn,
    })),
  );
}

function smallTxnArb(limits: FuzzLimits, depth: number): fc.Arbitrary<TxnRequest> {
  return fc
    .record({
      compare: optional(fc.array(compareArb(limits), { maxLength: 3 })),
      success: optional(fc.array(opArb(limits, depth), { maxLength: 3 })),
      failure: optional(fc.array(opArb(limits, depth), { maxLength: 3 })),
    })
    .map(defined);
}

/** Around --max-txn-ops operations of distinct keys: valid up to the limit, TooManyOps beyond. */
function wideTxnArb(limits: FuzzLimits): fc.Arbitrary<TxnRequest> {
  const n = fc.integer({ min: limits.maxTxnOps - 1, max: limits.maxTxnOps + 2 });
  return fc
    .tuple(n, fc.constantFrom("compare", "success", "failure"), fc.nat({ max: 1000 }))
    .map(([count, where, salt]) => {
      const keys = Array.from({ length: count }, (_, i) => utf8(`w/${salt}/${i}`));
      if (where === "compare") {
        return {
          compare: keys.map((key) => ({ result: "EQUAL", target: "VERSION", key, version: 0 })),
        } satisfies TxnRequest;
      }
      const ops: RequestOp[] = keys.map((key) => ({
        request: "request_put",
        request_put: { key, value: utf8(String(salt)) },
      }));
      return where === "success" ? { success: ops } : { failure: ops };
    });
}

/**
 * A chain of txns nested `depth` deep (etcd lets a nested txn use what its parent leaves of
 * --max-txn-ops, so a chain of single ops may nest almost that deep), with one write or read at
 * the bottom.
 */
function deepTxnArb(limits: FuzzLimits): fc.Arbitrary<TxnRequest> {
  return fc
    .tuple(fc.integer({ min: 1, max: limits.maxTxnOps + 1 }), opArb(limits, 0), fc.boolean())
    .map(([depth, bottom, inFailure]) => {
      let txn: TxnRequest = inFailure ? { failure: [bottom] } : { success: [bottom] };
      for (let i = 1; i < depth; i++) {
        const op: RequestOp = { request: "request_txn", request_txn: txn };
        txn = inFailure
          ? {
              compare: [{ result: "EQUAL", target: "VERSION", key: utf8("a"), version: -1 }],
              failure: [op],
            }
          : { success: [op] };
      }
      return txn;
    });
}

/**
 * Two writes of one key in a branch: two puts, a put under a delete that covers it, or the same put
 * in a nested txn and beside it (etcd: "duplicate key given in txn request").
 */
function duplicateTxnArb(limits: FuzzLimits): fc.Arbitrary<TxnRequest> {
  return fc
    .tuple(nonEmptyKeyArb, valueArb(limits), fc.nat({ max: 3 }), fc.boolean())
    .map(([key, value, shape, inFailure]) => {
      const put: RequestOp = { request: "request_put", request_put: { key, value } };
      const ops: RequestOp[] = [
        [put, put],
        [
          {
            request: "request_delete_range",
            request_delete_range: { key, range_end: prefixEnd(key) },
          },
          put,
        ],
        [{ request: "request_txn", request_txn: { success: [put] } }, put],
        [{ request: "request_delete_range", request_delete_range: { key } }, put],
      ][shape] as RequestOp[];
      return inFailure ? { failure: ops } : { success: ops };
    });
}

function txnArb(limits: FuzzLimits): fc.Arbitrary<TxnRequest> {
  return fc.oneof(
    { weight: 8, arbitrary: smallTxnArb(limits, 2) },
    { weight: 1, arbitrary: duplicateTxnArb(limits) },
    { weight: 1, arbitrary: wideTxnArb(limits) },
    { weight: 1, arbitrary: deepTxnArb(limits) },
  );
}

// ---- Lease, Cluster and Maintenance requests -------------------------------------------------------

function leaseGrantArb(limits: FuzzLimits): fc.Arbitrary<LeaseGrantRequest> {
  return fc
    .record({
      TTL: fc.oneof(
        fc.integer({ min: -5, max: 5 }),
        fc.constantFrom(3600, 9_000_000_000, 9_000_000_001, Number.MAX_SAFE_INTEGER),
        fc.constant(-Number.MAX_SAFE_INTEGER),
      ),
      ID: optional(leaseIdArb(limits)),
    })
    .map(defined);
}

const peerURLsArb: fc.Arbitrary<string[]> = fc.array(
  fc.oneof(
    fc.constantFrom("http://127.0.0.1:1", "https://[::1]:2380", "unix://sock", "", "ftp://x:1"),
    fc.string({ maxLength: 12 }),
  ),
  { maxLength: 3 },
);

const ALARM_ACTIONS: readonly AlarmAction[] = ["GET", "ACTIVATE", "DEACTIVATE"];
const ALARM_TYPES: readonly AlarmType[] = ["NONE", "NOSPACE", "CORRUPT"];

function alarmArb(limits: FuzzLimits): fc.Arbitrary<AlarmRequest> {
  return fc
    .record({
      action: optional(enumArb(ALARM_ACTIONS, [3, 8, -1])),
      memberID: optional(
        fc.oneof(
          fc.constant(0n),
          fc.constantFrom(...limits.memberIds),
          fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
          fc.constantFrom(2n ** 32n - 1n, 2n ** 32n, 2n ** 53n + 1n),
        ),
      ),
      alarm: optional(enumArb(ALARM_TYPES, [3, 6, -4])),
    })
    .map(defined);
}

/** Any one request, weighted towards the KV service. */
export function fuzzOpArb(limits: FuzzLimits): fc.Arbitrary<FuzzOp> {
  const unknownId = unknownMemberIdArb(limits);
  return fc.oneof(
    { weight: 6, arbitrary: rangeArb.map((req) => ({ m: "range" as const, req })) },
    { weight: 8, arbitrary: putArb(limits).map((req) => ({ m: "put" as const, req })) },
    { weight: 3, arbitrary: deleteArb.map((req) => ({ m: "deleteRange" as const, req })) },
    { weight: 6, arbitrary: txnArb(limits).map((req) => ({ m: "txn" as const, req })) },
    {
      weight: 1,
      arbitrary: fc
        .record({ revision: revisionArb, physical: optional(fc.boolean()) })
        .map((r) => ({ m: "compact" as const, req: defined(r) })),
    },
    {
      weight: 1,
      arbitrary: optional(revisionArb).map((revision) => ({
        m: "hashKV" as const,
        req: defined({ revision }),
      })),
    },
    {
      weight: 2,
      arbitrary: leaseGrantArb(limits).map((req) => ({ m: "leaseGrant" as const, req })),
    },
    {
      weight: 1,
      arbitrary: leaseIdArb(limits).map((ID) => ({ m: "leaseRevoke" as const, req: { ID } })),
    },
    {
      weight: 1,
      arbitrary: fc
        .record({ ID: leaseIdArb(limits), keys: optional(fc.boolean()) })
        .map((r) => ({ m: "leaseTimeToLive" as const, req: defined(r) })),
    },
    { weight: 1, arbitrary: fc.constant({ m: "leaseLeases" as const }) },
    { weight: 1, arbitrary: unknownId.map((ID) => ({ m: "memberRemove" as const, req: { ID } })) },
    {
      weight: 1,
      arbitrary: fc
        .record({ ID: unknownId, peerURLs: peerURLsArb })
        .map((req) => ({ m: "memberUpdate" as const, req })),
    },
    { weight: 1, arbitrary: unknownId.map((ID) => ({ m: "memberPromote" as const, req: { ID } })) },
    { weight: 1, arbitrary: fc.constant({ m: "memberList" as const }) },
    { weight: 2, arbitrary: alarmArb(limits).map((req) => ({ m: "alarm" as const, req })) },
    { weight: 1, arbitrary: fc.constant({ m: "status" as const }) },
  );
}
