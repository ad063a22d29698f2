// In-process mvcc throughput and memory: puts/s, single-key gets/s, 100-key ranges/s, and the RSS
// growth of loading 100,000 keys with 1 KiB values. Run: npx tsx bench/run.ts mvcc
import { emit } from "./emit.js";
import { KvStore } from "../src/mvcc/kv-store.js";
import { utf8 } from "../src/lib/bytes.js";

function keyOf(i: number): Uint8Array {
  return utf8(`/registry/pods/default/pod-${i.toString().padStart(7, "0")}`);
}

function timeOps(ops: number, body: () => void): number {
  const start = performance.now();
  body();
  const seconds = (performance.now() - start) / 1000;
  return Math.round(ops / seconds);
}

function benchPuts(): KvStore {
  const keyCount = 10_000;
  const puts = 300_000;
  const keys = Array.from({ length: keyCount }, (_v, i) => keyOf(i));
  const value = new Uint8Array(128).fill(0x61);
  const store = new KvStore();
  const perSecond = timeOps(puts, () => {
    for (let i = 0; i < puts; i++)
      store.put({ key: keys[(i * 7919) % keyCount] as Uint8Array, value });
  });
  emit("mvcc", { figure: "puts_per_s", value: perSecond, puts, keys: keyCount, valueBytes: 128 });
  return store;
}

function benchReads(store: KvStore): void {
  const keyCount = 10_000;
  const keys = Array.from({ length: keyCount }, (_v, i) => keyOf(i));
  const gets = 300_000;
  const getsPerSecond = timeOps(gets, () => {
    for (let i = 0; i < gets; i++) store.range({ key: keys[(i * 31) % keyCount] as Uint8Array });
  });
  emit("mvcc", { figure: "gets_per_s", value: getsPerSecond, keys: keyCount });
  const ranges = 20_000;
  const rangesPerSecond = timeOps(ranges, () => {
    for (let i = 0; i < ranges; i++) {
      const first = (i * 31) % (keyCount - 100);
      const r = store.range({ key: keys[first] as Uint8Array, range_end: keys[first + 100] });
      if (r.ok && r.value.kvs.length !== 100)
        throw new Error("bench: range returned the wrong count");
    }
  });
  emit("mvcc", { figure: "range100_per_s", value: rangesPerSecond, keys: keyCount });
}

/** Memory after a full GC when node runs with --expose-gc (else as it stands). */
function settledMemory(): NodeJS.MemoryUsage {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage();
}

function benchMemory(): void {
  const keyCount = 100_000;
  const before = settledMemory();
  const store = new KvStore();
  const start = performance.now();
  for (let i = 0; i < keyCount; i++) {
    const value = new Uint8Array(1024).fill(i & 0xff);
    store.put({ key: keyOf(i), value });
  }
  const loadSeconds = (performance.now() - start) / 1000;
  const after = settledMemory();
  const mib = (n: number): number => Math.round((n / 1048576) * 10) / 10;
  emit("mvcc", {
    figure: "rss_100k_1KiB",
    rssMiB: mib(after.rss),
    rssGrowthMiB: mib(after.rss - before.rss),
    heapGrowthMiB: mib(after.heapUsed - before.heapUsed),
    arrayBufferGrowthMiB: mib(after.arrayBuffers - before.arrayBuffers),
    payloadMiB: mib(keyCount * 1024),
    loadPutsPerSecond: Math.round(keyCount / loadSeconds),
    keys: store.keyCount,
  });
}

export default function run(): void {
  const store = benchPuts();
  benchReads(store);
  benchMemory();
}
