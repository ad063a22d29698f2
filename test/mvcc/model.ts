// A naive model of etcd's mvcc semantics for property tests: the whole key space is copied at every
// revision (history[rev] is the map after rev), so a read at any revision is a lookup. Clarity over
// speed; it shares only the request types and the request checks (tested on their own) with the
// store.

import type { EtcdError } from "../../src/api/errors.js";
import { Errors } from "../../src/api/errors.js";
import type { Event, KeyValue } from "../../src/api/kv.js";
import type {
  Compare,
  DeleteRangeRequest,
  DeleteRangeResponse,
  PutRequest,
  PutResponse,
  RangeRequest,
  RangeResponse,
  RequestOp,
  ResponseOp,
  TxnRequest,
  TxnResponse,
} from "../../src/api/rpc.js";
import { header } from "../../src/api/rpc.js";
import {
  checkDeleteRangeRequest,
  checkPutRequest,
  checkRangeRequest,
  checkTxnRequest,
} from "../../src/api/validate.js";
import { bytesToLatin1, compareBytes } from "../../src/lib/bytes.js";
import { err, ok, type Result } from "../../src/lib/result.js";

type State = Map<string, KeyValue>;
type R<T> = Result<T, EtcdError>;
const EMPTY = new Uint8Array(0);

/** Keys of `state` selected by the etcd range (key, rangeEnd), in bytewise order. */
function select(state: State, key: Uint8Array, rangeEnd: Uint8Array): KeyValue[] {
  const all = [...state.values()].sort((a, b) => compareBytes(a.key, b.key));
  if (rangeEnd.length === 0) return all.filter((kv) => compareBytes(kv.key, key) === 0);
  const fromKey = rangeEnd.length === 1 && rangeEnd[0] === 0;
  return all.filter(
    (kv) => compareBytes(kv.key, key) >= 0 && (fromKey || compareBytes(kv.key, rangeEnd) < 0),
  );
}

function fieldOf(kv: KeyValue, target: string): number | Uint8Array {
  if (target === "VERSION") return kv.version;
  if (target === "CREATE") return kv.create_revision;
  if (target === "MOD") return kv.mod_revision;
  if (target === "VALUE") return kv.value;
  return kv.key;
}

function cmpField(a: number | Uint8Array, b: number | Uint8Array): number {
  if (typeof a === "number" && typeof b === "number") return a - b;
  return compareBytes(a as Uint8Array, b as Uint8Array);
}

/** The model's answer to a Range over `state` (the map at the requested revision). */
function answerRange(state: State, r: RangeRequest, headerRevision: number): RangeResponse {
  const selected = select(state, r.key, r.range_end ?? EMPTY);
  const count = selected.length;
  if (r.count_only === true) return { header: header(headerRevision), kvs: [], more: false, count };
  let kvs = selected.filter(
    (kv) =>
      (!r.min_mod_revision || kv.mod_revision >= r.min_mod_revision) &&
      (!r.max_mod_revision || kv.mod_revision <= r.max_mod_revision) &&
      (!r.min_create_revision || kv.create_revision >= r.min_create_revision) &&
      (!r.max_create_revision || kv.create_revision <= r.max_create_revision),
  );
  const target = r.sort_target ?? "KEY";
  const order = r.sort_order ?? "NONE";
  const limit = r.limit ?? 0;
  const filtered =
    !!r.min_mod_revision ||
    !!r.max_mod_revision ||
    !!r.min_create_revision ||
    !!r.max_create_revision;
  // etcd quirk, kept for fidelity: with sort_order NONE the limit is applied while reading (in key
  // order, one extra row to learn `more`) and only those rows are then sorted by a non-KEY target.
  if (order === "NONE" && limit > 0 && !filtered) kvs = kvs.slice(0, limit + 1);
  const direction = order === "DESCEND" ? -1 : 1;
  if (!(order === "NONE" && target === "KEY")) {
    // stable: ties keep key order in either direction
    kvs = kvs
      .map((kv, i) => ({ kv, i }))
      .sort(
        (x, y) => direction * cmpField(fieldOf(x.kv, target), fieldOf(y.kv, target)) || x.i - y.i,
      )
      .map((e) => e.kv);
  }
  const more = limit > 0 && kvs.length > limit;
  if (more) kvs = kvs.slice(0, limit);
  if (r.keys_only === true) kvs = kvs.map((kv) => ({ ...kv, value: EMPTY }));
  return { header: header(headerRevision), kvs, more, count };
}

