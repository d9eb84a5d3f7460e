/**
 * The Merkle tree of anti-entropy (merkle.ts, version-hash.ts), pure. What replicas rely on: equal
 * contents give equal roots whatever the order they were written in; any single change changes the
 * root; a tree folded to a smaller depth is the tree built at that depth, before and after updates;
 * and the descent finds exactly the keys where two replicas differ, in at most depth + 1 rounds.
 */
import { Disk } from '@starling/actors';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { testSeed } from '../../../scripts/testing/seed.ts';
import { bucketHash, clockSummary, depthFor, KEYS_PER_BUCKET, openStore, differingBuckets, descendants, MAX_MERKLE_DEPTH, MerkleTree, murmur32, pairHash, type StoredClock, treeOf } from '../src/index.ts';

// ---- generators -----------------------------------------------------------------------------------

/** A stored clock: one to three replica ids, each with a counter and one or two current values. */
const clockArb: fc.Arbitrary<StoredClock> = fc
  .uniqueArray(fc.tuple(fc.constantFrom('n1@a', 'n2@b', 'n3@c', 'n4@d'), fc.integer({ min: 1, max: 50 }), fc.integer({ min: 0, max: 2 })), { minLength: 1, maxLength: 3, selector: (t) => t[0] })
  .map((entries) => ({
    entries: entries
      .sort((a, b) => (a[0] < b[0] ? -1 : 1))
      .map(([id, counter, values]) => ({ id, counter, values: Array.from({ length: Math.min(values, counter) }, (_, j) => `${id}/${counter - j}`) })),
    anonymous: [],
  }));

/** A replica's contents: up to 300 distinct keys with their clocks. */
const contentsArb = fc.uniqueArray(fc.tuple(fc.string({ minLength: 1, maxLength: 12 }), clockArb), { maxLength: 300, selector: (t) => t[0] });

const depthArb = fc.integer({ min: 0, max: 8 });

function bumped(clock: StoredClock): StoredClock {
  const [first, ...rest] = clock.entries;
  return { entries: [{ ...first!, counter: first!.counter + 1, values: [`${first!.id}/${first!.counter + 1}`] }, ...rest], anonymous: [] };
}

/** Every key whose version differs between two replicas, or that only one holds. */
function trueDifference(a: ReadonlyMap<string, StoredClock>, b: ReadonlyMap<string, StoredClock>): string[] {
  const out: string[] = [];
  for (const [k, c] of a) if (!b.has(k) || clockSummary(b.get(k)!) !== clockSummary(c)) out.push(k);
  for (const k of b.keys()) if (!a.has(k)) out.push(k);
  return out.sort();
}

// ---- properties -----------------------------------------------------------------------------------

