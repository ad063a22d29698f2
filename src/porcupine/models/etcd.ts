// The etcd model used to check the harness's histories: range (also at a past revision), put,
// delete, txn, leases and compaction, with every response checked exactly (header revision,
// create/mod revisions, versions, leases, counts); and auth, as the auth workload uses it: root
// enables and disables auth and gives or takes the writer's WRITE; while auth is enabled an
// anonymous request is refused (user-empty), a writer's write is refused without WRITE
// (permission-denied), and a named user's checked request may fail with auth-old-revision (its
// credentials were taken before an auth change). Compaction and lease grants are never checked; a
// lease revoke only when keys are attached, as etcd checks WRITE on them.
//
// Why no partitioning: every write bumps one global revision and every response carries it, so
// operations on different keys constrain each other; splitting per key would accept histories
// whose revisions cannot be ordered (unsound). State sets are kept small in two other ways:
//   - Unknown outcomes fork the state into "applied" and "not applied", but the harness writes
//     unique values, so the first later read of that key keeps only the branch that shows (or
//     does not show) the value, and the powerset view drops duplicate states. A fork therefore
//     lives only until the key is next read.
//   - `resolveUnknownWrites` (etcd-resolve.ts) rewrites, before the search, an unknown write whose
//     unique value some response showed into "persisted at revision R" with a return time no later
//     than that response: no fork at all, and a much shorter window to search.
//
// Reads at a past revision need each key's history. A state keeps, per key, its newest version
// linked to the older ones (a persistent list): a step shares every older version with its parent
// state, so a write costs one new node, and a read at revision R walks back to the newest version
// at or below R. Deletions are versions too (tombstones). Two states are equal when their lists
// hold the same versions; comparison stops as soon as both lists reach the same shared node.
import { combineHash, hashString, mix32 } from "../hash.js";
import type { NondeterministicModel } from "../types.js";
import type {
  AuthRequest,
  Compare,
  DeleteRangeRequest,
  DeleteRangeResponse,
  EtcdError,
  EtcdErrorCode,
  EtcdInput,
  EtcdOutput,
  EtcdResponse,
  KeyValue,
  PutRequest,
  PutResponse,
  RangeRequest,
  RangeResponse,
  RequestOp,
  ResponseOp,
  TxnRequest,
} from "./etcd-types.js";

/** One version of a key: its value, or a tombstone (`kv` undefined) at `revision`. */
export interface KeyVersion {
  readonly kv: KeyValue | undefined;
  readonly revision: number;
  readonly prev: KeyVersion | undefined;
  /** Hash of this version and all older ones. */
  readonly hash: number;
}

/** The store as the model sees it. Immutable: steps build new states sharing unchanged parts. */
export interface EtcdState {
  readonly revision: number;
  readonly compactRevision: number;
  /** Every key ever written (deleted ones end in a tombstone), to its newest version. */
  readonly keys: ReadonlyMap<string, KeyVersion>;
  /** Live leases: id to granted TTL in seconds. Attached keys are found through `kv.lease`. */
  readonly leases: ReadonlyMap<number, number>;
  readonly auth: AuthModelState;
  readonly hash: number;
  /** Sums (int32) of every key's version hash and of every lease's hash, kept as steps go. */
  readonly keysHash: number;
  readonly leasesHash: number;
}

/** The auth store as the auth workload shapes it. */
export interface AuthModelState {
  readonly enabled: boolean;
  /** The writer's role has READWRITE on the workload's keys (else READ). */
  readonly writerCanWrite: boolean;
}

const AUTH_OFF: AuthModelState = { enabled: false, writerCanWrite: true };

type Outcome = EtcdResponse | EtcdError;

function fail(error: EtcdErrorCode): EtcdError {
  return { type: "error", error };
}