function compareOne(c: Compare, kv: KeyValue): boolean {
  let d: number;
  if (c.target === "VALUE") d = compareBytes(kv.value, c.value ?? EMPTY);
  else if (c.target === "LEASE") d = Number(kv.lease - (c.lease ?? 0n));
  else if (c.target === "VERSION") d = kv.version - (c.version ?? 0);
  else if (c.target === "CREATE") d = kv.create_revision - (c.create_revision ?? 0);
  else d = kv.mod_revision - (c.mod_revision ?? 0);
  if (c.result === "EQUAL") return d === 0;
  if (c.result === "NOT_EQUAL") return d !== 0;
  if (c.result === "GREATER") return d > 0;
  return d < 0;
}

const ZERO: KeyValue = {
  key: EMPTY,
  create_revision: 0,
  mod_revision: 0,
  version: 0,
  value: EMPTY,
  lease: 0n,
};

function compareHolds(state: State, c: Compare): boolean {
  const kvs = select(state, c.key, c.range_end ?? EMPTY);
  if (kvs.length === 0) return c.target !== "VALUE" && compareOne(c, ZERO);
  return kvs.every((kv) => compareOne(c, kv));
}

/** A write in progress: a copy of the current map plus the changes so far. */
interface Pending {
  readonly begin: number;
  readonly state: State;
  readonly events: Event[];
}

export class Model {
  /** history[rev] = the key space after revision rev; revision 1 is the empty store. */
  readonly history: State[] = [new Map(), new Map()];
  /** events[rev] = the changes made at rev, in order. */
  readonly events: Event[][] = [[], []];
  compactRevision = -1;

  constructor(
    private readonly maxTxnOps: number,
    private readonly leaseExists: (id: bigint) => boolean,
  ) {}

  get currentRevision(): number {
    return this.history.length - 1;
  }

  stateAt(rev: number): State {
    return this.history[rev] as State;
  }

  range(r: RangeRequest): R<RangeResponse> {
    const checked = checkRangeRequest(r);
    if (!checked.ok) return checked;
    const rev = this.resolveRead(r.revision ?? 0, this.currentRevision);
    if (!rev.ok) return rev;
    return ok(answerRange(this.stateAt(rev.value), r, this.currentRevision));
  }

  put(r: PutRequest): R<PutResponse> {
    const checked = checkPutRequest(r);
    if (!checked.ok) return checked;
    const ready = this.checkPut(this.stateAt(this.currentRevision), r);
    if (!ready.ok) return ready;
    const p = this.begin();
    const resp = this.doPut(p, r);
    this.end(p);
    return ok(resp);
  }

  deleteRange(r: DeleteRangeRequest): R<DeleteRangeResponse> {
    const checked = checkDeleteRangeRequest(r);
    if (!checked.ok) return checked;
    const p = this.begin();
    const resp = this.doDelete(p, r);
    this.end(p);
    return ok(resp);
  }

  txn(t: TxnRequest): R<TxnResponse> {
    const checked = checkTxnRequest(t, this.maxTxnOps);
    if (!checked.ok) return checked;
    const before = this.stateAt(this.currentRevision);
    const plan = this.plan(before, t);
    if (!plan.ok) return plan;
    const p = this.begin();
    const resp = this.doTxn(p, t, plan.value);
    this.end(p);
    return ok(resp);
  }

  compact(rev: number): R<undefined> {
    if (rev <= this.compactRevision) return err(Errors.Compacted);
    if (rev > this.currentRevision) return err(Errors.FutureRev);
    this.compactRevision = rev;
    return ok(undefined);
  }

  /** The changes in [from, current] to keys in the range, in revision order. */
  eventsFrom(key: Uint8Array, rangeEnd: Uint8Array, from: number): R<Event[]> {
    if (from < this.compactRevision) return err(Errors.Compacted);
    const out: Event[] = [];
    for (let rev = Math.max(from, 1); rev <= this.currentRevision; rev++) {
      for (const e of this.events[rev] as Event[]) {
        if (select(new Map([["k", e.kv]]), key, rangeEnd).length > 0) out.push(e);
      }
    }
    return ok(out);
  }

  private resolveRead(requested: number, current: number): R<number> {
    if (requested > current) return err(Errors.FutureRev);
    const rev = requested <= 0 ? current : requested;
    if (rev < this.compactRevision) return err(Errors.Compacted);
    return ok(rev);
  }

  private checkPut(state: State, r: PutRequest): R<undefined> {
    if ((r.lease ?? 0n) !== 0n && !this.leaseExists(r.lease ?? 0n))
      return err(Errors.LeaseNotFound);
    if ((r.ignore_value === true || r.ignore_lease === true) && !state.has(bytesToLatin1(r.key))) {
      return err(Errors.KeyNotFound);
    }
    return ok(undefined);
  }

