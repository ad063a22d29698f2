// Shared pieces of the lease tests: a clock the test advances by hand, kv events, and unwrapping.
import { expect } from "vitest";
import { fromUtf8, utf8 } from "../../src/lib/bytes.js";
import type { Result } from "../../src/lib/result.js";
import type { EtcdError } from "../../src/api/errors.js";
import { NO_LEASE, type Event, type LeaseId } from "../../src/api/kv.js";
import type { Clock } from "../../src/env/clock.js";
import { Lessor, type LessorConfig, type LeasedKey } from "../../src/lease/index.js";

export const b = utf8;

/** A monotonic clock that moves only when the test says so. */
export class FakeClock implements Clock {
  constructor(public nowMs = 0) {}
  now(): number {
    return this.nowMs;
  }
  advance(ms: number): void {
    expect(ms).toBeGreaterThanOrEqual(0);
    this.nowMs += ms;
  }
}

export function newLessor(
  clock: FakeClock = new FakeClock(),
  options: Partial<LessorConfig> = {},
): Lessor {
  return new Lessor({ clock, electionTimeoutMs: 1000, ...options });
}

export function unwrap<T>(r: Result<T, EtcdError>): T {
  if (!r.ok) throw new Error(`unexpected error: ${r.error.message}`);
  return r.value;
}

/** The error's exact etcd message, or "ok". */
export function errorMessage<T>(r: Result<T, EtcdError>): string {
  return r.ok ? "ok" : r.error.message;
}

function kv(key: string, lease: LeaseId): Event["kv"] {
  return { key: b(key), create_revision: 2, mod_revision: 2, version: 1, value: b("v"), lease };
}

export function putEvent(key: string, lease: LeaseId = NO_LEASE): Event {
  return { type: "PUT", kv: kv(key, lease) };
}

export function deleteEvent(key: string): Event {
  return { type: "DELETE", kv: kv(key, NO_LEASE) };
}

export function texts(keys: readonly Uint8Array[]): string[] {
  return keys.map(fromUtf8);
}

export function showAttachments(attachments: readonly LeasedKey[]): [string, bigint][] {
  return attachments.map((a) => [fromUtf8(a.key), a.lease]);
}
