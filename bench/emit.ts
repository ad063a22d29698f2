/** Prints one benchmark figure as a JSON line. */
export function emit(bench: string, figures: Record<string, number | string | boolean>): void {
  console.log(JSON.stringify({ bench, ...figures }));
}