  /** Decides every compare up front and checks the ops that will run (all on `state`). */
  private plan(state: State, t: TxnRequest): R<boolean[]> {
    const decisions: boolean[] = [];
    const visit = (txn: TxnRequest): R<undefined> => {
      const succeeded = (txn.compare ?? []).every((c) => compareHolds(state, c));
      decisions.push(succeeded);
      for (const op of (succeeded ? txn.success : txn.failure) ?? []) {
        const checked = this.checkOp(state, op, visit);
        if (!checked.ok) return checked;
      }
      return ok(undefined);
    };
    const done = visit(t);
    return done.ok ? ok(decisions) : done;
  }

  private checkOp(
    state: State,
    op: RequestOp,
    visit: (t: TxnRequest) => R<undefined>,
  ): R<undefined> {
    if (op.request === "request_put") return this.checkPut(state, op.request_put);
    if (op.request === "request_txn") return visit(op.request_txn);
    if (op.request === "request_range") {
      const rev = op.request_range.revision ?? 0;
      if (rev > this.currentRevision) return err(Errors.FutureRev);
      if (rev > 0 && rev < this.compactRevision) return err(Errors.Compacted);
    }
    return ok(undefined);
  }

  private begin(): Pending {
    const begin = this.currentRevision;
    return { begin, state: new Map(this.stateAt(begin)), events: [] };
  }

  private end(p: Pending): void {
    if (p.events.length === 0) return;
    this.history.push(p.state);
    this.events.push(p.events);
  }

  private readRevision(p: Pending): number {
    return p.events.length > 0 ? p.begin + 1 : p.begin;
  }

  private doPut(p: Pending, r: PutRequest): PutResponse {
    const id = bytesToLatin1(r.key);
    const prev = p.state.get(id);
    const rev = p.begin + 1;
    const kv: KeyValue = {
      key: r.key,
      create_revision: prev ? prev.create_revision : rev,
      mod_revision: rev,
      version: prev ? prev.version + 1 : 1,
      value: r.ignore_value ? (prev as KeyValue).value : (r.value ?? EMPTY),
      lease: r.ignore_lease ? (prev as KeyValue).lease : (r.lease ?? 0n),
    };
    p.state.set(id, kv);
    const before = this.stateAt(p.begin).get(id);
    p.events.push(before ? { type: "PUT", kv, prev_kv: before } : { type: "PUT", kv });
    const resp: PutResponse = { header: header(rev) };
    if (r.prev_kv && prev) resp.prev_kv = prev;
    return resp;
  }

  private doDelete(p: Pending, r: DeleteRangeRequest): DeleteRangeResponse {
    const victims = select(p.state, r.key, r.range_end ?? EMPTY);
    const rev = p.begin + 1;
    for (const kv of victims) {
      const id = bytesToLatin1(kv.key);
      p.state.delete(id);
      const tomb: KeyValue = { ...ZERO, key: kv.key, mod_revision: rev };
      const before = this.stateAt(p.begin).get(id);
      p.events.push(
        before ? { type: "DELETE", kv: tomb, prev_kv: before } : { type: "DELETE", kv: tomb },
      );
    }
    return {
      header: header(this.readRevision(p)),
      deleted: victims.length,
      prev_kvs: r.prev_kv ? victims : [],
    };
  }

  private doTxn(p: Pending, t: TxnRequest, decisions: boolean[]): TxnResponse {
    const succeeded = decisions.shift() as boolean;
    const responses: ResponseOp[] = [];
    for (const op of (succeeded ? t.success : t.failure) ?? []) {
      responses.push(this.doOp(p, op, decisions));
    }
    return { header: header(this.readRevision(p)), succeeded, responses };
  }

  private doOp(p: Pending, op: RequestOp, decisions: boolean[]): ResponseOp {
    switch (op.request) {
      case "request_put":
        return { response: "response_put", response_put: this.doPut(p, op.request_put) };
      case "request_delete_range":
        return {
          response: "response_delete_range",
          response_delete_range: this.doDelete(p, op.request_delete_range),
        };
      case "request_range": {
        const read = this.readRevision(p);
        const rev =
          (op.request_range.revision ?? 0) <= 0 ? read : (op.request_range.revision as number);
        const state = rev === read ? p.state : this.stateAt(rev);
        return {
          response: "response_range",
          response_range: answerRange(state, op.request_range, read),
        };
      }
      case "request_txn": {
        const resp = this.doTxn(p, op.request_txn, decisions);
        return { response: "response_txn", response_txn: { ...resp, header: header(0) } };
      }
    }
  }
}
