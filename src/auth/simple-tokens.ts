// etcd's simple tokens: opaque strings that name a user. A token is assigned on every member when
// the authenticate entry that made it applies, so any member recognizes it; it is member-local
// memory, not replicated state (a restarted member forgets its tokens, and clients log in again, as
// with etcd). A token lives `ttlMs` on this member's clock from its last use (etcd's TTL keeper
// resets the TTL on every use). Deleting a user or changing its password drops its tokens;
// disabling auth drops them all.
//
// Bounded: at most `maxTokens`; assigning one more forgets the least recently used.

import type { Clock } from "../env/clock.js";

/** etcd's --auth-token-ttl default: 300 seconds. */
export const DEFAULT_SIMPLE_TOKEN_TTL_MS = 300_000;
export const DEFAULT_MAX_SIMPLE_TOKENS = 100_000;

interface TokenEntry {
  readonly user: string;
  expiresAtMs: number;
}

export class SimpleTokens {
  /** In order of last use, which is expiry order (every token has the same TTL). */
  private readonly tokens = new Map<string, TokenEntry>();

  constructor(
    private readonly clock: Clock,
    private readonly ttlMs: number = DEFAULT_SIMPLE_TOKEN_TTL_MS,
    private readonly maxTokens: number = DEFAULT_MAX_SIMPLE_TOKENS,
  ) {}

  get size(): number {
    return this.tokens.size;
  }

  assign(token: string, user: string): void {
    this.purge();
    this.tokens.delete(token);
    this.tokens.set(token, { user, expiresAtMs: this.clock.now() + this.ttlMs });
    while (this.tokens.size > this.maxTokens) {
      const oldest = this.tokens.keys().next();
      if (oldest.done === true) break;
      this.tokens.delete(oldest.value);
    }
  }

  /** The user a live token names (its TTL starts again), or undefined. */
  resolve(token: string): string | undefined {
    const entry = this.tokens.get(token);
    if (entry === undefined) return undefined;
    const now = this.clock.now();
    this.tokens.delete(token);
    if (entry.expiresAtMs <= now) return undefined;
    entry.expiresAtMs = now + this.ttlMs;
    this.tokens.set(token, entry);
    return entry.user;
  }

  invalidateUser(user: string): void {
    for (const [token, entry] of [...this.tokens]) {
      if (entry.user === user) this.tokens.delete(token);
    }
  }

  clear(): void {
    this.tokens.clear();
  }

  /** Forgets expired tokens, oldest first. */
  private purge(): void {
    const now = this.clock.now();
    for (const [token, entry] of this.tokens) {
      if (entry.expiresAtMs > now) break;
      this.tokens.delete(token);
    }
  }
}
