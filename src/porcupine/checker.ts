// The linearizability search (Wing & Gong, with Lowe's memoization, as in Porcupine).
//
// The calls and returns of a partition form a doubly linked list in time order. The search walks
// it from the head: at a call it tries to linearize that operation now (step the model); if the
// step is legal and the pair (set of linearized operations, new state) has not been seen before,
// it "lifts" the call and its return out of the list, pushes a frame and restarts from the head.
// Reaching a return means that operation's deadline passed without it being linearized, so the
// search pops the last frame, puts its entries back ("unlift") and tries the next call after it.
// The list is empty when every operation is linearized: the partition is linearizable. Popping
// with no frame left means no order exists: illegal.
//
// The cache is what makes this fast: two paths that reach the same linearized set with the same
// state have the same future, so the second is cut. The linearized set is a bitset with a hash
// kept incrementally (xor of per-operation hashes), and cache entries live in flat arrays chained
// per hash bucket, so the hot loop allocates only what the model allocates.
import { mix32 } from "./hash.js";
import { timeOrder } from "./history.js";
import { powersetModel } from "./nondeterministic.js";
import type {
  AnyModel,
  CheckOptions,
  CheckReport,
  CheckResult,
  Model,
  Operation,
  PartitionReport,
  UnknownReason,
} from "./types.js";

/** Default cap on cache entries: keeps memory in the low hundreds of MiB for typical states. */
export const DEFAULT_MAX_CACHE_ENTRIES = 4_000_000;
/** The clock is read once per this many loop iterations (a power of two). */
const CLOCK_EVERY = 1024;

/** The deterministic model behind any model (the powerset view of a nondeterministic one). */
export function deterministicModel<S, I, O>(model: AnyModel<S, I, O>): Model<unknown, I, O> {
  return "nondeterministic" in model
    ? (powersetModel(model) as Model<unknown, I, O>)
    : (model as Model<unknown, I, O>);
}

/**
 * Checks that `history` is linearizable with respect to `model`. Deterministic: the same inputs
 * give the same verdict and the same longest linearization unless the timeout or cache limit is
 * hit. Never answers "ok" without a full linearization: a timeout or the cache limit gives
 * "unknown". Throws a RangeError on a malformed history (a return before its call) and an Error
 * if `timeoutMs` is given without `now`.
 */
export function check<S, I, O>(
  model: AnyModel<S, I, O>,
  history: readonly Operation<I, O>[],
  options: CheckOptions = {},
): CheckReport<I, O> {
  const det = deterministicModel(model);
  const parts =
    det.partition && options.noPartition !== true ? det.partition(history) : [history.slice()];
  const limits = makeLimits(options);
  const partitions: PartitionReport<I, O>[] = [];
  let skippedPartitions = 0;
  let illegal = false;
  for (const part of parts) {
    if (illegal && options.checkAllPartitions === false) {
      skippedPartitions++;
      continue;
    }
    const report = searchPartition(det, part, limits);
    partitions.push(report);
    if (report.result === "illegal") illegal = true;
  }
  return summarize(partitions, skippedPartitions);
}

function summarize<I, O>(
  partitions: PartitionReport<I, O>[],
  skippedPartitions: number,
): CheckReport<I, O> {
  // Any illegal partition makes the history illegal, even if another one timed out.
  const illegal = partitions.some((p) => p.result === "illegal");
  const unknown = partitions.find((p) => p.result === "unknown");
  const result: CheckResult = illegal ? "illegal" : unknown ? "unknown" : "ok";
  return {
    result,
    ...(result === "unknown" && unknown?.unknownReason
      ? { unknownReason: unknown.unknownReason }
      : {}),
    partitions,
    skippedPartitions,
  };
}

/** Shared budget over all partitions: one deadline and one cache-entry allowance. */
interface Limits {
  readonly timedOut: () => boolean;
  cacheEntriesLeft: number;
}

function makeLimits(options: CheckOptions): Limits {
  const maxCacheEntries = options.maxCacheEntries ?? DEFAULT_MAX_CACHE_ENTRIES;
  if (options.timeoutMs === undefined) {
    return { timedOut: () => false, cacheEntriesLeft: maxCacheEntries };
  }
  const now = options.now;
  if (now === undefined) throw new Error("check: timeoutMs needs a now() clock");
  const deadline = now() + options.timeoutMs;
  return { timedOut: () => now() >= deadline, cacheEntriesLeft: maxCacheEntries };
}

/** The call/return list of one partition: entry 0 is the head, entry `size - 1` the tail. */
interface EntryList {
  readonly next: Int32Array;
  readonly prev: Int32Array;
  /** Operation index of each entry. */
  readonly op: Int32Array;
  /** For a call entry, its return entry; -1 for a return entry. */
  readonly match: Int32Array;
  readonly tail: number;
}