function versionHash(key: string, kv: KeyValue | undefined, revision: number, prev?: KeyVersion) {
  let h = hashString(key, kv === undefined ? -revision : hashString(kv.value));
  if (kv !== undefined) {
    h = combineHash(h, kv.create_revision);
    h = combineHash(h, kv.mod_revision);
    h = combineHash(h, kv.version);
    h = combineHash(h, kv.lease);
  }
  return combineHash(prev?.hash ?? 0, h);
}

function leaseHash(id: number, ttl: number): number {
  return combineHash(mix32(id), ttl);
}

/**
 * A state from its parts. `keysHash` and `leasesHash` are the sums of the version and lease
 * hashes (sums keep the hash independent of map order, and a step adjusts them for what it
 * changed instead of summing every key again).
 */
function makeState(
  revision: number,
  compactRevision: number,
  keys: ReadonlyMap<string, KeyVersion>,
  leases: ReadonlyMap<number, number>,
  auth: AuthModelState,
  keysHash: number,
  leasesHash: number,
): EtcdState {
  let hash = (combineHash(mix32(revision), compactRevision) + keysHash + leasesHash) | 0;
  if (auth.enabled || !auth.writerCanWrite) {
    hash = combineHash(hash, (auth.enabled ? 2 : 0) + (auth.writerCanWrite ? 1 : 0));
  }
  return { revision, compactRevision, keys, leases, auth, hash, keysHash, leasesHash };
}

export const emptyEtcdState: EtcdState = makeState(1, 0, new Map(), new Map(), AUTH_OFF, 0, 0);

function inRange(key: string, start: string, end: string | undefined): boolean {
  if (end === undefined) return key === start;
  if (end === "\0") return key >= start;
  return key >= start && key < end;
}

/** The key's value as of `revision` (newest version at or below it), or undefined. */
function valueAt(version: KeyVersion | undefined, revision: number): KeyValue | undefined {
  let v = version;
  while (v !== undefined && v.revision > revision) v = v.prev;
  return v?.kv;
}

/**
 * Copy-on-write view used while applying one request: writes go to fresh maps, and `commit`
 * returns the base state itself when nothing was written (so equal states stay identical).
 */
class Draft {
  private keys: Map<string, KeyVersion> | undefined;
  private leases: Map<number, number> | undefined;
  private keysHash: number;
  private leasesHash: number;
  wrote = false;
  constructor(readonly base: EtcdState) {
    this.keysHash = base.keysHash;
    this.leasesHash = base.leasesHash;
  }

  get writeRevision(): number {
    return this.base.revision + 1;
  }
  entries(): Iterable<[string, KeyVersion]> {
    return (this.keys ?? this.base.keys).entries();
  }
  live(key: string): KeyValue | undefined {
    return (this.keys ?? this.base.keys).get(key)?.kv;
  }
  hasLease(id: number): boolean {
    return (this.leases ?? this.base.leases).has(id);
  }
  setKey(key: string, kv: KeyValue | undefined): void {
    this.keys ??= new Map(this.base.keys);
    const prev = this.keys.get(key);
    const revision = this.writeRevision;
    const hash = versionHash(key, kv, revision, prev);
    this.keys.set(key, { kv, revision, prev, hash });
    this.keysHash = (this.keysHash - (prev?.hash ?? 0) + hash) | 0;
    this.wrote = true;
  }
  setLease(id: number, ttl: number | undefined): void {
    this.leases ??= new Map(this.base.leases);
    const old = this.leases.get(id);
    if (old !== undefined) this.leasesHash = (this.leasesHash - leaseHash(id, old)) | 0;
    if (ttl === undefined) this.leases.delete(id);
    else {
      this.leases.set(id, ttl);
      this.leasesHash = (this.leasesHash + leaseHash(id, ttl)) | 0;
    }
  }
  commit(compactRevision = this.base.compactRevision): EtcdState {
    const b = this.base;
    if (!this.wrote && this.leases === undefined && compactRevision === b.compactRevision) return b;
    const revision = this.wrote ? this.writeRevision : b.revision;
    const keys = this.keys ?? b.keys;
    const leases = this.leases ?? b.leases;
    return makeState(
      revision,
      compactRevision,
      keys,
      leases,
      b.auth,
      this.keysHash,
      this.leasesHash,
    );
  }
}

