// Message codecs between protobuf wire bytes and the src/api types, compiled once from the JSON
// descriptor: each message type becomes a table of per-field readers and writers specialised by
// field kind, so a request costs one pass over its bytes with no reflection and no Long objects.
//
// Mapping rules (see src/api/kv.ts for the number conventions):
// - field names are the proto names as written (snake_case, TTL, ID, peerURLs);
// - int64/uint64 fields named as ids (BIGINT_FIELDS) are bigint; every other int64 is a number and
//   a wire value beyond 2^53 is a CodecError (InvalidArgument), never rounded;
// - enums are their value names; an unknown number decodes to its decimal string (proto3 enums are
//   open), so validation can refuse it with etcd's own error (an invalid sort option, for one),
//   except in the request fields of CLOSED_ENUM_FIELDS, where it is a CodecError;
// - a oneof sets a tag field named after the oneof to the chosen member's name, the shape
//   @grpc/proto-loader gives with `oneofs: true` — except Compare.target_union, which src/api keys
//   off the `target` enum instead;
// - decoding fills proto3 defaults for every plain field (0, 0n, false, "", empty bytes, the first
//   enum name, []) and leaves absent sub-messages and oneof members undefined; encoding skips
//   undefined and default values except in oneofs, where presence is the point.

import protobuf from "protobufjs";
import type { ClusterMember } from "../../api/cluster.js";
import type * as cluster from "../../api/cluster.js";
import type { Event, KeyValue } from "../../api/kv.js";
import type * as maintenance from "../../api/maintenance.js";
import type * as rpc from "../../api/rpc.js";
import { DESCRIPTOR } from "./descriptor.generated.js";
import {
  CodecError,
  EMPTY_BYTES,
  Reader,
  tagBytes,
  WIRE_LEN,
  WIRE_VARINT,
  Writer,
} from "./codec-wire.js";

export { CodecError } from "./codec-wire.js";

/** int64/uint64 field names that carry 64-bit identifiers and so decode to bigint. */
export const BIGINT_FIELDS: ReadonlySet<string> = new Set([
  "cluster_id",
  "member_id",
  "lease",
  "ID",
  "memberID",
  "leader",
  "targetID",
]);

/** Oneofs that get no tag field (full name of the message, a dot, the oneof's name). */
const UNTAGGED_ONEOFS: ReadonlySet<string> = new Set(["etcdserverpb.Compare.target_union"]);

export interface MessageCodec<T> {
  /** The message's full proto name, e.g. "etcdserverpb.RangeRequest". */
  readonly name: string;
  /** Throws CodecError when a field cannot be encoded exactly. */
  encode(message: T): Uint8Array;
  /** Throws CodecError on malformed bytes or an int64 beyond a number's exact range. */
  decode(bytes: Uint8Array): T;
}