/**
 * Builds the list. An unknown-outcome operation gets a return entry after every known event, so it
 * may be linearized at any point after its call; linearizing it last stands for "never happened"
 * (its model step, given no output, must then accept any effect or none).
 */
function buildEntries<I, O>(operations: readonly Operation<I, O>[]): EntryList {
  const points = timeOrder(operations).map((p) => ({ op: p.op, isCall: p.isCall }));
  operations.forEach((o, op) => {
    if (o.return === undefined) points.push({ op, isCall: false });
  });
  const size = points.length + 2;
  const list: EntryList = {
    next: new Int32Array(size),
    prev: new Int32Array(size),
    op: new Int32Array(size).fill(-1),
    match: new Int32Array(size).fill(-1),
    tail: size - 1,
  };
  const callEntry = new Int32Array(operations.length);
  points.forEach((p, i) => {
    const entry = i + 1;
    list.op[entry] = p.op;
    if (p.isCall) callEntry[p.op] = entry;
    else list.match[callEntry[p.op] as number] = entry;
  });
  for (let entry = 0; entry < size; entry++) {
    list.next[entry] = entry + 1;
    list.prev[entry] = entry - 1;
  }
  return list;
}

function unlink(list: EntryList, entry: number): void {
  const { next, prev } = list;
  const p = prev[entry] as number;
  const n = next[entry] as number;
  next[p] = n;
  prev[n] = p;
}

function relink(list: EntryList, entry: number): void {
  // The entry still remembers its neighbours: entries are re-linked in reverse order of removal.
  const { next, prev } = list;
  next[prev[entry] as number] = entry;
  prev[next[entry] as number] = entry;
}

/** Removes a call entry and its return from the list (the operation is linearized). */
function lift(list: EntryList, call: number): void {
  unlink(list, call);
  unlink(list, list.match[call] as number);
}

function unlift(list: EntryList, call: number): void {
  relink(list, list.match[call] as number);
  relink(list, call);
}

/**
 * The memo of visited (linearized set, state) pairs: an open-addressing hash table of entry
 * numbers (faster than a Map for this hot path). Entry i owns words [i*W, (i+1)*W) of `bits`, its
 * state and its 32-bit key; slot value 0 is empty, otherwise it holds entry + 1.
 */
class Cache<S> {
  private slots = new Int32Array(1 << 12);
  private keys = new Int32Array(1 << 10);
  private bits: Uint32Array;
  private readonly states: S[] = [];
  size = 0;

  constructor(
    private readonly words: number,
    private readonly equal: (a: S, b: S) => boolean,
  ) {
    this.bits = new Uint32Array(words << 10);
  }

  /** True if an equal (bitset, state) pair is stored under `key`. */
  has(key: number, current: Uint32Array, state: S): boolean {
    const mask = this.slots.length - 1;
    for (let i = key & mask; ; i = (i + 1) & mask) {
      const slot = this.slots[i] as number;
      if (slot === 0) return false;
      const entry = slot - 1;
      if (
        this.keys[entry] === key &&
        this.sameBits(entry, current) &&
        this.equal(this.states[entry] as S, state)
      ) {
        return true;
      }
    }
  }

  add(key: number, current: Uint32Array, state: S): void {
    const entry = this.size++;
    if (entry >= this.keys.length) this.growEntries();
    // Keep the table at most half full so probe runs stay short.
    if (this.size * 2 > this.slots.length) this.growSlots();
    const base = entry * this.words;
    for (let w = 0; w < this.words; w++) this.bits[base + w] = current[w] as number;
    this.states.push(state);
    this.keys[entry] = key;
    this.place(key, entry);
  }

  private place(key: number, entry: number): void {
    const mask = this.slots.length - 1;
    let i = key & mask;
    while (this.slots[i] !== 0) i = (i + 1) & mask;
    this.slots[i] = entry + 1;
  }

  private sameBits(entry: number, current: Uint32Array): boolean {
    const base = entry * this.words;
    for (let w = 0; w < this.words; w++) {
      if (this.bits[base + w] !== current[w]) return false;
    }
    return true;
  }

  private growEntries(): void {
    const keys = new Int32Array(this.keys.length * 2);
    keys.set(this.keys);
    this.keys = keys;
    const bits = new Uint32Array(this.bits.length * 2);
    bits.set(this.bits);
    this.bits = bits;
  }

  private growSlots(): void {
    this.slots = new Int32Array(this.slots.length * 2);
    for (let entry = 0; entry < this.size - 1; entry++)
      this.place(this.keys[entry] as number, entry);
  }
}

/** The mutable search position: the linearized set, its hash, and the stack of frames. */
interface Frames<S> {
  readonly entry: Int32Array;
  readonly state: (S | undefined)[];
  /**
   * 1 when the frame's operation is read-only (model.readOnly) and left the whole state (set)
   * unchanged. Such an operation, legal now in every member state and callable now, can be moved
   * to the front of any successful completion: it changes no state wherever it sits, and no
   * pending operation had to precede it. So if linearizing it first fails, every alternative from
   * that configuration fails too, and the search undoes the frame before it instead of trying
   * siblings. A partial-order reduction on top of the plain search; it never changes a verdict.
   */
  readonly forced: Uint8Array;
  depth: number;
}