function sortedByKey(kvs: KeyValue[]): KeyValue[] {
  return kvs.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

function applyRange(d: Draft, r: RangeRequest): RangeResponse | EtcdError {
  const revision = r.revision ?? 0;
  if (revision > d.base.revision) return fail("future-revision");
  if (revision > 0 && revision < d.base.compactRevision) return fail("compacted");
  const found: KeyValue[] = [];
  for (const [key, version] of d.entries()) {
    if (!inRange(key, r.key, r.range_end)) continue;
    const kv = revision > 0 ? valueAt(version, revision) : version.kv;
    if (kv !== undefined) found.push(kv);
  }
  const all = sortedByKey(found);
  const limit = r.limit ?? 0;
  const shown = limit > 0 ? all.slice(0, limit) : all;
  const kvs = r.count_only ? [] : r.keys_only ? shown.map((kv) => ({ ...kv, value: "" })) : shown;
  return { type: "range", kvs, count: all.length, more: limit > 0 && all.length > limit };
}

function applyPut(d: Draft, p: PutRequest): PutResponse | EtcdError {
  const lease = p.lease ?? 0;
  if (lease !== 0 && !d.hasLease(lease)) return fail("lease-not-found");
  const prev = d.live(p.key);
  const revision = d.writeRevision;
  d.setKey(p.key, {
    key: p.key,
    value: p.value,
    create_revision: prev?.create_revision ?? revision,
    mod_revision: revision,
    version: (prev?.version ?? 0) + 1,
    lease,
  });
  return p.prev_kv && prev !== undefined ? { type: "put", prev_kv: prev } : { type: "put" };
}

function applyDelete(d: Draft, r: DeleteRangeRequest): DeleteRangeResponse {
  const doomed: KeyValue[] = [];
  for (const [key, version] of d.entries()) {
    if (version.kv !== undefined && inRange(key, r.key, r.range_end)) doomed.push(version.kv);
  }
  sortedByKey(doomed);
  for (const kv of doomed) d.setKey(kv.key, undefined);
  return r.prev_kv
    ? { type: "delete-range", deleted: doomed.length, prev_kvs: doomed }
    : { type: "delete-range", deleted: doomed.length };
}

function applyRequestOp(d: Draft, op: RequestOp): ResponseOp | EtcdError {
  switch (op.type) {
    case "range":
      return applyRange(d, op);
    case "put":
      return applyPut(d, op);
    case "delete-range":
      return applyDelete(d, op);
    default:
      return unreachable(op);
  }
}

/** etcd rejects a branch that writes one key twice (two puts, or a put inside a deleted range). */
function hasDuplicateWrites(ops: readonly RequestOp[]): boolean {
  const puts = ops.filter((op): op is PutRequest => op.type === "put");
  const deletes = ops.filter((op): op is DeleteRangeRequest => op.type === "delete-range");
  const keys = new Set(puts.map((p) => p.key));
  if (keys.size !== puts.length) return true;
  return puts.some((p) => deletes.some((del) => inRange(p.key, del.key, del.range_end)));
}

function compareNumbers(actual: number, expected: number, result: Compare["result"]): boolean {
  switch (result) {
    case "equal":
      return actual === expected;
    case "not_equal":
      return actual !== expected;
    case "greater":
      return actual > expected;
    case "less":
      return actual < expected;
    default:
      return unreachable(result);
  }
}

function compareOne(kv: KeyValue | undefined, c: Compare): boolean {
  switch (c.target) {
    case "value": {
      if (kv === undefined) return false;
      const expected = c.value ?? "";
      const order = kv.value < expected ? -1 : kv.value > expected ? 1 : 0;
      return compareNumbers(order, 0, c.result);
    }
    case "version":
      return compareNumbers(kv?.version ?? 0, c.version ?? 0, c.result);
    case "create":
      return compareNumbers(kv?.create_revision ?? 0, c.create_revision ?? 0, c.result);
    case "mod":
      return compareNumbers(kv?.mod_revision ?? 0, c.mod_revision ?? 0, c.result);
    case "lease":
      return compareNumbers(kv?.lease ?? 0, c.lease ?? 0, c.result);
    default:
      return unreachable(c.target);
  }
}

function compareHolds(state: EtcdState, c: Compare): boolean {
  if (c.range_end === undefined) return compareOne(state.keys.get(c.key)?.kv, c);
  const kvs: KeyValue[] = [];
  for (const [key, version] of state.keys) {
    if (version.kv !== undefined && inRange(key, c.key, c.range_end)) kvs.push(version.kv);
  }
  return kvs.length === 0 ? compareOne(undefined, c) : kvs.every((kv) => compareOne(kv, c));
}

function applyTxn(d: Draft, t: TxnRequest): Outcome {
  if (hasDuplicateWrites(t.success) || hasDuplicateWrites(t.failure)) return fail("duplicate-key");
  const succeeded = t.compare.every((c) => compareHolds(d.base, c));
  const responses: ResponseOp[] = [];
  for (const op of succeeded ? t.success : t.failure) {
    const response = applyRequestOp(d, op);
    if (response.type === "error") return response;
    responses.push(response);
  }
  return { type: "txn", header: { revision: 0 }, succeeded, responses };
}

function applyLeaseRevoke(d: Draft, id: number): Outcome {
  if (!d.hasLease(id)) return fail("lease-not-found");
  const attached: string[] = [];
  for (const [key, version] of d.entries()) if (version.kv?.lease === id) attached.push(key);
  for (const key of attached.sort()) d.setKey(key, undefined);
  d.setLease(id, undefined);
  return { type: "lease-revoke", header: { revision: 0 } };
}

// ---- auth -------------------------------------------------------------------------------------

function hasAttachedKeys(state: EtcdState, lease: number): boolean {
  for (const version of state.keys.values()) if (version.kv?.lease === lease) return true;
  return false;
}

/** Whether etcd checks the request's permissions at all (with auth enabled). */
function isChecked(state: EtcdState, input: Exclude<EtcdInput, AuthRequest>): boolean {
  switch (input.type) {
    case "range":
    case "put":
    case "delete-range":
    case "txn":
      return true;
    case "lease-revoke":
      return hasAttachedKeys(state, input.id);
    case "lease-grant":
    case "compaction":
      return false;
    default:
      return unreachable(input);
  }
}

/** Whether the request needs WRITE (a read-only txn needs READ only). */
function needsWrite(input: Exclude<EtcdInput, AuthRequest>): boolean {
  if (input.type === "range") return false;
  if (input.type !== "txn") return true;
  return [...input.success, ...input.failure].some((op) => op.type !== "range");
}

/** The error auth answers `input` with in `state`, or undefined when it lets it through. */
function authRefusal(state: EtcdState, input: EtcdInput): EtcdErrorCode | undefined {
  if (!state.auth.enabled || input.type === "auth" || !isChecked(state, input)) return undefined;
  const who = input.as ?? "anonymous";
  if (who === "root") return undefined;
  if (who === "anonymous") return "user-empty";
  return needsWrite(input) && !state.auth.writerCanWrite ? "permission-denied" : undefined;
}

/** A named user's checked request, with auth enabled: its credentials may be older. */
function mayBeOldRevision(state: EtcdState, input: EtcdInput): boolean {
  if (!state.auth.enabled || input.type === "auth" || !isChecked(state, input)) return false;
  return input.as === "root" || input.as === "writer";
}

function applyAuth(state: EtcdState, input: AuthRequest): { state: EtcdState; response: Outcome } {
  const a = state.auth;
  const auth: AuthModelState =
    input.change === "enable" || input.change === "disable"
      ? { ...a, enabled: input.change === "enable" }
      : { ...a, writerCanWrite: input.change === "grant-write" };
  const same = auth.enabled === a.enabled && auth.writerCanWrite === a.writerCanWrite;
  const next = same
    ? state
    : makeState(
        state.revision,
        state.compactRevision,
        state.keys,
        state.leases,
        auth,
        state.keysHash,
        state.leasesHash,
      );
  return { state: next, response: { type: "auth", header: { revision: state.revision } } };
}

/** Applies `input` to `state`: the successor and the exact response etcd would give. */
export function applyEtcd(
  state: EtcdState,
  input: EtcdInput,
): { state: EtcdState; response: Outcome } {
  const applied = applyBare(state, input);
  const r = applied.response;
  return r.type === "error"
    ? applied
    : { ...applied, response: withHeader(r, applied.state.revision) };
}

/**
 * applyEtcd without stamping the header: a response that is not an error answers at the
 * successor's revision (the search compares that directly instead of building the response).
 */
function applyBare(state: EtcdState, input: EtcdInput): { state: EtcdState; response: Outcome } {
  if (input.type === "auth") return applyAuth(state, input);
  const refused = authRefusal(state, input);
  if (refused !== undefined) return { state, response: fail(refused) };
  const d = new Draft(state);
  const outcome = applyInput(d, input);
  if (outcome.type === "error") return { state, response: outcome };
  const compactRevision = input.type === "compaction" ? input.revision : state.compactRevision;
  return { state: d.commit(compactRevision), response: outcome };
}

function applyInput(d: Draft, input: EtcdInput): Outcome {
  switch (input.type) {
    case "range":
      return applyRange(d, input);
    case "put":
      return applyPut(d, input);
    case "delete-range":
      return applyDelete(d, input);
    case "txn":
      return applyTxn(d, input);
    case "lease-grant":
      if (d.hasLease(input.id)) return fail("lease-exists");
      d.setLease(input.id, input.ttl);
      return { type: "lease-grant", header: { revision: 0 }, id: input.id, ttl: input.ttl };
    case "lease-revoke":
      return applyLeaseRevoke(d, input.id);
    case "compaction":
      if (input.revision <= d.base.compactRevision) return fail("compacted");
      if (input.revision > d.base.revision) return fail("future-revision");
      return { type: "compaction", header: { revision: 0 } };
    case "auth":
      // applyEtcd handles auth changes before any draft.
      return { type: "auth", header: { revision: 0 } };
    default:
      return unreachable(input);
  }
}

function withHeader(response: EtcdResponse, revision: number): EtcdResponse {
  return { ...response, header: { revision } };
}

function sameKv(a: KeyValue | undefined, b: KeyValue | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined) return false;
  return (
    a.key === b.key &&
    a.value === b.value &&
    a.create_revision === b.create_revision &&
    a.mod_revision === b.mod_revision &&
    a.version === b.version &&
    (a.lease ?? 0) === (b.lease ?? 0)
  );
}