/** Full proto name -> the src/api type it maps to (messages without one map to AnyMessage). */
export interface MessageTypes {
  "mvccpb.KeyValue": KeyValue;
  "mvccpb.Event": Event;
  "etcdserverpb.ResponseHeader": rpc.ResponseHeader;
  "etcdserverpb.RangeRequest": rpc.RangeRequest;
  "etcdserverpb.RangeResponse": rpc.RangeResponse;
  "etcdserverpb.RangeStreamResponse": { range_response?: rpc.RangeResponse };
  "etcdserverpb.PutRequest": rpc.PutRequest;
  "etcdserverpb.PutResponse": rpc.PutResponse;
  "etcdserverpb.DeleteRangeRequest": rpc.DeleteRangeRequest;
  "etcdserverpb.DeleteRangeResponse": rpc.DeleteRangeResponse;
  "etcdserverpb.RequestOp": rpc.RequestOp;
  "etcdserverpb.ResponseOp": rpc.ResponseOp;
  "etcdserverpb.Compare": rpc.Compare;
  "etcdserverpb.TxnRequest": rpc.TxnRequest;
  "etcdserverpb.TxnResponse": rpc.TxnResponse;
  "etcdserverpb.CompactionRequest": rpc.CompactionRequest;
  "etcdserverpb.CompactionResponse": rpc.CompactionResponse;
  "etcdserverpb.HashKVRequest": rpc.HashKVRequest;
  "etcdserverpb.HashKVResponse": rpc.HashKVResponse;
  "etcdserverpb.WatchRequest": rpc.WatchRequest;
  "etcdserverpb.WatchResponse": rpc.WatchResponse;
  "etcdserverpb.LeaseGrantRequest": rpc.LeaseGrantRequest;
  "etcdserverpb.LeaseGrantResponse": rpc.LeaseGrantResponse;
  "etcdserverpb.LeaseRevokeRequest": rpc.LeaseRevokeRequest;
  "etcdserverpb.LeaseRevokeResponse": rpc.LeaseRevokeResponse;
  "etcdserverpb.LeaseKeepAliveRequest": rpc.LeaseKeepAliveRequest;
  "etcdserverpb.LeaseKeepAliveResponse": rpc.LeaseKeepAliveResponse;
  "etcdserverpb.LeaseTimeToLiveRequest": rpc.LeaseTimeToLiveRequest;
  "etcdserverpb.LeaseTimeToLiveResponse": rpc.LeaseTimeToLiveResponse;
  "etcdserverpb.LeaseLeasesRequest": rpc.LeaseLeasesRequest;
  "etcdserverpb.LeaseLeasesResponse": rpc.LeaseLeasesResponse;
  "etcdserverpb.Member": ClusterMember;
  "etcdserverpb.MemberAddRequest": cluster.MemberAddRequest;
  "etcdserverpb.MemberAddResponse": cluster.MemberAddResponse;
  "etcdserverpb.MemberRemoveRequest": cluster.MemberRemoveRequest;
  "etcdserverpb.MemberRemoveResponse": cluster.MemberRemoveResponse;
  "etcdserverpb.MemberUpdateRequest": cluster.MemberUpdateRequest;
  "etcdserverpb.MemberUpdateResponse": cluster.MemberUpdateResponse;
  "etcdserverpb.MemberListRequest": cluster.MemberListRequest;
  "etcdserverpb.MemberListResponse": cluster.MemberListResponse;
  "etcdserverpb.MemberPromoteRequest": cluster.MemberPromoteRequest;
  "etcdserverpb.MemberPromoteResponse": cluster.MemberPromoteResponse;
  "etcdserverpb.AlarmRequest": maintenance.AlarmRequest;
  "etcdserverpb.AlarmResponse": maintenance.AlarmResponse;
  "etcdserverpb.StatusRequest": maintenance.StatusRequest;
  "etcdserverpb.StatusResponse": maintenance.StatusResponse;
  "etcdserverpb.DefragmentRequest": maintenance.DefragmentRequest;
  "etcdserverpb.DefragmentResponse": maintenance.DefragmentResponse;
  "etcdserverpb.HashRequest": maintenance.HashRequest;
  "etcdserverpb.HashResponse": maintenance.HashResponse;
  "etcdserverpb.SnapshotRequest": maintenance.SnapshotRequest;
  "etcdserverpb.SnapshotResponse": maintenance.SnapshotResponse;
  "etcdserverpb.MoveLeaderRequest": maintenance.MoveLeaderRequest;
  "etcdserverpb.MoveLeaderResponse": maintenance.MoveLeaderResponse;
}

/** A message with no src/api type yet (the Auth service's): fields by proto name. */
export type AnyMessage = Record<string, unknown>;

type Obj = Record<string, unknown>;

interface CompiledField {
  readonly name: string;
  readonly number: number;
  /** Sets the field on `o` from the reader; `wireType` is the tag's. */
  read(r: Reader, o: Obj, wireType: number): void;
  /** Writes the field of `o` if present (and not a default outside a oneof). */
  write(w: Writer, o: Obj): void;
}

interface CompiledType {
  readonly name: string;
  fields: CompiledField[];
  /** Field by number; holes for unused numbers. */
  byNumber: (CompiledField | undefined)[];
  /** Fresh object with the proto3 defaults of plain fields. */
  create: () => Obj;
}