function searchPartition<I, O>(
  model: Model<unknown, I, O>,
  operations: readonly Operation<I, O>[],
  limits: Limits,
): PartitionReport<I, O> {
  const n = operations.length;
  const list = buildEntries(operations);
  const inputs = operations.map((o) => o.input);
  // An unknown outcome is handed to the model as `undefined`, whatever output the record holds.
  const outputs = operations.map((o) => (o.return === undefined ? undefined : o.output));
  const readOnly = Uint8Array.from(operations, (o, i) =>
    model.readOnly?.(o.input, outputs[i]) === true ? 1 : 0,
  );
  const opHash = Int32Array.from({ length: n }, (_, i) => mix32(i + 0x51ed));
  const words = Math.max(1, Math.ceil(n / 32));
  const bits = new Uint32Array(words);
  const equal = model.equal ?? ((a: unknown, b: unknown) => a === b);
  const hashState = model.hash ?? (() => 0);
  const cache = new Cache<unknown>(words, equal);
  const frames: Frames<unknown> = {
    entry: new Int32Array(n),
    state: new Array(n),
    forced: new Uint8Array(n),
    depth: 0,
  };
  const best = { linearization: [] as number[], stuck: -1 };
  let state = model.init();
  let setHash = 0;
  let steps = 0;
  let iterations = 0;
  let entry = list.next[0] as number;
  const finish = (result: CheckResult, unknownReason?: UnknownReason): PartitionReport<I, O> => ({
    result,
    operations,
    linearization: result === "ok" ? stackOps(list, frames) : best.linearization,
    ...(result !== "ok" && best.stuck >= 0 ? { stuck: best.stuck } : {}),
    ...(unknownReason ? { unknownReason } : {}),
    steps,
    cacheEntries: cache.size,
  });

  while (list.next[0] !== list.tail) {
    if ((++iterations & (CLOCK_EVERY - 1)) === 0 && limits.timedOut())
      return finish("unknown", "timeout");
    const returnEntry = list.match[entry] as number;
    if (returnEntry >= 0) {
      const op = list.op[entry] as number;
      steps++;
      const result = model.step(state, inputs[op] as I, outputs[op]);
      let deadEnd = false;
      if (result.ok) {
        const keepsState =
          readOnly[op] === 1 && (result.state === state || equal(result.state, state));
        const word = op >>> 5;
        const bit = 1 << (op & 31);
        bits[word] = (bits[word] as number) | bit;
        const nextHash = setHash ^ (opHash[op] as number);
        const key = (nextHash + Math.imul(hashState(result.state), 0x9e3779b1)) | 0;
        if (!cache.has(key, bits, result.state)) {
          if (limits.cacheEntriesLeft <= 0) return finish("unknown", "cache-limit");
          limits.cacheEntriesLeft--;
          cache.add(key, bits, result.state);
          frames.entry[frames.depth] = entry;
          frames.state[frames.depth] = state;
          frames.forced[frames.depth] = keepsState ? 1 : 0;
          frames.depth++;
          state = result.state;
          setHash = nextHash;
          lift(list, entry);
          entry = list.next[0] as number;
          continue;
        }
        bits[word] = (bits[word] as number) & ~bit;
        // A cached configuration was already searched without success; if this operation left the
        // state unchanged, the current configuration is dead too (see `forced`).
        deadEnd = keepsState;
      }
      if (!deadEnd) {
        entry = list.next[entry] as number;
        continue;
      }
    } else if (frames.depth > best.linearization.length || best.stuck < 0) {
      // A return: this operation's deadline passed while it is still pending.
      best.linearization = stackOps(list, frames);
      best.stuck = list.op[entry] as number;
    }
    // Backtrack: undo the last frame, and keep undoing while the undone frame was forced.
    let call = -1;
    do {
      if (frames.depth === 0) return finish("illegal");
      frames.depth--;
      call = frames.entry[frames.depth] as number;
      state = frames.state[frames.depth];
      frames.state[frames.depth] = undefined;
      const op = list.op[call] as number;
      bits[op >>> 5] = (bits[op >>> 5] as number) & ~(1 << (op & 31));
      setHash ^= opHash[op] as number;
      unlift(list, call);
    } while (frames.forced[frames.depth] === 1);
    entry = list.next[call] as number;
  }
  return finish("ok");
}

function stackOps<S>(list: EntryList, frames: Frames<S>): number[] {
  const ops: number[] = [];
  for (let i = 0; i < frames.depth; i++) ops.push(list.op[frames.entry[i] as number] as number);
  return ops;
}