function sameKvs(a: readonly KeyValue[] | undefined, b: readonly KeyValue[] | undefined): boolean {
  const x = a ?? [];
  const y = b ?? [];
  return x.length === y.length && x.every((kv, i) => sameKv(kv, y[i]));
}

/** Exact comparison of what the model expects with what the client saw (nested headers aside). */
function sameResponse(expected: Outcome | ResponseOp, actual: EtcdOutput | ResponseOp): boolean {
  if (expected.type !== actual.type) return false;
  if ("header" in expected && expected.header !== undefined) {
    if (!("header" in actual) || actual.header?.revision !== expected.header.revision) return false;
  }
  return sameBody(expected, actual);
}

/** sameResponse(withHeader(expected, revision), actual) for applyBare's response. */
function sameAtRevision(expected: Outcome, revision: number, actual: EtcdOutput): boolean {
  if (expected.type !== actual.type) return false;
  if (expected.type !== "error" && (!("header" in actual) || actual.header?.revision !== revision))
    return false;
  return sameBody(expected, actual);
}

/** sameResponse past the type and header checks. */
function sameBody(expected: Outcome | ResponseOp, actual: EtcdOutput | ResponseOp): boolean {
  switch (expected.type) {
    case "error":
      return expected.error === (actual as EtcdError).error;
    case "range": {
      const a = actual as RangeResponse;
      return (
        expected.count === a.count &&
        expected.more === (a.more ?? false) &&
        sameKvs(expected.kvs, a.kvs)
      );
    }
    case "put":
      return sameKv(expected.prev_kv, (actual as PutResponse).prev_kv);
    case "delete-range": {
      const a = actual as DeleteRangeResponse;
      return expected.deleted === a.deleted && sameKvs(expected.prev_kvs, a.prev_kvs);
    }
    case "txn": {
      const a = actual as EtcdResponse & { type: "txn" };
      return (
        expected.succeeded === a.succeeded &&
        expected.responses.length === a.responses.length &&
        expected.responses.every((r, i) => sameResponse(r, a.responses[i] as ResponseOp))
      );
    }
    case "lease-grant":
      return expected.id === (actual as typeof expected).id;
    case "lease-revoke":
    case "compaction":
    case "auth":
      return true;
    default:
      return unreachable(expected);
  }
}

