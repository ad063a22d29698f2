/** A failed check: what broke, where and when, in words a person can act on. */
export interface Violation {
  readonly check: string;
  readonly atMs: number;
  readonly member: string | undefined;
  readonly message: string;
}

/** Collects violations, keeping the first `limit` so a broken run cannot exhaust memory. */
export class Violations {
  private readonly list: Violation[] = [];
  private total = 0;

  constructor(private readonly limit = 100) {}

  add(v: Violation): void {
    this.total++;
    if (this.list.length < this.limit) this.list.push(v);
  }

  get count(): number {
    return this.total;
  }

  all(): readonly Violation[] {
    return this.list;
  }
}
