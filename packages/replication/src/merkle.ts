/**
 * A partition's Merkle tree for anti-entropy, pure (no actor, no clock): an array-backed complete
 * binary tree addressed by index (the children of node i are 2i+1 and 2i+2, the root is 0), whose
 * leaves are buckets of keys and whose every node is the XOR of the 64-bit hashes of the
 * (key, version) pairs below it (Riak's Tictac AAE combines the same way).
 *
 * Why XOR: it is its own inverse, so a write updates the tree in O(depth) (XOR the old pair's hash
 * out and the new one in along one path), and the order of insertion never matters. A key's
 * bucket is the top `depth` bits of its key hash, so the tree at a smaller depth is exactly the
 * first levels of the deeper one: folding is truncation, and two replicas whose trees have
 * different depths compare at the smaller.
 *
 * A node's hash is two unsigned 32-bit halves (`hi`, `lo`) in two `Uint32Array`s, so the whole
 * tree is two flat arrays of 2^(depth+1) - 1 entries: 16 bytes per leaf, about 4 per key at the
 * default bucket size.
 */

/** A 64-bit hash as two unsigned 32-bit halves. */
export interface Hash64 {
  readonly hi: number;
  readonly lo: number;
}

/** The deepest tree kept: 2^20 leaves (32 MiB of node hashes), for partitions of tens of millions of keys. */
export const MAX_MERKLE_DEPTH = 20;

function assert(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(`merkle: ${message}`);
}

/** The number of nodes of a tree of `depth` levels below the root. */
function sizeOf(depth: number): number {
  return 2 ** (depth + 1) - 1;
}

/** A partition's tree. Mutable: a replica updates it on every write. */
export class MerkleTree {
  readonly depth: number;
  private readonly hi: Uint32Array;
  private readonly lo: Uint32Array;

  /** An empty tree of `depth` levels below the root (0: the root is the only bucket). */
  constructor(depth: number) {
    assert(Number.isInteger(depth) && depth >= 0 && depth <= MAX_MERKLE_DEPTH, `depth must be an integer in [0, ${MAX_MERKLE_DEPTH}], got ${depth}`);
    this.depth = depth;
    this.hi = new Uint32Array(sizeOf(depth));
    this.lo = new Uint32Array(sizeOf(depth));
  }

  /** The bucket (leaf number, 0-based from the left) of a key whose 32-bit key hash is `keyHash`. */
  bucketOf(keyHash: number): number {
    return this.depth === 0 ? 0 : keyHash >>> (32 - this.depth);
  }

  /**
   * XORs `h` into every node from `bucket`'s leaf to the root. Adding a (key, version) pair and
   * removing it are the same operation: a write is `toggle(old)` then `toggle(new)`.
   */
  toggle(bucket: number, h: Hash64): void {
    assert(bucket >= 0 && bucket < 2 ** this.depth, `bucket ${bucket} outside [0, ${2 ** this.depth})`);
    let i = 2 ** this.depth - 1 + bucket;
    for (;;) {
      this.hi[i] = (this.hi[i]! ^ h.hi) >>> 0;
      this.lo[i] = (this.lo[i]! ^ h.lo) >>> 0;
      if (i === 0) break;
      i = (i - 1) >> 1;
    }
  }

  /**
   * Builds a whole tree at once (a rebuild from storage): `add` XORs pairs into their leaves only,
   * then every inner node is computed once, bottom up. O(pairs + nodes) instead of O(pairs * depth).
   */
  static build(depth: number, fill: (add: (bucket: number, h: Hash64) => void) => void): MerkleTree {
    const tree = new MerkleTree(depth);
    const first = 2 ** depth - 1;
    const leaves = 2 ** depth;
    fill((bucket, h) => {
      assert(bucket >= 0 && bucket < leaves, `bucket ${bucket} outside [0, ${leaves})`);
      tree.hi[first + bucket] = (tree.hi[first + bucket]! ^ h.hi) >>> 0;
      tree.lo[first + bucket] = (tree.lo[first + bucket]! ^ h.lo) >>> 0;
    });
    for (let i = first - 1; i >= 0; i--) {
      tree.hi[i] = (tree.hi[2 * i + 1]! ^ tree.hi[2 * i + 2]!) >>> 0;
      tree.lo[i] = (tree.lo[2 * i + 1]! ^ tree.lo[2 * i + 2]!) >>> 0;
    }
    return tree;
  }

  /** One node's hash (index as above). */
  node(index: number): Hash64 {
    assert(index >= 0 && index < this.hi.length, `node ${index} outside the tree`);
    return { hi: this.hi[index]!, lo: this.lo[index]! };
  }

  get root(): Hash64 {
    return this.node(0);
  }

