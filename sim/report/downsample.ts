// Thinning long series so a report stays small and fast to draw, without hiding what matters: the
// latency envelope keeps the fastest and slowest point of each interval (outliers survive), and
// step series keep only the points where the value changes.

export interface Point {
  readonly x: number;
  readonly y: number;
}

/**
 * At most about `max` points: the series (sorted by x) is cut into max/2 equal intervals of x and
 * each keeps its lowest and highest point.
 */
export function downsampleEnvelope(points: readonly Point[], max: number): Point[] {
  const sorted = [...points].sort((p, q) => p.x - q.x || p.y - q.y);
  if (sorted.length <= max) return sorted;
  const first = (sorted[0] as Point).x;
  const span = (sorted.at(-1) as Point).x - first || 1;
  const intervals = Math.max(1, Math.floor(max / 2));
  const low: (Point | undefined)[] = new Array<Point | undefined>(intervals);
  const high: (Point | undefined)[] = new Array<Point | undefined>(intervals);
  for (const p of sorted) {
    const i = Math.min(intervals - 1, Math.floor(((p.x - first) / span) * intervals));
    if (low[i] === undefined || p.y < (low[i] as Point).y) low[i] = p;
    if (high[i] === undefined || p.y > (high[i] as Point).y) high[i] = p;
  }
  const out: Point[] = [];
  for (let i = 0; i < intervals; i++) {
    const l = low[i];
    const h = high[i];
    if (l !== undefined) out.push(l);
    if (h !== undefined && h !== l) out.push(h);
  }
  return out.sort((p, q) => p.x - q.x);
}

/**
 * The points of a step series where y changes (plus the last point, so the line reaches the end);
 * if that is still more than `max`, every k-th of them, keeping the last.
 */
export function keepChanges(points: readonly Point[], max: number): Point[] {
  const changes = points.filter((p, i) => i === 0 || p.y !== (points[i - 1] as Point).y);
  const last = points.at(-1);
  if (last !== undefined && changes.at(-1) !== last) changes.push(last);
  if (changes.length <= max) return changes;
  const stride = Math.ceil(changes.length / max);
  const thinned = changes.filter((_, i) => i % stride === 0);
  if (thinned.at(-1) !== changes.at(-1)) thinned.push(changes.at(-1) as Point);
  return thinned;
}
