// Conversions between the two history shapes (operations with times, flat call/return events).
import type { HistoryEvent, Operation } from "./types.js";

/**
 * Operations from a flat event list: an event's position in the list is its time. Each return must
 * follow a call with the same id; calls without a return become unknown-outcome operations.
 * Throws a RangeError on an unmatched or repeated id (the list is not a history).
 */
export function eventsToOperations<I, O>(events: readonly HistoryEvent<I, O>[]): Operation<I, O>[] {
  const open = new Map<number, { clientId: number; input: I; call: number; index: number }>();
  const done = new Set<number>();
  const operations: (Operation<I, O> | undefined)[] = [];
  events.forEach((event, time) => {
    if (event.kind === "call") {
      if (open.has(event.id) || done.has(event.id)) {
        throw new RangeError(`event ${time}: operation id ${event.id} is called twice`);
      }
      open.set(event.id, { ...event, input: event.value, call: time, index: operations.length });
      operations.push(undefined);
      return;
    }
    const call = open.get(event.id);
    if (call === undefined) {
      throw new RangeError(`event ${time}: return of operation id ${event.id} without a call`);
    }
    open.delete(event.id);
    done.add(event.id);
    operations[call.index] = {
      clientId: call.clientId,
      input: call.input,
      call: call.call,
      output: event.value,
      return: time,
    };
  });
  for (const call of open.values()) {
    operations[call.index] = { clientId: call.clientId, input: call.input, call: call.call };
  }
  return operations.map((op) => {
    if (op === undefined) throw new RangeError("internal: operation without a call");
    return op;
  });
}

/**
 * Events from operations, in time order (at equal times calls come before returns, so operations
 * that touch are concurrent). Operation i gets id i; unknown-outcome operations have no return.
 */
export function operationsToEvents<I, O>(
  operations: readonly Operation<I, O>[],
): HistoryEvent<I, O>[] {
  const order = timeOrder(operations);
  return order.map(({ op, isCall }) => {
    const o = operations[op] as Operation<I, O>;
    return isCall
      ? { kind: "call" as const, id: op, clientId: o.clientId, value: o.input }
      : { kind: "return" as const, id: op, clientId: o.clientId, value: o.output as O };
  });
}

/** One call or return point of an operation, as ordered by `timeOrder`. */
export interface TimePoint {
  readonly op: number;
  readonly isCall: boolean;
  readonly time: number;
}

/**
 * Every call and known return, sorted by time; ties put calls first, then lower operation index
 * first, so the order (and hence the search) is deterministic. Unknown returns are left out.
 * Throws a RangeError if an operation returns before it is called or has a non-finite call time.
 */
export function timeOrder<I, O>(operations: readonly Operation<I, O>[]): TimePoint[] {
  const points: TimePoint[] = [];
  operations.forEach((o, op) => {
    if (!Number.isFinite(o.call)) throw new RangeError(`operation ${op}: call time ${o.call}`);
    points.push({ op, isCall: true, time: o.call });
    if (o.return !== undefined) {
      if (!(o.return >= o.call)) {
        throw new RangeError(`operation ${op}: returns at ${o.return} before its call ${o.call}`);
      }
      points.push({ op, isCall: false, time: o.return });
    }
  });
  points.sort(
    (a, b) => a.time - b.time || (a.isCall === b.isCall ? a.op - b.op : a.isCall ? -1 : 1),
  );
  return points;
}