  /**
   * The same tree at `depth` levels (at most this one's): a copy of its first levels, since a
   * key's bucket at a smaller depth is a prefix of its bucket here.
   */
  fold(depth: number): MerkleTree {
    assert(depth <= this.depth, `cannot fold a tree of depth ${this.depth} to ${depth}`);
    const out = new MerkleTree(depth);
    out.hi.set(this.hi.subarray(0, sizeOf(depth)));
    out.lo.set(this.lo.subarray(0, sizeOf(depth)));
    return out;
  }

  /** The hashes of nodes `indices` (to send to a peer), hi and lo interleaved. */
  hashesOf(indices: readonly number[]): Uint32Array {
    const out = new Uint32Array(indices.length * 2);
    for (let j = 0; j < indices.length; j++) {
      const i = indices[j]!;
      assert(i >= 0 && i < this.hi.length, `node ${i} outside the tree`);
      out[2 * j] = this.hi[i]!;
      out[2 * j + 1] = this.lo[i]!;
    }
    return out;
  }

  /** Whether two trees of one depth are equal everywhere. */
  equals(other: MerkleTree): boolean {
    if (other.depth !== this.depth) return false;
    for (let i = 0; i < this.hi.length; i++) if (this.hi[i] !== other.hi[i] || this.lo[i] !== other.lo[i]) return false;
    return true;
  }
}

/** The level of node `index` (the root is level 0). */
export function levelOf(index: number): number {
  return Math.floor(Math.log2(index + 1));
}

/** The leaf index of `bucket` in a tree of `depth`. */
export function leafIndex(depth: number, bucket: number): number {
  return 2 ** depth - 1 + bucket;
}

/**
 * The nodes `levels` levels below `indices` (all of them, in order): what one round trip of a
 * descent asks a peer for. Several levels per round trip trade bytes for round trips.
 */
export function descendants(indices: readonly number[], levels: number): number[] {
  let current = [...indices];
  for (let l = 0; l < levels; l++) {
    const next: number[] = [];
    for (const i of current) next.push(2 * i + 1, 2 * i + 2);
    current = next;
  }
  return current;
}

/**
 * Of `indices` (nodes both sides sent), those whose hashes differ, given this side's tree and the
 * peer's hashes for the same indices (as {@link MerkleTree.hashesOf} packs them). What the next
 * round descends into: the ancestors of equal nodes never need to be looked at again.
 */
export function differing(tree: MerkleTree, indices: readonly number[], theirs: Uint32Array): number[] {
  assert(theirs.length === indices.length * 2, `expected ${indices.length} hashes, got ${theirs.length / 2}`);
  const mine = tree.hashesOf(indices);
  const out: number[] = [];
  for (let j = 0; j < indices.length; j++) if (mine[2 * j] !== theirs[2 * j] || mine[2 * j + 1] !== theirs[2 * j + 1]) out.push(indices[j]!);
  return out;
}

/**
 * The buckets where two trees of one depth differ, found by descending from the root
 * `levelsPerRound` levels at a time and only into differing subtrees, with the number of rounds
 * it took: the exchange's plan, run here on two local trees (the exchange runs the same steps
 * over messages).
 */
export function differingBuckets(a: MerkleTree, b: MerkleTree, levelsPerRound = 1): { buckets: number[]; rounds: number } {
  assert(a.depth === b.depth, `trees of depth ${a.depth} and ${b.depth}: fold the deeper one first`);
  assert(Number.isInteger(levelsPerRound) && levelsPerRound >= 1, 'levelsPerRound is at least 1');
  let level = 0;
  let frontier = differing(a, [0], b.hashesOf([0]));
  let rounds = 1;
  while (frontier.length > 0 && level < a.depth) {
    const step = Math.min(levelsPerRound, a.depth - level);
    const asked = descendants(frontier, step);
    frontier = differing(a, asked, b.hashesOf(asked));
    level += step;
    rounds++;
  }
  const firstLeaf = 2 ** a.depth - 1;
  return { buckets: frontier.map((i) => i - firstLeaf), rounds };
}

/**
 * The depth for a partition of `keys` keys: buckets of about `keysPerBucket` keys, between
 * `minDepth` and {@link MAX_MERKLE_DEPTH}. Memory stays proportional to the data.
 */
export function depthFor(keys: number, keysPerBucket = 4, minDepth = 0): number {
  assert(keys >= 0 && keysPerBucket >= 1, 'keys >= 0 and keysPerBucket >= 1');
  const buckets = Math.max(1, Math.ceil(keys / keysPerBucket));
  return Math.min(MAX_MERKLE_DEPTH, Math.max(minDepth, Math.ceil(Math.log2(buckets))));
}