// ---- reading and writing one message ----------------------------------------------------------------

/**
 * How deeply messages may nest in what is decoded. A txn etcd would take nests 2 messages per
 * level (TxnRequest, RequestOp) and at most src/api/validate.ts MAX_TXN_DEPTH levels, far below
 * this; a deeper message would otherwise run the decoder out of stack (a RangeError: INTERNAL).
 */
export const MAX_MESSAGE_DEPTH = 1000;

/** Nesting of the decode under way (decoding is synchronous, one message at a time). */
let depth = 0;

function decodeInto(r: Reader, end: number, t: CompiledType): Obj {
  if (depth >= MAX_MESSAGE_DEPTH) throw new CodecError(`${t.name}: messages nested too deeply`);
  depth++;
  try {
    const o = t.create();
    while (r.pos < end) {
      const tag = r.uint32();
      const field = t.byNumber[tag >>> 3];
      if (field === undefined) r.skip(tag & 7);
      else field.read(r, o, tag & 7);
    }
    if (r.pos !== end) throw new CodecError(`${t.name}: field runs past the message`);
    return o;
  } finally {
    depth--;
  }
}

function encodeFrom(w: Writer, o: Obj, t: CompiledType): void {
  if (typeof o !== "object" || o === null) throw new CodecError(`${t.name}: not an object`);
  const fields = t.fields;
  for (let i = 0; i < fields.length; i++) (fields[i] as CompiledField).write(w, o);
}

function expectWire(actual: number, expected: number, name: string): void {
  if (actual !== expected) throw new CodecError(`field ${name}: wire type ${actual}`);
}

// ---- scalar kinds -----------------------------------------------------------------------------------

interface ScalarKind {
  readonly wireType: number;
  read(r: Reader): unknown;
  /** Writes `v` (already checked by `valid`). */
  write(w: Writer, v: unknown): void;
  valid(v: unknown): boolean;
  isDefault(v: unknown): boolean;
  defaultValue(): unknown;
}

function numberKind(
  read: (r: Reader) => number,
  write: (w: Writer, v: number) => void,
  min: number,
  max: number,
): ScalarKind {
  return {
    wireType: WIRE_VARINT,
    read,
    write: (w, v) => write(w, v as number),
    valid: (v) => Number.isSafeInteger(v) && (v as number) >= min && (v as number) <= max,
    isDefault: (v) => v === 0,
    defaultValue: () => 0,
  };
}

function bigintKind(
  read: (r: Reader) => bigint,
  write: (w: Writer, v: bigint) => void,
  min: bigint,
  max: bigint,
): ScalarKind {
  return {
    wireType: WIRE_VARINT,
    read,
    write: (w, v) => write(w, v as bigint),
    valid: (v) => typeof v === "bigint" && v >= min && v <= max,
    isDefault: (v) => v === 0n,
    defaultValue: () => 0n,
  };
}

const SCALAR_KINDS: Readonly<Record<string, ScalarKind>> = {
  int64: numberKind(
    (r) => r.int64Number(),
    (w, v) => w.int64Number(v),
    -Number.MAX_SAFE_INTEGER,
    Number.MAX_SAFE_INTEGER,
  ),
  uint64: numberKind(
    (r) => r.uint64Number(),
    (w, v) => w.uint64Number(v),
    0,
    Number.MAX_SAFE_INTEGER,
  ),
  "int64:bigint": bigintKind(
    (r) => r.int64Bigint(),
    (w, v) => w.int64Bigint(v),
    -(2n ** 63n),
    2n ** 63n - 1n,
  ),
  "uint64:bigint": bigintKind(
    (r) => r.uint64Bigint(),
    (w, v) => w.uint64Bigint(v),
    0n,
    2n ** 64n - 1n,
  ),
  int32: numberKind(
    (r) => r.int32(),
    (w, v) => w.int32(v),
    -(2 ** 31),
    2 ** 31 - 1,
  ),
  uint32: numberKind(
    (r) => r.uint32(),
    (w, v) => w.uint32(v),
    0,
    2 ** 32 - 1,
  ),
  bool: {
    wireType: WIRE_VARINT,
    read: (r) => r.bool(),
    write: (w, v) => w.bool(v as boolean),
    valid: (v) => typeof v === "boolean",
    isDefault: (v) => v === false,
    defaultValue: () => false,
  },
  string: {
    wireType: WIRE_LEN,
    read: (r) => r.string(),
    write: (w, v) => w.string(v as string),
    valid: (v) => typeof v === "string",
    isDefault: (v) => v === "",
    defaultValue: () => "",
  },
  bytes: {
    wireType: WIRE_LEN,
    read: (r) => r.bytes(),
    write: (w, v) => w.bytes(v as Uint8Array),
    valid: (v) => v instanceof Uint8Array,
    isDefault: (v) => (v as Uint8Array).length === 0,
    defaultValue: () => EMPTY_BYTES,
  },
};

