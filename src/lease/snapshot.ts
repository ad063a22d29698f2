// The byte form of the lessor's replicated state, for Raft snapshots (etcd's lease bucket: id, TTL
// and checkpointed remaining TTL per lease). Key attachments are not stored: they are rebuilt from
// the kv store's KeyValue.lease on restore, so the two can never disagree.
//
// Layout (big-endian): "DLS1", leaseCount u32, then per lease ascending by id: id i64, ttlSeconds
// u64, remainingTtlSeconds u64.

import { err, ok, type Result } from "../lib/result.js";
import { MAX_LEASE_TTL_SECONDS, type LeaseRecord } from "./lease-table.js";
import type { LessorState } from "./lessor.js";

const MAGIC = [0x44, 0x4c, 0x53, 0x31]; // "DLS1"
const HEADER_BYTES = MAGIC.length + 4;
const RECORD_BYTES = 8 * 3;

/** Serializes exportState() output. */
export function encodeLessorState(state: LessorState): Uint8Array {
  const bytes = new Uint8Array(HEADER_BYTES + RECORD_BYTES * state.leases.length);
  const view = new DataView(bytes.buffer);
  bytes.set(MAGIC, 0);
  view.setUint32(MAGIC.length, state.leases.length);
  state.leases.forEach((r, i) => {
    const o = HEADER_BYTES + RECORD_BYTES * i;
    view.setBigInt64(o, r.id);
    view.setBigUint64(o + 8, BigInt(r.ttlSeconds));
    view.setBigUint64(o + 16, BigInt(r.remainingTtlSeconds));
  });
  return bytes;
}

/**
 * Parses encodeLessorState() output. Malformed input (wrong magic or length, ids not ascending or
 * 0, TTLs out of range) is an error value, never a crash, so a corrupt snapshot is reported.
 */
export function decodeLessorState(bytes: Uint8Array): Result<LessorState, string> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < HEADER_BYTES || MAGIC.some((b, i) => bytes[i] !== b)) {
    return err("lease snapshot: not a detcd lease snapshot");
  }
  const count = view.getUint32(MAGIC.length);
  if (bytes.length !== HEADER_BYTES + RECORD_BYTES * count) {
    return err(`lease snapshot: ${bytes.length} bytes for ${count} leases`);
  }
  const leases: LeaseRecord[] = [];
  for (let i = 0; i < count; i++) {
    const o = HEADER_BYTES + RECORD_BYTES * i;
    const record = {
      id: view.getBigInt64(o),
      ttlSeconds: Number(view.getBigUint64(o + 8)),
      remainingTtlSeconds: Number(view.getBigUint64(o + 16)),
    };
    const problem = recordProblem(record, leases[i - 1]);
    if (problem !== undefined) return err(`lease snapshot: lease #${i}: ${problem}`);
    leases.push(record);
  }
  return ok({ leases });
}

function recordProblem(r: LeaseRecord, previous: LeaseRecord | undefined): string | undefined {
  if (r.id === 0n) return "id 0";
  if (previous !== undefined && previous.id >= r.id) return `id ${r.id} not ascending`;
  if (r.ttlSeconds < 1 || r.ttlSeconds > MAX_LEASE_TTL_SECONDS) return `ttl ${r.ttlSeconds}`;
  if (r.remainingTtlSeconds > r.ttlSeconds) return `remaining ${r.remainingTtlSeconds} > ttl`;
  return undefined;
}