describe('a Merkle tree of a partition (properties)', () => {
  it('equal contents give equal trees whatever the insertion order', () => {
    fc.assert(
      fc.property(contentsArb, depthArb, fc.integer(), (entries, depth, salt) => {
        const shuffled = [...entries].sort((x, y) => murmur32(x[0], salt) - murmur32(y[0], salt));
        expect(treeOf(depth, shuffled).equals(treeOf(depth, entries))).toBe(true);
      }),
      { seed: testSeed(8101) },
    );
  });

  it('any single change (a key added, removed, or at another version) changes the root', () => {
    fc.assert(
      fc.property(contentsArb, depthArb, fc.nat(), fc.constantFrom('add', 'remove', 'bump'), (entries, depth, at, change) => {
        const before = treeOf(depth, entries);
        const map = new Map(entries);
        if (change === 'add' || entries.length === 0) map.set('\u0000fresh', { entries: [{ id: 'n9@z', counter: 1, values: ['x'] }], anonymous: [] });
        else {
          const [key, clock] = entries[at % entries.length]!;
          if (change === 'remove') map.delete(key);
          else map.set(key, bumped(clock));
        }
        const after = treeOf(depth, map);
        expect(after.root).not.toEqual(before.root);
      }),
      { seed: testSeed(8102) },
    );
  });

  it('a tree built at once equals the same pairs toggled in one by one', () => {
    fc.assert(
      fc.property(contentsArb, depthArb, (entries, depth) => {
        const one = new MerkleTree(depth);
        for (const [key, clock] of entries) one.toggle(one.bucketOf(bucketHash(key)), pairHash(key, clock));
        expect(treeOf(depth, entries).equals(one)).toBe(true);
      }),
      { seed: testSeed(8106) },
    );
  });

  it('an update in place (old pair out, new pair in) gives the tree rebuilt from scratch', () => {
    fc.assert(
      fc.property(contentsArb, depthArb, fc.nat(), (entries, depth, at) => {
        fc.pre(entries.length > 0);
        const tree = treeOf(depth, entries);
        const [key, clock] = entries[at % entries.length]!;
        const next = bumped(clock);
        const bucket = tree.bucketOf(bucketHash(key));
        tree.toggle(bucket, pairHash(key, clock));
        tree.toggle(bucket, pairHash(key, next));
        expect(tree.equals(treeOf(depth, new Map(entries).set(key, next)))).toBe(true);
      }),
      { seed: testSeed(8103) },
    );
  });

  it('folding commutes with updates: fold then update equals update then fold, and equals the tree built at the smaller depth', () => {
    fc.assert(
      fc.property(contentsArb, contentsArb, depthArb, depthArb, (entries, updates, d1, d2) => {
        const [small, big] = d1 <= d2 ? [d1, d2] : [d2, d1];
        const apply = (tree: MerkleTree): MerkleTree => {
          const map = new Map(entries);
          for (const [key, clock] of updates) {
            const old = map.get(key);
            const bucket = tree.bucketOf(bucketHash(key));
            if (old !== undefined) tree.toggle(bucket, pairHash(key, old));
            tree.toggle(bucket, pairHash(key, clock));
            map.set(key, clock);
          }
          return tree;
        };
        const foldThenUpdate = apply(treeOf(big, entries).fold(small));
        const updateThenFold = apply(treeOf(big, entries)).fold(small);
        expect(foldThenUpdate.equals(updateThenFold)).toBe(true);
        const final = new Map(entries);
        for (const [key, clock] of updates) final.set(key, clock);
        expect(updateThenFold.equals(treeOf(small, final))).toBe(true);
      }),
      { seed: testSeed(8104) },
    );
  });

  it('the descent finds exactly the keys where two replicas differ, in at most depth + 1 rounds (fewer with several levels a round)', () => {
    fc.assert(
      fc.property(contentsArb, fc.array(fc.tuple(fc.nat(), fc.constantFrom('drop', 'bump', 'extra')), { maxLength: 20 }), depthArb, fc.integer({ min: 1, max: 4 }), (entries, edits, depth, levels) => {
        const a = new Map(entries);
        const b = new Map(entries);
        for (const [at, edit] of edits) {
          if (edit === 'extra' || entries.length === 0) b.set(`\u0000extra${at}`, { entries: [{ id: 'n9@z', counter: 1 + (at % 5), values: ['x'] }], anonymous: [] });
          else {
            const [key, clock] = entries[at % entries.length]!;
            if (edit === 'drop') a.delete(key);
            else b.set(key, bumped(clock));
          }
        }
        const ta = treeOf(depth, a);
        const tb = treeOf(depth, b);
        const { buckets, rounds } = differingBuckets(ta, tb, levels);
        const inBuckets = new Set(buckets);
        // Exchange the keys of differing buckets only, then compare their versions.
        const candidates = new Set([...a.keys(), ...b.keys()].filter((k) => inBuckets.has(ta.bucketOf(bucketHash(k)))));
        const found = [...candidates].filter((k) => !a.has(k) || !b.has(k) || clockSummary(a.get(k)!) !== clockSummary(b.get(k)!)).sort();
        expect(found).toEqual(trueDifference(a, b));
        expect(rounds).toBeLessThanOrEqual(Math.ceil(depth / levels) + 1);
        if (found.length === 0) expect(rounds).toBe(1);
      }),
      { seed: testSeed(8105) },
    );
  });
});

