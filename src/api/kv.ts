// mvccpb: the stored key-value record and the watch event, with etcd's field names (kv.proto) so the
// gRPC layer maps them field for field.
//
// Number conventions for the whole api folder: revisions, versions, counts and TTLs are `number`
// (they stay far below 2^53 and engine code asserts it); identifiers that etcd draws at random over
// the full 64 bits (lease ID, cluster ID, member ID) are `bigint`, because a JavaScript number would
// silently round them.

/** A lease identifier (int64). 0n means "no lease". */
export type LeaseId = bigint;

export const NO_LEASE: LeaseId = 0n;

/**
 * One version of a key (mvccpb.KeyValue, fields 1-6). Contract: values handed out by the store are
 * shared and immutable; callers must not mutate `key` or `value`.
 */
export interface KeyValue {
  readonly key: Uint8Array;
  /** Revision of the put that created the current generation of the key. */
  readonly create_revision: number;
  /** Revision of the last change to the key. */
  readonly mod_revision: number;
  /** Number of puts since the key was (re)created; 1 for the first put, reset by a delete. */
  readonly version: number;
  readonly value: Uint8Array;
  /** Lease the key is attached to; 0n for none. */
  readonly lease: LeaseId;
}

/** mvccpb.Event.EventType: PUT = 0, DELETE = 1. */
export type EventType = "PUT" | "DELETE";

export const EVENT_TYPE_VALUES: Readonly<Record<EventType, number>> = { PUT: 0, DELETE: 1 };

/**
 * One change (mvccpb.Event). For a DELETE, `kv` carries only `key` and `mod_revision` (the delete's
 * revision); the other fields are zero, as etcd sends them. `prev_kv` is the key's previous version
 * when the watcher asked for it and it is still available (not compacted).
 */
export interface Event {
  readonly type: EventType;
  readonly kv: KeyValue;
  readonly prev_kv?: KeyValue;
}