/**
 * The successors of `state` for one operation. Unknown outcome: applied and not applied (one state
 * when applying changes nothing). Persisted: applied, and at `revision` when given. Otherwise the
 * one successor whose expected response equals the observed one, or none.
 */
export function stepEtcd(
  state: EtcdState,
  input: EtcdInput,
  output: EtcdOutput | undefined,
): EtcdState[] {
  if (output?.type === "error" && output.error === "auth-old-revision") {
    return mayBeOldRevision(state, input) ? [state] : [];
  }
  const applied = applyBare(state, input);
  if (output === undefined) return applied.state === state ? [state] : [applied.state, state];
  if (output.type === "persisted") {
    const revisionMatches =
      output.revision === undefined || output.revision === applied.state.revision;
    return revisionMatches ? [applied.state] : [];
  }
  return sameAtRevision(applied.response, applied.state.revision, output) ? [applied.state] : [];
}

function sameHistory(a: KeyVersion | undefined, b: KeyVersion | undefined): boolean {
  let x = a;
  let y = b;
  while (x !== y) {
    if (x === undefined || y === undefined) return false;
    if (x.hash !== y.hash || x.revision !== y.revision || !sameKv(x.kv, y.kv)) return false;
    x = x.prev;
    y = y.prev;
  }
  return true;
}

