// The simulator's one reading of wall time: how long a run took, for reports and benchmarks.
// Nothing that decides what happens in a run may read it.
export function wallNowMs(): number {
  return performance.now();
}
