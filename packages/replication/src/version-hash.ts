/**
 * The hashes a Merkle tree (merkle.ts) is built from, pure: a key's bucket hash, and the 64-bit
 * hash of a (key, version) pair.
 *
 * A stored clock is summarised by its entries' `(id, counter, number of values)`: a value's dot is
 * `(id, counter - j)` and a dot names one write, so two replicas with the same summary hold the
 * same values (stores never hold anonymous values), and the values themselves need not be hashed.
 *
 * The hash is MurmurHash3's 32-bit mix (Appleby, public domain) over the string's UTF-16 code
 * units, run with two seeds for 64 bits. Two replicas of a key disagree on the tree only if their
 * pair hashes differ; a difference goes unseen only if two different versions of one key hash
 * equal (2^-64 per pair for a well-mixed 64-bit hash), or if several differing keys in one bucket
 * XOR to zero together (also 2^-64): at a million repairs a day, once in ~5 * 10^10 years. The key
 * hash that picks a bucket is another seed's, independent of the ring's MD5, so the keys of one
 * partition (which share MD5's top bits) spread over every bucket.
 */
import { type Hash64, MerkleTree } from './merkle.ts';
import type { StoredClock } from './store.ts';

const SEED_BUCKET = 0x9747b28c;
const SEED_HI = 0x2f3a1c5d;
const SEED_LO = 0x6b8e4d07;

/** MurmurHash3 x86_32 over a string's UTF-16 code units, two per 32-bit block. */
export function murmur32(s: string, seed: number): number {
  let h = seed >>> 0;
  const n = s.length;
  let i = 0;
  for (; i + 1 < n; i += 2) {
    let k = (s.charCodeAt(i) | (s.charCodeAt(i + 1) << 16)) >>> 0;
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  if (i < n) {
    let k = s.charCodeAt(i);
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
  }
  h ^= n * 2;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The 32-bit hash whose top bits pick a key's bucket. */
export function bucketHash(key: string): number {
  return murmur32(key, SEED_BUCKET);
}

/**
 * What of a clock the tree hashes: each entry's id, counter and number of values, in id order.
 * Each id is prefixed with its length, so no id (whatever characters it holds) can make two
 * different clocks read the same.
 */
export function clockSummary(clock: StoredClock): string {
  let out = '';
  for (const e of clock.entries) out += `${e.id.length}:${e.id}:${e.counter}:${e.values.length};`;
  return out;
}

/** The 64-bit hash of a key at a version: what the tree XORs in for it. */
export function pairHash(key: string, clock: StoredClock): Hash64 {
  const s = `${key.length}:${key}:${clockSummary(clock)}`;
  return { hi: murmur32(s, SEED_HI), lo: murmur32(s, SEED_LO) };
}

/** A tree of `depth` holding every (key, clock) of `entries`: a rebuild from storage. */
export function treeOf(depth: number, entries: Iterable<readonly [string, StoredClock]>): MerkleTree {
  const shift = 32 - depth;
  return MerkleTree.build(depth, (add) => {
    for (const [key, clock] of entries) add(depth === 0 ? 0 : bucketHash(key) >>> shift, pairHash(key, clock));
  });
}