/**
 * Request enums whose unknown numbers are refused while decoding (InvalidArgument) instead of kept
 * as decimal strings: etcd has no error of its own for them, and detcd replicates compares and
 * alarms by name, so an unknown one could not be applied.
 */
const CLOSED_ENUM_FIELDS: ReadonlySet<string> = new Set([
  "etcdserverpb.Compare.result",
  "etcdserverpb.Compare.target",
  "etcdserverpb.AlarmRequest.action",
  "etcdserverpb.AlarmRequest.alarm",
]);

/** `closed`: the field's full name when an unknown number is a CodecError. */
function enumKind(e: protobuf.Enum, closed: string | undefined): ScalarKind {
  const first = e.valuesById[0] ?? String(Object.values(e.values)[0] ?? 0);
  const names: Record<number, string> = { ...e.valuesById };
  const numberOf = (v: unknown): number | undefined => {
    if (typeof v !== "string") return undefined;
    const n = e.values[v];
    if (n !== undefined) return n;
    return /^-?\d+$/.test(v) ? Number(v) : undefined;
  };
  return {
    wireType: WIRE_VARINT,
    read: (r) => {
      const n = r.int32();
      const name = names[n];
      if (name !== undefined) return name;
      if (closed !== undefined) throw new CodecError(`${closed}: unknown enum value ${n}`);
      return String(n);
    },
    write: (w, v) => w.int32(numberOf(v) as number),
    valid: (v) => numberOf(v) !== undefined,
    isDefault: (v) => numberOf(v) === 0,
    defaultValue: () => first,
  };
}

// ---- compiling a type -------------------------------------------------------------------------------

function scalarKindOf(field: protobuf.Field): ScalarKind {
  if (field.resolvedType instanceof protobuf.Enum) {
    const name = field.parent === null ? field.name : `${fullName(field.parent)}.${field.name}`;
    return enumKind(field.resolvedType, CLOSED_ENUM_FIELDS.has(name) ? name : undefined);
  }
  const wide = field.type === "int64" || field.type === "uint64";
  const kindName = wide && BIGINT_FIELDS.has(field.name) ? `${field.type}:bigint` : field.type;
  const kind = SCALAR_KINDS[kindName];
  if (kind === undefined) throw new Error(`codec: unsupported field type ${field.type}`);
  return kind;
}

interface OneofInfo {
  /** The tag field's name, or undefined for an untagged oneof. */
  readonly tag: string | undefined;
}

function oneofOf(type: protobuf.Type, field: protobuf.Field): OneofInfo | undefined {
  const oneof = field.partOf;
  if (oneof === null) return undefined;
  const untagged = UNTAGGED_ONEOFS.has(`${fullName(type)}.${oneof.name}`);
  return { tag: untagged ? undefined : oneof.name };
}

/** Whether a oneof member should be written: its tag names it, or there is no tag. */
function chosen(o: Obj, name: string, oneof: OneofInfo): boolean {
  if (oneof.tag === undefined) return true;
  const tag = o[oneof.tag];
  return tag === undefined || tag === name;
}

function setOneof(o: Obj, name: string, oneof: OneofInfo, v: unknown): void {
  if (oneof.tag !== undefined) {
    const previous = o[oneof.tag];
    if (typeof previous === "string" && previous !== name) delete o[previous];
    o[oneof.tag] = name;
  }
  o[name] = v;
}

