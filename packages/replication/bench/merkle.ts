/**
 * The Merkle tree's costs (merkle.ts, version-hash.ts), pure, on the main thread.
 *
 * `merkle.pair_hash` (pairs/s, higher is better): the per-key hash of a (key, version) pair, two
 * MurmurHash3 x86_32 runs in JS for 64 bits, against node:crypto's MD5 of the same string (the
 * hash the ring already uses for keys, 128 bits from native code) in the same rounds. The pairs
 * are 100 000 keys `user:<i>` with a one-entry clock, the common case. What chose the hash: it must
 * be at least as fast as the obvious native one, since every write pays it twice (old pair out,
 * new pair in).
 *
 * `merkle.update_per_write` (writes/s, higher is better): what a write costs the tree (the bucket
 * hash, the old and the new pair's hashes, two O(depth) toggles on a tree of depth 15, the size of
 * a 100 000-key partition) against what it costs the in-memory store (a `Map.set` of the clock),
 * in the same rounds.
 *
 * `merkle.rebuild_1m` (ms, lower is better): building the tree of a 1 000 000-key partition
 * (depth 18) from its entries, as after a restart (`treeOf`: pairs XORed into leaves, inner nodes
 * computed once bottom up), against hashing the same pairs without the tree, median of 3 each,
 * interleaved. No goal: the figure says whether a pool (piscina) would be worth
 * it for rebuilds (it would only move this time off the node's thread, not shorten it).
 */
import { createHash } from 'node:crypto';
import { type BenchContext, type BenchGroup, type BenchResult, figureResult, result } from '../../../scripts/bench/types.ts';
import { bucketHash, depthFor, MerkleTree, pairHash, type StoredClock, treeOf } from '../src/index.ts';

const PAIRS = 100_000;
const REBUILD_KEYS = 1_000_000;
const REBUILD_RUNS = 3;

function clockOf(i: number, counter = 1): StoredClock {
  return { entries: [{ id: `n${i % 5}@e${i % 7}`, counter, values: ['v'] }], anonymous: [] };
}

const keys = Array.from({ length: PAIRS }, (_, i) => `user:${i}`);
const clocks = keys.map((_, i) => clockOf(i));

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const pairHashGroup: BenchGroup = {
  ids: ['merkle.pair_hash'],
  async run(ctx: BenchContext): Promise<readonly BenchResult[]> {
    let sink = 0;
    const measured = await ctx.compare([
      {
        name: 'murmur3 x2 (64 bits, JS)',
        initialSize: 10_000,
        async run(size) {
          for (let i = 0; i < size; i++) sink ^= pairHash(keys[i % PAIRS]!, clocks[i % PAIRS]!).lo;
          return size;
        },
      },
      {
        name: 'node:crypto md5 of the same string',
        initialSize: 10_000,
        async run(size) {
          for (let i = 0; i < size; i++) {
            const e = clocks[i % PAIRS]!.entries[0]!;
            const key = keys[i % PAIRS]!;
            sink ^= createHash('md5').update(`${key.length}:${key}:${e.id.length}:${e.id}:${e.counter}:${e.values.length};`).digest().readUInt32BE(0);
          }
          return size;
        },
      },
    ]);
    ctx.log(`  (checksum ${sink})`);
    return [result('merkle.pair_hash', 'pairs/s (higher is better)', measured.get('murmur3 x2 (64 bits, JS)')!, measured.get('node:crypto md5 of the same string')!, { minRatio: 1 })];
  },
};

const updateGroup: BenchGroup = {
  ids: ['merkle.update_per_write'],
  async run(ctx: BenchContext): Promise<readonly BenchResult[]> {
    const tree = treeOf(depthFor(PAIRS), keys.map((k, i) => [k, clocks[i]!] as const));
    const current = [...clocks];
    const store = new Map<string, StoredClock>(keys.map((k, i) => [k, clocks[i]!]));
    ctx.log(`  tree of depth ${tree.depth} over ${PAIRS} keys`);
    let round = 1;
    const measured = await ctx.compare([
      {
        name: 'tree update (bucket hash, two pair hashes, two toggles)',
        initialSize: 10_000,
        async run(size) {
          round++;
          for (let j = 0; j < size; j++) {
            const i = j % PAIRS;
            const key = keys[i]!;
            const next = clockOf(i, round);
            const bucket = tree.bucketOf(bucketHash(key));
            tree.toggle(bucket, pairHash(key, current[i]!));
            tree.toggle(bucket, pairHash(key, next));
            current[i] = next;
          }
          return size;
        },
      },
      {
        name: 'the store write (Map.set of the clock)',
        initialSize: 10_000,
        async run(size) {
          round++;
          for (let j = 0; j < size; j++) {
            const i = j % PAIRS;
            store.set(keys[i]!, clockOf(i, round));
          }
          return size;
        },
      },
    ]);
    return [result('merkle.update_per_write', 'writes/s (higher is better)', measured.get('tree update (bucket hash, two pair hashes, two toggles)')!, measured.get('the store write (Map.set of the clock)')!)];
  },
};

const rebuildGroup: BenchGroup = {
  ids: ['merkle.rebuild_1m'],
  async run(ctx: BenchContext): Promise<readonly BenchResult[]> {
    const entries: [string, StoredClock][] = Array.from({ length: REBUILD_KEYS }, (_, i) => [`user:${i}`, clockOf(i)]);
    const depth = depthFor(REBUILD_KEYS);
    const built: number[] = [];
    const hashed: number[] = [];
    let sink = 0;
    for (let r = 0; r < REBUILD_RUNS; r++) {
      let t0 = performance.now();
      const tree: MerkleTree = treeOf(depth, entries);
      built.push(performance.now() - t0);
      sink ^= tree.root.lo;
      t0 = performance.now();
      for (const [key, clock] of entries) sink ^= pairHash(key, clock).lo;
      hashed.push(performance.now() - t0);
    }
    ctx.log(`  depth ${depth}; rebuild ${built.map((x) => x.toFixed(0)).join(' ')} ms, hashes alone ${hashed.map((x) => x.toFixed(0)).join(' ')} ms (checksum ${sink})`);
    return [figureResult('merkle.rebuild_1m', 'ms (lower is better)', { name: 'tree rebuild, 1 M keys', value: median(built) }, { name: 'the same pair hashes, no tree', value: median(hashed) })];
  },
};

export const merkleBenchmarks: readonly BenchGroup[] = [pairHashGroup, updateGroup, rebuildGroup];
