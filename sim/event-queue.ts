// A binary min-heap of scheduled events ordered by (time, sequence). The sequence number breaks
// ties in scheduling order, so two events due at the same virtual millisecond always run in the
// order they were scheduled, in every process.

export interface QueuedEvent {
  readonly timeMs: number;
  readonly seq: number;
  cancelled: boolean;
}

function before(a: QueuedEvent, b: QueuedEvent): boolean {
  return a.timeMs < b.timeMs || (a.timeMs === b.timeMs && a.seq < b.seq);
}

export class EventQueue<E extends QueuedEvent> {
  private readonly heap: E[] = [];

  get size(): number {
    return this.heap.length;
  }

  push(event: E): void {
    const heap = this.heap;
    heap.push(event);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = heap[parent] as E;
      if (!before(event, p)) break;
      heap[i] = p;
      i = parent;
    }
    heap[i] = event;
  }

  peek(): E | undefined {
    return this.heap[0];
  }

  pop(): E | undefined {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop();
    if (top === undefined || last === undefined || heap.length === 0) return top;
    this.siftDown(last);
    return top;
  }

  private siftDown(event: E): void {
    const heap = this.heap;
    const n = heap.length;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      let child = left;
      if (right < n && before(heap[right] as E, heap[left] as E)) child = right;
      const c = heap[child] as E;
      if (!before(c, event)) break;
      heap[i] = c;
      i = child;
    }
    heap[i] = event;
  }
}
