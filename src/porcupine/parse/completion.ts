// Shared bookkeeping for logs of invoke/complete lines per process (Jepsen and the kv logs).
import type { Operation } from "../types.js";

/** How a Jepsen-style completion ended: done, definitely not done, or unknown. */
export type Completion = "ok" | "fail" | "info";

interface Pending<I> {
  readonly input: I;
  readonly call: number;
  readonly line: number;
  readonly slot: number;
}

/**
 * Pairs each process's invocation with its next completion. Times are line numbers, so the order
 * of the log is the order of events. A `fail` removes the operation when `dropFailed` says it had
 * no effect; `info` and invocations never completed become unknown-outcome operations.
 */
export class CompletionLog<I, O> {
  private readonly pending = new Map<number, Pending<I>>();
  private readonly slots: (Operation<I, O> | null)[] = [];

  /** An error message, or undefined when accepted. */
  invoke(process: number, input: I, line: number): string | undefined {
    const open = this.pending.get(process);
    if (open !== undefined) {
      return `process ${process} invokes again before completing its invocation on line ${open.line}`;
    }
    this.pending.set(process, { input, call: line, line, slot: this.slots.length });
    this.slots.push(null);
    return undefined;
  }

  /** Completes the process's open invocation; `output` is ignored for `info`. */
  complete(
    process: number,
    completion: Completion,
    line: number,
    output: (input: I) => O | undefined,
  ): string | undefined {
    const open = this.pending.get(process);
    if (open === undefined) return `process ${process} completes an operation it never invoked`;
    this.pending.delete(process);
    if (completion === "info") {
      this.slots[open.slot] = { clientId: process, input: open.input, call: open.call };
      return undefined;
    }
    const out = output(open.input);
    // undefined from a failed completion means "had no effect": drop the operation.
    if (out === undefined) return undefined;
    this.slots[open.slot] = {
      clientId: process,
      input: open.input,
      call: open.call,
      output: out,
      return: line,
    };
    return undefined;
  }

  operations(): Operation<I, O>[] {
    for (const [process, open] of this.pending) {
      this.slots[open.slot] = { clientId: process, input: open.input, call: open.call };
    }
    this.pending.clear();
    return this.slots.filter((op): op is Operation<I, O> => op !== null);
  }
}