function badValue(typeName: string, name: string, v: unknown): CodecError {
  const shown =
    typeof v === "bigint" ? `${v}n` : typeof v === "number" ? `the number ${v}` : `a ${typeof v}`;
  return new CodecError(`${typeName}.${name}: cannot encode ${shown}`);
}

function compileScalar(type: protobuf.Type, field: protobuf.Field): CompiledField {
  const kind = scalarKindOf(field);
  const name = field.name;
  const typeName = fullName(type);
  const tag = tagBytes(field.id, kind.wireType);
  const oneof = oneofOf(type, field);
  const valid = kind.valid;
  if (field.repeated) return compileRepeatedScalar(type, field, kind, valid);
  return {
    name,
    number: field.id,
    read: (r, o, wireType) => {
      expectWire(wireType, kind.wireType, name);
      const v = kind.read(r);
      if (oneof === undefined) o[name] = v;
      else setOneof(o, name, oneof, v);
    },
    write: (w, o) => {
      const v = o[name];
      if (v === undefined || v === null) return;
      if (!valid(v)) throw badValue(typeName, name, v);
      if (oneof === undefined ? kind.isDefault(v) : !chosen(o, name, oneof)) return;
      w.raw(tag);
      kind.write(w, v);
    },
  };
}

function compileRepeatedScalar(
  type: protobuf.Type,
  field: protobuf.Field,
  kind: ScalarKind,
  valid: (v: unknown) => boolean,
): CompiledField {
  const name = field.name;
  const typeName = fullName(type);
  const packed = kind.wireType === WIRE_VARINT;
  const tag = tagBytes(field.id, packed ? WIRE_LEN : kind.wireType);
  return {
    name,
    number: field.id,
    read: (r, o, wireType) => {
      const list = o[name] as unknown[];
      if (packed && wireType === WIRE_LEN) {
        const end = r.lengthEnd();
        while (r.pos < end) list.push(kind.read(r));
        if (r.pos !== end) throw new CodecError(`${name}: packed field runs past its length`);
        return;
      }
      expectWire(wireType, kind.wireType, name);
      list.push(kind.read(r));
    },
    write: (w, o) => {
      const list = o[name];
      if (list === undefined || list === null) return;
      if (!Array.isArray(list)) throw badValue(typeName, name, list);
      if (list.length === 0) return;
      for (const v of list) if (!valid(v)) throw badValue(typeName, name, v);
      if (packed) {
        w.raw(tag);
        const start = w.fork();
        for (const v of list) kind.write(w, v);
        w.ldelim(start);
        return;
      }
      for (const v of list) {
        w.raw(tag);
        kind.write(w, v);
      }
    },
  };
}

function compileMessageField(
  type: protobuf.Type,
  field: protobuf.Field,
  sub: CompiledType,
): CompiledField {
  const name = field.name;
  const typeName = fullName(type);
  const tag = tagBytes(field.id, WIRE_LEN);
  const oneof = oneofOf(type, field);
  const writeOne = (w: Writer, v: unknown): void => {
    if (typeof v !== "object" || v === null) throw badValue(typeName, name, v);
    w.raw(tag);
    const start = w.fork();
    encodeFrom(w, v as Obj, sub);
    w.ldelim(start);
  };
  if (field.repeated) {
    return {
      name,
      number: field.id,
      read: (r, o, wireType) => {
        expectWire(wireType, WIRE_LEN, name);
        (o[name] as unknown[]).push(decodeInto(r, r.lengthEnd(), sub));
      },
      write: (w, o) => {
        const list = o[name];
        if (list === undefined || list === null) return;
        if (!Array.isArray(list)) throw badValue(typeName, name, list);
        for (let i = 0; i < list.length; i++) writeOne(w, list[i]);
      },
    };
  }
  return {
    name,
    number: field.id,
    read: (r, o, wireType) => {
      expectWire(wireType, WIRE_LEN, name);
      const v = decodeInto(r, r.lengthEnd(), sub);
      if (oneof === undefined) o[name] = v;
      else setOneof(o, name, oneof, v);
    },
    write: (w, o) => {
      const v = o[name];
      if (v === undefined || v === null) return;
      if (oneof !== undefined && !chosen(o, name, oneof)) return;
      writeOne(w, v);
    },
  };
}