export function sameEtcdState(a: EtcdState, b: EtcdState): boolean {
  if (a === b) return true;
  if (a.hash !== b.hash || a.revision !== b.revision || a.compactRevision !== b.compactRevision)
    return false;
  if (a.auth.enabled !== b.auth.enabled || a.auth.writerCanWrite !== b.auth.writerCanWrite) {
    return false;
  }
  if (a.keys.size !== b.keys.size || a.leases.size !== b.leases.size) return false;
  for (const [id, ttl] of a.leases) if (b.leases.get(id) !== ttl) return false;
  for (const [key, version] of a.keys) {
    if (!sameHistory(version, b.keys.get(key))) return false;
  }
  return true;
}

function describeKv(kv: KeyValue): string {
  const lease = kv.lease !== 0 ? ` lease ${kv.lease}` : "";
  return `${JSON.stringify(kv.key)} = ${JSON.stringify(kv.value)} (create ${kv.create_revision}, mod ${kv.mod_revision}, version ${kv.version}${lease})`;
}

export function describeEtcdState(state: EtcdState): string {
  const lines = [`revision ${state.revision}, compacted at ${state.compactRevision}`];
  const live = [...state.keys.values()].flatMap((v) => (v.kv ? [v.kv] : []));
  for (const kv of sortedByKey(live)) lines.push(describeKv(kv));
  if (state.leases.size > 0)
    lines.push(`leases ${[...state.leases.keys()].sort((a, b) => a - b).join(", ")}`);
  if (state.auth !== AUTH_OFF) {
    const write = state.auth.writerCanWrite ? "may write" : "may only read";
    lines.push(`auth ${state.auth.enabled ? "enabled" : "disabled"}, the writer ${write}`);
  }
  return lines.join("\n");
}

