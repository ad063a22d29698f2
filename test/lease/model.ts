// A naive model of the lessor for the model-based property: plain maps and linear scans, no
// separation of replicated and leader-local state, written from etcd's documented behaviour.
import type { LeaseId } from "../../src/api/kv.js";
import type { LeaseCheckpoint } from "../../src/api/lease-internal.js";

export const MODEL_MIN_TTL_SECONDS = 2; // electionTimeoutMs 1000
export const MODEL_MAX_TTL_SECONDS = 9_000_000_000;
export const MODEL_RETRY_MS = 3_000;
export const MODEL_CHECKPOINT_INTERVAL_MS = 4_000;

interface ModelLease {
  ttl: number;
  remaining: number;
  expiryAt: number;
  notBefore: number;
  checkpointAt: number;
}

export type ModelOutcome<T> = { ok: true; value: T } | { ok: false; error: string };

const byString = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const byId = (a: bigint, b: bigint): number => (a < b ? -1 : a > b ? 1 : 0);

export class LessorModel {
  now = 0;
  primary = true;
  readonly leases = new Map<LeaseId, ModelLease>();
  readonly keyLease = new Map<string, LeaseId>();

  grant(id: LeaseId, ttlSeconds: number): ModelOutcome<number> {
    if (ttlSeconds > MODEL_MAX_TTL_SECONDS) return { ok: false, error: "LeaseTTLTooLarge" };
    if (this.leases.has(id)) return { ok: false, error: "LeaseExist" };
    const ttl = Math.max(ttlSeconds, MODEL_MIN_TTL_SECONDS);
    this.leases.set(id, {
      ttl,
      remaining: 0,
      expiryAt: this.now + ttl * 1000,
      notBefore: -Infinity,
      checkpointAt: this.now + MODEL_CHECKPOINT_INTERVAL_MS,
    });
    return { ok: true, value: ttl };
  }

  revoke(id: LeaseId): ModelOutcome<string[]> {
    if (!this.leases.has(id)) return { ok: false, error: "LeaseNotFound" };
    this.leases.delete(id);
    const keys = [...this.keyLease].filter(([, l]) => l === id).map(([k]) => k);
    for (const k of keys) this.keyLease.delete(k);
    return { ok: true, value: keys.sort(byString) };
  }

  checkpoint(id: LeaseId, remaining: number): void {
    const l = this.leases.get(id);
    if (l !== undefined) l.remaining = Math.min(remaining, l.ttl);
  }

  put(key: string, lease: LeaseId): void {
    if (lease === 0n) this.keyLease.delete(key);
    else this.keyLease.set(key, lease);
  }

  delete(key: string): void {
    this.keyLease.delete(key);
  }

  keepAlive(id: LeaseId): ModelOutcome<{ ttl: number; reset: boolean }> {
    const l = this.leases.get(id);
    if (l === undefined || l.expiryAt <= this.now) return { ok: false, error: "LeaseNotFound" };
    l.expiryAt = this.now + l.ttl * 1000;
    l.notBefore = -Infinity;
    l.checkpointAt = this.now + MODEL_CHECKPOINT_INTERVAL_MS;
    return { ok: true, value: { ttl: l.ttl, reset: l.remaining > 0 } };
  }

  timeToLive(id: LeaseId): ModelOutcome<number> {
    const l = this.leases.get(id);
    if (l === undefined) return { ok: false, error: "LeaseNotFound" };
    return { ok: true, value: Math.floor(Math.max(0, l.expiryAt - this.now) / 1000) };
  }

  expired(): LeaseId[] {
    const ready = [...this.leases]
      .filter(([, l]) => l.expiryAt <= this.now && l.notBefore <= this.now)
      .sort(([ia, a], [ib, b]) => a.expiryAt - b.expiryAt || byId(ia, ib));
    for (const [, l] of ready) l.notBefore = this.now + MODEL_RETRY_MS;
    return ready.map(([id]) => id);
  }

  checkpointsDue(): LeaseCheckpoint[] {
    const due = [...this.leases]
      .filter(([, l]) => l.checkpointAt <= this.now)
      .sort(([ia, a], [ib, b]) => a.checkpointAt - b.checkpointAt || byId(ia, ib));
    const out: LeaseCheckpoint[] = [];
    for (const [id, l] of due) {
      l.checkpointAt = this.now + MODEL_CHECKPOINT_INTERVAL_MS;
      const left = Math.ceil((l.expiryAt - this.now) / 1000);
      if (l.expiryAt > this.now && left < l.ttl) out.push({ ID: id, remaining_TTL: left });
    }
    return out;
  }

  /** A leader change back to the same member: every lease restarts from its checkpoint. */
  reelect(extendMs: number): void {
    for (const l of this.leases.values()) {
      l.expiryAt = this.now + (l.remaining > 0 ? l.remaining : l.ttl) * 1000 + extendMs;
      l.notBefore = -Infinity;
      l.checkpointAt = this.now + MODEL_CHECKPOINT_INTERVAL_MS;
    }
  }

  ids(): LeaseId[] {
    return [...this.leases.keys()].sort(byId);
  }

  attachments(): [string, LeaseId][] {
    return [...this.keyLease].sort(([a], [b]) => byString(a, b));
  }
}