function fullName(type: protobuf.ReflectionObject): string {
  return type.fullName.replace(/^\./, "");
}

function defaultsOf(type: protobuf.Type): [string, () => unknown][] {
  const out: [string, () => unknown][] = [];
  for (const field of type.fieldsArray) {
    if (field.partOf !== null) continue;
    if (field.repeated) out.push([field.name, () => []]);
    else if (field.resolvedType instanceof protobuf.Type) continue;
    else out.push([field.name, scalarKindOf(field).defaultValue]);
  }
  return out;
}

function compileAll(root: protobuf.Root): Map<string, CompiledType> {
  const types: protobuf.Type[] = [];
  const collect = (ns: protobuf.NamespaceBase): void => {
    for (const nested of ns.nestedArray) {
      if (nested instanceof protobuf.Type) types.push(nested);
      if (nested instanceof protobuf.Namespace || nested instanceof protobuf.Type) collect(nested);
    }
  };
  collect(root);
  const compiled = new Map<string, CompiledType>();
  // Shells first, so recursive types (TxnRequest -> RequestOp -> TxnRequest) can refer to each other.
  for (const type of types) {
    compiled.set(fullName(type), {
      name: fullName(type),
      fields: [],
      byNumber: [],
      create: () => ({}),
    });
  }
  for (const type of types) fillType(type, compiled);
  return compiled;
}

function fillType(type: protobuf.Type, compiled: Map<string, CompiledType>): void {
  const target = compiled.get(fullName(type)) as CompiledType;
  const fields = [...type.fieldsArray]
    .sort((a, b) => a.id - b.id)
    .map((field) => {
      if (field.resolvedType instanceof protobuf.Type) {
        const sub = compiled.get(fullName(field.resolvedType)) as CompiledType;
        return compileMessageField(type, field, sub);
      }
      return compileScalar(type, field);
    });
  target.fields = fields;
  for (const f of fields) target.byNumber[f.number] = f;
  const defaults = defaultsOf(type);
  target.create = () => {
    const o: Obj = {};
    for (let i = 0; i < defaults.length; i++) {
      const [name, make] = defaults[i] as [string, () => unknown];
      o[name] = make();
    }
    return o;
  };
}

// ---- the registry -----------------------------------------------------------------------------------

let registry: Map<string, MessageCodec<unknown>> | undefined;
const writer = new Writer();

function makeCodec(t: CompiledType): MessageCodec<unknown> {
  return {
    name: t.name,
    encode: (message) => {
      writer.reset();
      try {
        encodeFrom(writer, message as Obj, t);
        return writer.finish();
      } catch (e) {
        writer.reset();
        throw e;
      }
    },
    decode: (bytes) => {
      const r = new Reader(bytes);
      return decodeInto(r, r.end, t);
    },
  };
}

function codecs(): Map<string, MessageCodec<unknown>> {
  if (registry !== undefined) return registry;
  const root = protobuf.Root.fromJSON(DESCRIPTOR as protobuf.INamespace);
  root.resolveAll();
  registry = new Map([...compileAll(root)].map(([name, t]) => [name, makeCodec(t)]));
  return registry;
}

/** The codec of a message with a src/api type. */
export function codecFor<K extends keyof MessageTypes>(name: K): MessageCodec<MessageTypes[K]> {
  return messageCodec(name) as MessageCodec<MessageTypes[K]>;
}

/** The codec of any message in the descriptor, by full name; throws for an unknown name. */
export function messageCodec(name: string): MessageCodec<unknown> {
  const codec = codecs().get(name);
  if (codec === undefined) throw new Error(`codec: no message ${name}`);
  return codec;
}

/** Every message's full name, in descriptor order. */
export function messageNames(): string[] {
  return [...codecs().keys()];
}