describe('a Merkle tree (examples)', () => {
  it('an empty tree has a zero root; a key toggled twice leaves it empty', () => {
    const tree = new MerkleTree(4);
    expect(tree.root).toEqual({ hi: 0, lo: 0 });
    const clock: StoredClock = { entries: [{ id: 'n1@a', counter: 1, values: ['v'] }], anonymous: [] };
    const bucket = tree.bucketOf(bucketHash('k'));
    tree.toggle(bucket, pairHash('k', clock));
    expect(tree.root).not.toEqual({ hi: 0, lo: 0 });
    tree.toggle(bucket, pairHash('k', clock));
    expect(tree.equals(new MerkleTree(4))).toBe(true);
  });

  it('the depth follows the partition size, buckets of about four keys, capped', () => {
    expect(depthFor(0)).toBe(0);
    expect(depthFor(4)).toBe(0);
    expect(depthFor(5)).toBe(1);
    expect(depthFor(1_000)).toBe(8);
    expect(depthFor(100_000)).toBe(15);
    expect(depthFor(10 ** 9)).toBe(MAX_MERKLE_DEPTH);
    expect(depthFor(10, 4, 3)).toBe(3);
  });

  it('descendants lists a frontier’s nodes some levels down, in order', () => {
    expect(descendants([0], 1)).toEqual([1, 2]);
    expect(descendants([1, 2], 1)).toEqual([3, 4, 5, 6]);
    expect(descendants([2], 2)).toEqual([11, 12, 13, 14]);
  });

  it('refuses what it cannot do: a depth out of range, a bucket outside the tree, folding deeper, comparing different depths', () => {
    expect(() => new MerkleTree(-1)).toThrow(/depth/);
    expect(() => new MerkleTree(MAX_MERKLE_DEPTH + 1)).toThrow(/depth/);
    expect(() => new MerkleTree(2).toggle(4, { hi: 1, lo: 1 })).toThrow(/bucket/);
    expect(() => new MerkleTree(2).fold(3)).toThrow(/fold/);
    expect(() => differingBuckets(new MerkleTree(2), new MerkleTree(3))).toThrow(/depth/);
  });

  it('murmur32 matches MurmurHash3 x86_32 on the empty input (its published vectors)', () => {
    expect(murmur32('', 0)).toBe(0);
    expect(murmur32('', 1)).toBe(0x514e28b7);
    expect(murmur32('', 0xffffffff)).toBe(0x81f16f39);
  });

  it('no two of 200 000 distinct (key, version) pairs share a 64-bit hash, and buckets fill evenly', () => {
    const seen = new Set<string>();
    const depth = 8;
    const counts = new Uint32Array(2 ** depth);
    const tree = new MerkleTree(depth);
    for (let i = 0; i < 100_000; i++) {
      for (const counter of [1, 2]) {
        const h = pairHash(`user:${i}`, { entries: [{ id: 'n1@a', counter, values: ['v'] }], anonymous: [] });
        seen.add(`${h.hi}:${h.lo}`);
      }
      counts[tree.bucketOf(bucketHash(`user:${i}`))]!++;
    }
    expect(seen.size).toBe(200_000);
    // 100 000 keys in 256 buckets: ~391 each; a fair hash stays within ±25% (about 6 standard deviations).
    expect(Math.min(...counts)).toBeGreaterThan(391 * 0.75);
    expect(Math.max(...counts)).toBeLessThan(391 * 1.25);
  });
});

describe('the store keeps each partition’s tree', () => {
  it('after any sequence of writes and drops, the tree is the one built from the partition’s keys, at the depth its size asks for (or deeper by one)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 120 }), clockArb, fc.boolean()), { maxLength: 400 }), (ops) => {
        const disk = new Disk();
        const store = openStore(disk, 'disk', 'u1', () => 'e');
        for (const [partition, k, clock, look] of ops) {
          store.put(partition, `k${k}`, clock);
          if (look) store.tree(partition); // built now, then kept up to date
          if (k === 0) store.drop(partition);
        }
        for (const partition of [0, 1, 2]) {
          const entries = store.keys(partition).map((k) => [k, store.get(partition, k)!] as const);
          const tree = store.tree(partition);
          expect(tree.depth).toBeGreaterThanOrEqual(depthFor(entries.length, KEYS_PER_BUCKET) - 1);
          expect(tree.depth).toBeLessThanOrEqual(depthFor(entries.length, KEYS_PER_BUCKET));
          expect(tree.equals(treeOf(tree.depth, entries))).toBe(true);
        }
        // Another actor of the node opening the same store sees the same trees; a restart rebuilds them.
        expect(openStore(disk, 'disk', 'u1', () => 'e').tree(0)).toBe(store.tree(0));
        expect(openStore(disk, 'disk', 'u2', () => 'e').tree(0)).not.toBe(store.tree(0));
      }),
      { seed: testSeed(8107) },
    );
  });
});
