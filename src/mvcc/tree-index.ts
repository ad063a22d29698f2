// An ordered map from string keys to values: a B+tree with linked leaves. The mvcc store keys it by
// the latin1 string of a key's bytes (src/lib/bytes.ts), whose code-unit order is bytewise order.
//
// Costs: get, set and delete are O(log n); iteration walks the leaf chain in key order. Deletion
// removes empty nodes but does not merge underfull ones: the height stays bounded by the largest size
// the tree ever had, which is enough for an index that compaction shrinks only now and then.

import { assert } from "../lib/assert.js";

/** Maximum entries per leaf and children per inner node. */
const FANOUT = 64;

interface Leaf<V> {
  readonly leaf: true;
  keys: string[];
  values: V[];
  next: Leaf<V> | undefined;
  prev: Leaf<V> | undefined;
}

interface Inner<V> {
  readonly leaf: false;
  /** keys[i] is the smallest key under children[i + 1]. */
  keys: string[];
  children: Node<V>[];
}

type Node<V> = Leaf<V> | Inner<V>;

function newLeaf<V>(): Leaf<V> {
  return { leaf: true, keys: [], values: [], next: undefined, prev: undefined };
}

/** First index i with keys[i] >= key. */
function lowerBound(keys: readonly string[], key: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((keys[mid] as string) < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First index i with keys[i] > key: the child of an inner node that may hold `key`. */
function upperBound(keys: readonly string[], key: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((keys[mid] as string) <= key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Ordered string-keyed map. Contract: keys are compared by JavaScript string order (code units);
 * visitors must not modify the tree while it iterates.
 */
export class TreeIndex<V> {
  private root: Node<V> = newLeaf<V>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(key: string): V | undefined {
    const leaf = this.findLeaf(key);
    const i = lowerBound(leaf.keys, key);
    return leaf.keys[i] === key ? leaf.values[i] : undefined;
  }

  /** Inserts or replaces the value of `key`. */
  set(key: string, value: V): void {
    const path: Inner<V>[] = [];
    const leaf = this.findLeaf(key, path);
    const i = lowerBound(leaf.keys, key);
    if (leaf.keys[i] === key) {
      leaf.values[i] = value;
      return;
    }
    leaf.keys.splice(i, 0, key);
    leaf.values.splice(i, 0, value);
    this.count++;
    if (leaf.keys.length > FANOUT) this.splitLeaf(leaf, path);
  }

  /** Removes `key`; returns whether it was present. */
  delete(key: string): boolean {
    const path: Inner<V>[] = [];
    const leaf = this.findLeaf(key, path);
    const i = lowerBound(leaf.keys, key);
    if (leaf.keys[i] !== key) return false;
    leaf.keys.splice(i, 1);
    leaf.values.splice(i, 1);
    this.count--;
    if (leaf.keys.length === 0) this.removeEmpty(leaf, path);
    return true;
  }

  /**
   * Calls `visit(key, value)` for each key >= `low` and < `high` (no upper bound when `high` is
   * undefined), in ascending order, until `visit` returns false.
   */
  forEachRange(
    low: string,
    high: string | undefined,
    visit: (key: string, value: V) => boolean,
  ): void {
    let leaf: Leaf<V> | undefined = this.findLeaf(low);
    let i = lowerBound(leaf.keys, low);
    while (leaf !== undefined) {
      const keys = leaf.keys;
      for (; i < keys.length; i++) {
        const key = keys[i] as string;
        if (high !== undefined && key >= high) return;
        if (!visit(key, leaf.values[i] as V)) return;
      }
      leaf = leaf.next;
      i = 0;
    }
  }

  /** All entries in key order (for snapshots and tests). */
  entries(): [string, V][] {
    const out: [string, V][] = [];
    this.forEachRange("", undefined, (k, v) => {
      out.push([k, v]);
      return true;
    });
    return out;
  }

  private findLeaf(key: string, path?: Inner<V>[]): Leaf<V> {
    let node = this.root;
    while (!node.leaf) {
      path?.push(node);
      node = node.children[upperBound(node.keys, key)] as Node<V>;
    }
    return node;
  }

  private splitLeaf(leaf: Leaf<V>, path: Inner<V>[]): void {
    const half = leaf.keys.length >>> 1;
    const right = newLeaf<V>();
    right.keys = leaf.keys.splice(half);
    right.values = leaf.values.splice(half);
    right.next = leaf.next;
    right.prev = leaf;
    if (leaf.next !== undefined) leaf.next.prev = right;
    leaf.next = right;
    this.insertChild(path, leaf, right.keys[0] as string, right);
  }

  /** Puts `right` (whose smallest key is `separator`) just after `left` in left's parent. */
  private insertChild(path: Inner<V>[], left: Node<V>, separator: string, right: Node<V>): void {
    const parent = path.pop();
    if (parent === undefined) {
      this.root = { leaf: false, keys: [separator], children: [left, right] };
      return;
    }
    const i = parent.children.indexOf(left);
    assert(i >= 0, "tree-index: child missing from its parent");
    parent.keys.splice(i, 0, separator);
    parent.children.splice(i + 1, 0, right);
    if (parent.children.length > FANOUT) this.splitInner(parent, path);
  }

  private splitInner(node: Inner<V>, path: Inner<V>[]): void {
    const half = node.children.length >>> 1;
    const rightChildren = node.children.splice(half);
    const rightKeys = node.keys.splice(half);
    const separator = node.keys.pop() as string;
    const right: Inner<V> = { leaf: false, keys: rightKeys, children: rightChildren };
    this.insertChild(path, node, separator, right);
  }

  private removeEmpty(leaf: Leaf<V>, path: Inner<V>[]): void {
    if (path.length === 0) return; // an empty root leaf is the empty tree
    if (leaf.prev !== undefined) leaf.prev.next = leaf.next;
    if (leaf.next !== undefined) leaf.next.prev = leaf.prev;
    let child: Node<V> = leaf;
    for (let parent = path.pop(); parent !== undefined; parent = path.pop()) {
      const i = parent.children.indexOf(child);
      assert(i >= 0, "tree-index: child missing from its parent");
      parent.children.splice(i, 1);
      parent.keys.splice(i === 0 ? 0 : i - 1, 1);
      if (parent.children.length > 0) break;
      child = parent;
    }
    this.collapseRoot();
  }

  private collapseRoot(): void {
    while (!this.root.leaf && this.root.children.length === 1) {
      this.root = this.root.children[0] as Node<V>;
    }
    if (!this.root.leaf && this.root.children.length === 0) this.root = newLeaf<V>();
  }
}