function describeRequestOp(op: RequestOp): string {
  switch (op.type) {
    case "range": {
      const at = op.revision ? `@${op.revision}` : "";
      return `range(${JSON.stringify(op.key)}${op.range_end !== undefined ? `..${JSON.stringify(op.range_end)}` : ""})${at}`;
    }
    case "put":
      return `put(${JSON.stringify(op.key)}, ${JSON.stringify(op.value)}${op.lease ? `, lease ${op.lease}` : ""})`;
    case "delete-range":
      return `delete(${JSON.stringify(op.key)}${op.range_end !== undefined ? `..${JSON.stringify(op.range_end)}` : ""})`;
    default:
      return unreachable(op);
  }
}

function describeInput(input: EtcdInput): string {
  switch (input.type) {
    case "range":
    case "put":
    case "delete-range":
      return describeRequestOp(input);
    case "txn": {
      const guard = input.compare.map(
        (c) =>
          `${c.target}(${JSON.stringify(c.key)}) ${c.result} ${String(c[compareField(c)] ?? "")}`,
      );
      return `txn(if ${guard.join(" && ")} then ${input.success.map(describeRequestOp).join("; ")} else ${input.failure.map(describeRequestOp).join("; ")})`;
    }
    case "lease-grant":
      return `lease-grant(${input.id}, ttl ${input.ttl})`;
    case "lease-revoke":
      return `lease-revoke(${input.id})`;
    case "compaction":
      return `compact(${input.revision})`;
    case "auth":
      return `auth ${input.change}`;
    default:
      return unreachable(input);
  }
}

/** The operation's text, with its user when it has one. */
function describeCall(input: EtcdInput): string {
  const who = input.type !== "auth" && input.as !== undefined ? `${input.as}: ` : "";
  return who + describeInput(input);
}

function compareField(c: Compare): keyof Compare {
  switch (c.target) {
    case "create":
      return "create_revision";
    case "mod":
      return "mod_revision";
    default:
      return c.target;
  }
}

function describeOutput(output: EtcdOutput | undefined): string {
  if (output === undefined) return "?";
  switch (output.type) {
    case "error":
      return `error ${output.error}`;
    case "persisted":
      return output.revision === undefined ? "persisted" : `persisted @${output.revision}`;
    case "range":
      return `rev ${output.header?.revision ?? "?"} [${output.kvs.map((kv) => `${kv.key}=${kv.value}@${kv.mod_revision}`).join(", ")}]`;
    case "txn":
      return `rev ${output.header.revision} ${output.succeeded ? "succeeded" : "failed"}`;
    default:
      return `rev ${output.header?.revision ?? "?"}`;
  }
}

function unreachable(value: never): never {
  throw new Error(`etcd model: unexpected ${JSON.stringify(value)}`);
}

/** The etcd model: one global history, never partitioned (see the comment at the top). */
export const etcdModel: NondeterministicModel<EtcdState, EtcdInput, EtcdOutput> = {
  nondeterministic: true,
  init: () => [emptyEtcdState],
  step: stepEtcd,
  hash: (state) => state.hash,
  equal: sameEtcdState,
  // A range never writes, and a definite error means the request changed nothing.
  readOnly: (input, output) => input.type === "range" || output?.type === "error",
  describeOperation: (input, output) => `${describeCall(input)} -> ${describeOutput(output)}`,
  describeState: describeEtcdState,
};
