/**
 * Random: the member's source of randomness (election timeouts, lease ids, jitter).
 * Contract: in the simulator the sequence is a pure function of the run seed and the stream name;
 * in the real world it is cryptographically random. `int` bounds are inclusive.
 */
export interface Random {
  float(): number;
  int(lo: number, hi: number): number;
  chance(p: number): boolean;
  pick<T>(items: readonly T[]): T;
  shuffle<T>(items: readonly T[]): T[];
}
